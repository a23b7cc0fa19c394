//! A progress line on standard error for big uploads, when it is a terminal.

use crate::TOOL;
use std::io::{IsTerminal, Write};

/// The progress of one file; silent when stderr is not a terminal.
#[derive(Debug)]
pub struct Progress {
    name: String,
    total: u64,
    done: u64,
    shown: bool,
}

impl Progress {
    pub fn new(name: &str, total: u64) -> Progress {
        Progress {
            name: name.to_string(),
            total,
            done: 0,
            shown: std::io::stderr().is_terminal(),
        }
    }

    pub fn advance(&mut self, bytes: u64) {
        self.done += bytes;
        if self.shown {
            let percent = self.done * 100 / self.total.max(1);
            let _ = write!(
                std::io::stderr().lock(),
                "\r{TOOL}: {}: {} of {} ({percent}%)",
                self.name,
                megabytes(self.done),
                megabytes(self.total)
            );
        }
    }

    pub fn finish(&mut self) {
        if self.shown {
            let _ = writeln!(std::io::stderr().lock());
            self.shown = false;
        }
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
