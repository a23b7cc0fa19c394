//! One error type for every tool, carrying its sysexits exit code.

use std::fmt;
use std::io;

/// The exit codes every tool shares (sysexits.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Ok = 0,
    /// 64: bad flags or arguments.
    Usage = 64,
    /// 65: malformed or invalid input data.
    Data = 65,
    /// 66: an input file is missing or unreadable.
    NoInput = 66,
    /// 69: the remote refused for good.
    Unavailable = 69,
    /// 70: a bug in the tool.
    Software = 70,
    /// 74: reading or writing a local file or stream failed (disk full, I/O error).
    Io = 74,
    /// 75: temporary failure; rerun later.
    TempFail = 75,
    /// 77: not allowed (authentication, host key, TLS verification).
    NoPerm = 77,
    /// 78: configuration missing or bad.
    Config = 78,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// A few words for the one-line exit summary of `--help`.
    pub fn label(self) -> &'static str {
        match self {
            Exit::Ok => "done",
            Exit::Usage => "usage",
            Exit::Data => "bad data",
            Exit::NoInput => "missing input",
            Exit::Unavailable => "refused",
            Exit::Software => "bug",
            Exit::Io => "I/O error",
            Exit::TempFail => "retry later",
            Exit::NoPerm => "not allowed",
            Exit::Config => "configuration",
        }
    }

    /// Every code with its meaning, for the EXIT STATUS section of man pages.
    pub const TABLE: &'static [(Exit, &'static str)] = &[
        (Exit::Ok, "Done."),
        (
            Exit::Usage,
            "Usage error: bad flags or arguments. Fix the command.",
        ),
        (
            Exit::Data,
            "Data error: malformed or invalid input. The message names the file, row and column, never the value. Fix the input.",
        ),
        (
            Exit::NoInput,
            "An input file is missing or unreadable. Fix the path.",
        ),
        (
            Exit::Unavailable,
            "The remote refused for good, or a batch command was rejected. Look at it.",
        ),
        (Exit::Software, "A bug in the tool. Report it."),
        (
            Exit::Io,
            "Writing or reading a local file or stream failed (disk full, I/O error). Nothing half-written is left under a final name.",
        ),
        (
            Exit::TempFail,
            "Temporary failure, or another run holds the lock. Nothing half-done is left behind. Rerun later.",
        ),
        (
            Exit::NoPerm,
            "Not allowed: authentication failed, host key mismatch, TLS verification failed.",
        ),
        (
            Exit::Config,
            "Configuration: a required environment variable is missing, or a config file is bad.",
        ),
    ];
}

/// What went wrong, with the exit code it maps to.
///
/// The message never carries record content: constructors take a location
/// (file, row, column) and a description, not the offending value.
pub struct Error {
    exit: Exit,
    message: String,
    broken_pipe: bool,
    /// The exact status to exit with, when it is passed through from a
    /// command the tool ran (batch-split --exec) rather than one of ours.
    status: Option<i32>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Error {
            exit,
            message: message.into(),
            broken_pipe: false,
            status: None,
        }
    }

    /// A failure of a command the tool ran, exiting with that command's own
    /// status (which may be any code, not only the shared ones), so that a
    /// caller sees what the command said.
    pub fn passthrough(status: i32, message: impl Into<String>) -> Self {
        let exit = Exit::TABLE
            .iter()
            .map(|(exit, _)| *exit)
            .find(|exit| exit.code() == status)
            .unwrap_or(Exit::Unavailable);
        Error {
            status: Some(status),
            ..Self::new(exit, message)
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(Exit::Data, message)
    }
    pub fn no_input(message: impl Into<String>) -> Self {
        Self::new(Exit::NoInput, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Exit::Config, message)
    }
    pub fn temp_fail(message: impl Into<String>) -> Self {
        Self::new(Exit::TempFail, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Exit::Unavailable, message)
    }
    pub fn software(message: impl Into<String>) -> Self {
        Self::new(Exit::Software, message)
    }

    /// A data error at a place in an input: `FILE: row N, column "C": what`.
    pub fn data_at(at: &Location, what: impl fmt::Display) -> Self {
        Self::data(format!("{at}: {what}"))
    }

    /// An I/O error while doing `what` (e.g. "writing out.csv").
    /// A broken pipe is kept recognisable so that `main` can exit quietly.
    pub fn io(what: impl fmt::Display, err: io::Error) -> Self {
        let broken_pipe = err.kind() == io::ErrorKind::BrokenPipe;
        let exit = match err.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => Exit::NoInput,
            _ => Exit::Io,
        };
        Error {
            broken_pipe,
            ..Self::new(exit, format!("{what}: {}", describe_io(&err)))
        }
    }

    /// An I/O error while writing output: never "missing input", whatever the kind.
    pub fn write(what: impl fmt::Display, err: io::Error) -> Self {
        let mut e = Self::io(what, err);
        if e.exit == Exit::NoInput {
            e.exit = Exit::Io;
        }
        e
    }

    /// The shared meaning of the failure (for a passed-through status that
    /// is not one of ours, `Unavailable`).
    pub fn exit(&self) -> Exit {
        self.exit
    }
    /// The status the process exits with.
    pub fn code(&self) -> i32 {
        self.status.unwrap_or(self.exit.code())
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }

    /// Put context in front of the message: `context: message`.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

