//! The `main` glue every tool shares: parse flags, run, report, exit.

use crate::doc::ToolDoc;
use crate::error::{Error, Exit, Result};
use clap::{ArgMatches, Command};
use std::io::Write;

/// Run a tool and exit with its code. A tool's `main.rs` is one call:
/// `common::cli::main(csv_shape::command(), csv_shape::run)`.
pub fn main(command: Command, run: fn(&ArgMatches) -> Result<()>) -> ! {
    std::process::exit(run_to_code(command, run, std::env::args_os()))
}

/// Like [`main`] but returns the exit code, for tests.
pub fn run_to_code<I, T>(command: Command, run: fn(&ArgMatches) -> Result<()>, args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let name = command.get_name().to_string();
    let matches = match command.try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind;
            let code = match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => Exit::Usage.code(),
            };
            // clap prints to stdout for help and stderr for errors.
            let _ = e.print();
            return code;
        }
    };
    match run(&matches) {
        Ok(()) => 0,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            report(&name, &e);
            e.code()
        }
    }
}

/// Print `tool: error: message` on stderr, on one line.
pub fn report(tool: &str, err: &Error) {
    let message = err.message().replace(['\n', '\r'], " ");
    let _ = writeln!(std::io::stderr().lock(), "{tool}: error: {message}");
}

/// Print `tool: warning: message` on stderr, on one line.
pub fn warn(tool: &str, message: impl std::fmt::Display) {
    let message = message.to_string().replace(['\n', '\r'], " ");
    let _ = writeln!(std::io::stderr().lock(), "{tool}: warning: {message}");
}

/// Print `tool: message` on stderr, on one line: a summary, or something
/// worth knowing that is not a problem.
pub fn info(tool: &str, message: impl std::fmt::Display) {
    let message = message.to_string().replace(['\n', '\r'], " ");
    let _ = writeln!(std::io::stderr().lock(), "{tool}: {message}");
}

/// Add the examples and the exit summary of a tool's documentation to its
/// `--help`, so that help and the man page say the same from one source.
pub fn with_doc(command: Command, doc: &ToolDoc) -> Command {
    let mut text = String::from("Examples:\n");
    for example in doc.examples {
        text.push_str(&format!("  # {}\n  {}\n\n", example.what, example.command));
    }
    text.push_str(&exit_summary(doc));
    command.after_help(text)
}

/// `Exit status: 0 done, 64 usage, ...` for the codes the tool can give
/// (its `exit_codes`, then its own statuses), in one line.
pub fn exit_summary(doc: &ToolDoc) -> String {
    let mut codes = vec![Exit::Ok];
    codes.extend(
        Exit::TABLE
            .iter()
            .map(|(exit, _)| *exit)
            .filter(|exit| *exit != Exit::Ok && doc.exit_codes.contains(exit)),
    );
    let mut parts: Vec<String> = codes
        .iter()
        .map(|exit| format!("{} {}", exit.code(), exit.label()))
        .collect();
    parts.extend(
        doc.other_exit_status
            .iter()
            .map(|(status, _)| status.to_string()),
    );
    format!(
        "Exit status: {}. See man {}(1).",
        parts.join(", "),
        doc.name
    )
}

/// Parse a `NAME=VALUE` pair, for repeatable flags such as `--rename old=new`.
pub fn parse_pair(flag: &str, text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(Error::usage(format!(
            "{flag} takes NAME=VALUE, got an argument without '=' or without a name"
        ))),
    }
}

/// Split a comma-separated list of names, trimming spaces; empty items are a usage error.
pub fn parse_list(flag: &str, text: &str) -> Result<Vec<String>> {
    let items: Vec<String> = text.split(',').map(|s| s.trim().to_string()).collect();
    if items.iter().any(String::is_empty) {
        return Err(Error::usage(format!(
            "{flag} has an empty name in its list"
        )));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_lists() {
        assert_eq!(
            parse_pair("--rename", "a=b").unwrap_or_default(),
            ("a".into(), "b".into())
        );
        assert!(parse_pair("--rename", "ab").is_err());
        assert!(parse_pair("--rename", "=b").is_err());
        assert_eq!(
            parse_list("--select", "a, b,c").unwrap_or_default(),
            vec!["a", "b", "c"]
        );
        assert_eq!(
            parse_list("--select", "a,,c").map_err(|e| e.code()),
            Err(64)
        );
    }

    #[test]
    fn exit_summary_lists_only_the_tools_codes() {
        let doc = ToolDoc {
            name: "t",
            description: &[],
            examples: &[],
            environment: &[],
            auth: &[],
            security: &[],
            exit_codes: &[Exit::Data, Exit::Usage, Exit::Io],
            other_exit_status: &[("5 (or N)", "halt_error")],
            broken_pipe: None,
            see_also: &[],
        };
        assert_eq!(
            exit_summary(&doc),
            "Exit status: 0 done, 64 usage, 65 bad data, 74 I/O error, 5 (or N). See man t(1)."
        );
    }

    #[test]
    fn usage_errors_exit_64_and_help_exits_0() {
        let cmd = || Command::new("t").arg(clap::Arg::new("x").long("x").required(true));
        assert_eq!(run_to_code(cmd(), |_| Ok(()), ["t"]), 64);
        assert_eq!(run_to_code(cmd(), |_| Ok(()), ["t", "--help"]), 0);
        assert_eq!(run_to_code(cmd(), |_| Ok(()), ["t", "--x", "1"]), 0);
        assert_eq!(
            run_to_code(cmd(), |_| Err(Error::data("bad")), ["t", "--x", "1"]),
            65
        );
        let pipe = |_: &ArgMatches| -> Result<()> {
            Err(Error::from(std::io::Error::from(
                std::io::ErrorKind::BrokenPipe,
            )))
        };
        assert_eq!(run_to_code(cmd(), pipe, ["t", "--x", "1"]), 0);
    }
}
