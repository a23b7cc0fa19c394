//! A progress line on standard error for big uploads, when it is a terminal.

use crate::TOOL;
use common::progress::ProgressLine;

/// The progress of one file; silent when stderr is not a terminal.
#[derive(Debug)]
pub struct Progress {
    name: String,
    total: u64,
    done: u64,
    line: ProgressLine,
}

impl Progress {
    pub fn new(name: &str, total: u64) -> Progress {
        Progress {
            name: name.to_string(),
            total,
            done: 0,
            line: ProgressLine::new(TOOL),
        }
    }

    pub fn advance(&mut self, bytes: u64) {
        self.done += bytes;
        let (name, done, total) = (&self.name, self.done, self.total);
        self.line.show(|| {
            let percent = done * 100 / total.max(1);
            format!(
                "{name}: {} of {} ({percent}%)",
                megabytes(done),
                megabytes(total)
            )
        });
    }

    pub fn finish(&mut self) {
        self.line.finish();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
