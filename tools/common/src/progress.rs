//! A progress line on standard error, shown only when it is a terminal:
//! `\rtool: text` rewritten in place, then kept or erased at the end.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// One progress line. Silent when stderr is not a terminal.
#[derive(Debug)]
pub struct ProgressLine {
    tool: &'static str,
    on: bool,
    interval: Duration,
    last: Option<Instant>,
    shown: bool,
    erase: bool,
}

impl ProgressLine {
    /// A line that shows every update and ends with a newline, so that the
    /// last state stays on the terminal.
    pub fn new(tool: &'static str) -> ProgressLine {
        ProgressLine {
            tool,
            on: std::io::stderr().is_terminal(),
            interval: Duration::ZERO,
            last: None,
            shown: false,
            erase: false,
        }
    }

    /// Show at most one update per `interval`.
    pub fn at_most_every(mut self, interval: Duration) -> ProgressLine {
        self.interval = interval;
        self
    }

    /// Show nothing before `interval` has passed, so that a short run
    /// shows no line at all.
    pub fn after_the_first_interval(mut self) -> ProgressLine {
        self.last = Some(Instant::now());
        self
    }

    /// Erase the line at the end instead of keeping it.
    pub fn erased_at_end(mut self) -> ProgressLine {
        self.erase = true;
        self
    }

    /// Whether an update now would be shown.
    pub fn due(&self) -> bool {
        self.on && self.last.is_none_or(|t| t.elapsed() >= self.interval)
    }

    /// Show `text` (built only when it is shown) when an update is due.
    pub fn show(&mut self, text: impl FnOnce() -> String) {
        if !self.due() {
            return;
        }
        self.last = Some(Instant::now());
        self.shown = true;
        let _ = write!(std::io::stderr().lock(), "\r{}: {}", self.tool, text());
    }

    /// End the line (a newline, or erase it), once, if anything was shown.
    pub fn finish(&mut self) {
        if self.shown {
            let end = if self.erase { "\r\x1b[K" } else { "\n" };
            let _ = write!(std::io::stderr().lock(), "{end}");
            self.shown = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_off_a_terminal_is_never_due() {
        let mut line = ProgressLine {
            on: false,
            ..ProgressLine::new("t")
        };
        assert!(!line.due());
        line.show(|| unreachable!("built only when shown"));
        line.finish();
        assert!(!line.shown);
    }

    #[test]
    fn updates_are_due_once_per_interval() {
        let on = |line: ProgressLine| ProgressLine { on: true, ..line };
        let line = on(ProgressLine::new("t"));
        assert!(line.due());
        let every = on(ProgressLine::new("t").at_most_every(Duration::from_secs(3600)));
        assert!(every.due(), "the first update is shown at once");
        let later = on(ProgressLine::new("t")
            .at_most_every(Duration::from_secs(3600))
            .after_the_first_interval());
        assert!(!later.due(), "nothing before the first interval");
    }
}