/// `std::io::Error`'s Display adds " (os error 2)"; people do not need it.
fn describe_io(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::io("I/O error", err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}: {})", self.exit.code(), self.message)
    }
}

impl std::error::Error for Error {}

/// The longest name from the data (a column name, a key) that a message
/// prints, in bytes; a longer one is named by its position.
pub const MAX_SHOWN_NAME: usize = 128;

/// Whether a name that comes from the data may be printed in a message:
/// short, and without a control character (a runaway quoted header holds
/// line breaks and the rows after it). Otherwise it is named by position.
pub fn shows_name(name: &str) -> bool {
    name.len() <= MAX_SHOWN_NAME && !name.chars().any(char::is_control)
}

/// A column (or key) as a message names it: `column "dob"`, or by its
/// position, `column 3`, when the name is not one to print ([`shows_name`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// A name alone: printed only when it shows.
    Name(String),
    /// The column at this index (from 0) of its header or record, with its name.
    At(usize, String),
    /// The column at this index (from 0), with no name to print.
    Position(usize),
}

impl Column {
    /// The column at `index` (from 0) named `name` in the data.
    pub fn at(index: usize, name: &str) -> Self {
        Column::At(index, name.to_string())
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Name(name) | Column::At(_, name) if shows_name(name) => {
                write!(f, "column {name:?}")
            }
            Column::At(index, _) | Column::Position(index) => write!(f, "column {}", index + 1),
            Column::Name(_) => f.write_str("a column whose name is too long or not printable"),
        }
    }
}

/// Where in an input something was found. Rows count the header as row 1
/// for CSV (as a spreadsheet shows it) and lines from 1 for NDJSON.
#[derive(Clone, Debug, Default)]
pub struct Location {
    pub file: String,
    pub row: Option<u64>,
    pub column: Option<Column>,
    /// "line" for NDJSON, "row" for CSV.
    pub unit: &'static str,
}

impl Location {
    pub fn file(file: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            row: None,
            column: None,
            unit: "row",
        }
    }
    pub fn row(file: impl Into<String>, row: u64) -> Self {
        Location {
            row: Some(row),
            ..Self::file(file)
        }
    }
    pub fn line(file: impl Into<String>, line: u64) -> Self {
        Location {
            row: Some(line),
            unit: "line",
            ..Self::file(file)
        }
    }
    /// A column by name: a name the user gave (a flag), or one from the
    /// data whose position is not known (printed only when it shows).
    pub fn column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(Column::Name(column.into()));
        self
    }
    /// The column at `index` (from 0) of a header or record, named `name`
    /// in the data: by name when it shows, else by position.
    pub fn field(mut self, index: usize, name: &str) -> Self {
        self.column = Some(Column::at(index, name));
        self
    }
    /// The column at `index` (from 0), by position.
    pub fn position(mut self, index: usize) -> Self {
        self.column = Some(Column::Position(index));
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(row) = self.row {
            write!(f, ": {} {row}", self.unit)?;
        }
        if let Some(column) = &self.column {
            let sep = if self.row.is_some() { ", " } else { ": " };
            write!(f, "{sep}{column}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_formats_file_row_and_column() {
        let at = Location::row("in.csv", 12).column("dob");
        assert_eq!(at.to_string(), "in.csv: row 12, column \"dob\"");
        assert_eq!(Location::line("-", 3).to_string(), "-: line 3");
        assert_eq!(
            Location::file("a.csv").column("x").to_string(),
            "a.csv: column \"x\""
        );
    }

    #[test]
    fn a_name_from_the_data_shows_only_when_short_and_printable() {
        let long = "n".repeat(MAX_SHOWN_NAME + 1);
        let cases: &[(Location, &str)] = &[
            (
                Location::row("in.csv", 1).field(2, "ssn"),
                "in.csv: row 1, column \"ssn\"",
            ),
            (
                Location::row("in.csv", 1).field(2, "ssn\n1,Sam"),
                "in.csv: row 1, column 3",
            ),
            (
                Location::row("in.csv", 1).field(0, "a\tb"),
                "in.csv: row 1, column 1",
            ),
            (
                Location::row("in.csv", 1).field(4, &long),
                "in.csv: row 1, column 5",
            ),
            (
                Location::row("in.csv", 1).field(4, &long[1..]),
                &format!("in.csv: row 1, column \"{}\"", &long[1..]),
            ),
            (Location::line("-", 2).position(9), "-: line 2, column 10"),
            (
                Location::line("-", 2).column("x\ry"),
                "-: line 2, a column whose name is too long or not printable",
            ),
        ];
        for (at, want) in cases {
            assert_eq!(at.to_string(), *want);
        }
    }

    #[test]
    fn io_errors_map_to_exit_codes() {
        let e = Error::io("opening x", io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(e.code(), 66);
        assert!(!e.message().contains("os error"));
        let e = Error::write(
            "writing x",
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert_eq!(e.code(), 74);
        let e = Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(e.is_broken_pipe());
    }

    #[test]
    fn passthrough_keeps_any_status() {
        assert_eq!(Error::passthrough(3, "batch 2 failed").code(), 3);
        assert_eq!(Error::passthrough(143, "killed").code(), 143);
        let e = Error::passthrough(75, "retry");
        assert_eq!((e.code(), e.exit()), (75, Exit::TempFail));
    }
}
