//! The filter runs in a child process of json-map, so that no filter ends
//! the run by a signal.
//!
//! jaq recurses without a bound (`def f: [f]; f`, or a value built 100,000
//! levels deep and then printed), Rust aborts the process when a thread
//! overflows its stack, and no Rust code can catch that. So json-map starts
//! itself again as a child with [`MARKER`] set to its pid, sharing stdin and
//! stdout (no data passes through the parent), and reads the child's stderr
//! line by line: each line is passed on as it is, except the runtime's own
//! lines when the child dies by a signal, which become one `json-map: error:`
//! line and an exit code cron can act on.

use common::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt, parent_id};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// Set to the parent's pid in the child's environment; `env` and `$ENV`
/// leave it out.
pub const MARKER: &str = "JSON_MAP_CHILD";

/// How often the child checks that its parent still runs.
const PARENT_CHECK: Duration = Duration::from_millis(100);

/// In the parent, run json-map again as a child and return the code to exit
/// with. In the child, or when no child can be started, `None`: run here.
pub fn run_in_child() -> Option<i32> {
    if let Some(parent) = started_by_parent() {
        watch_parent(parent);
        return None;
    }
    let child = spawn_child().ok()?;
    Some(supervise(child))
}

/// The parent's pid, when this process is the child it started.
fn started_by_parent() -> Option<u32> {
    let marker = std::env::var(MARKER).ok()?;
    let parent = marker.parse().ok()?;
    (parent == parent_id()).then_some(parent)
}

/// End the child soon after its parent is gone (killed alone, by pid),
/// rather than let it run on unwatched.
fn watch_parent(parent: u32) {
    let watch = move || {
        loop {
            std::thread::sleep(PARENT_CHECK);
            if parent_id() != parent {
                // As if the signal that ended the parent had reached it.
                std::process::exit(128 + SIGTERM);
            }
        }
    };
    let _ = std::thread::Builder::new()
        .name("json-map-parent-watch".to_string())
        .stack_size(64 << 10)
        .spawn(watch);
}

fn spawn_child() -> std::io::Result<Child> {
    let mut args = std::env::args_os();
    let mut command = Command::new(std::env::current_exe()?);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    command
        .args(args)
        .env(MARKER, std::process::id().to_string())
        .stderr(Stdio::piped())
        .spawn()
}

/// Pass the child's stderr on, wait for it, and say how it ended.
fn supervise(mut child: Child) -> i32 {
    let held = match child.stderr.take() {
        Some(stderr) => forward_lines(stderr, &mut std::io::stderr()),
        None => Vec::new(),
    };
    match child.wait() {
        Ok(status) => {
            let (code, error) = ending(status, &held);
            match error {
                Some(error) => common::cli::report("json-map", &error),
                None => write_all(&mut std::io::stderr(), &held),
            }
            code
        }
        Err(e) => {
            common::cli::report(
                "json-map",
                &Error::software(format!("cannot wait for the filter's process: {e}")),
            );
            Error::software("").code()
        }
    }
}

/// Copy `from` to `to` line by line until end of file. From the first line
/// that the Rust runtime writes as a thread dies (a stack overflow or a
/// panic, with the blank line before it) everything is held back instead,
/// and returned: the caller writes it only if the child exits normally.
pub fn forward_lines(from: impl Read, to: &mut impl Write) -> Vec<u8> {
    let mut reader = BufReader::with_capacity(64 << 10, from);
    let mut line = Vec::new();
    let mut blank = Vec::new();
    let mut held = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if !held.is_empty() {
            held.extend_from_slice(&line);
        } else if line == b"\n" {
            blank.extend_from_slice(&line);
        } else if is_runtime_line(&line) {
            held.append(&mut blank);
            held.extend_from_slice(&line);
        } else {
            write_all(to, &blank);
            blank.clear();
            write_all(to, &line);
        }
    }
    write_all(to, &blank);
    held
}

/// `thread 'NAME' (TID) has overflowed its stack`, `thread 'NAME' (TID)
/// panicked at FILE:LINE:COLUMN:`.
fn is_runtime_line(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    text.starts_with("thread '")
        && (text.contains(" has overflowed its stack") || text.contains(" panicked at "))
}

fn write_all(to: &mut impl Write, bytes: &[u8]) {
    if !bytes.is_empty() {
        // A closed stderr must not stop the copy: the child would block.
        let _ = to.write_all(bytes);
    }
}

const SIGTERM: i32 = 15;
const SIGPIPE: i32 = 13;

/// Signals a process gets from its own faults (or abort); any other one was
/// sent from outside.
const FAULTS: &[i32] = &[
    4,  // SIGILL
    5,  // SIGTRAP
    6,  // SIGABRT
    7,  // SIGBUS
    8,  // SIGFPE
    11, // SIGSEGV
    31, // SIGSYS
];

/// The exit code for how the child ended, and the one line to say, if any.
pub fn ending(status: ExitStatus, held: &[u8]) -> (i32, Option<Error>) {
    let Some(signal) = status.signal() else {
        return (status.code().unwrap_or(0), None);
    };
    let held = String::from_utf8_lossy(held);
    if FAULTS.contains(&signal) && held.contains(" has overflowed its stack") {
        let error = Error::data(
            "the filter ran out of stack (a recursion without end, or a value nested \
             hundreds of thousands of levels deep); the run stopped at that record: nothing \
             of it or after it was written, and results just before it may be missing",
        );
        return (error.code(), Some(error));
    }
    if signal == SIGPIPE {
        // A broken pipe ends a tool quietly with 0.
        return (0, None);
    }
    let name = signal_name(signal);
    if FAULTS.contains(&signal) {
        let error = Error::software(format!(
            "the filter's process ended by {name}: a bug in json-map (please report it)"
        ));
        return (error.code(), Some(error));
    }
    let code = 128 + signal;
    let error = Error::passthrough(
        code,
        format!(
            "the filter's process was ended by {name} from outside; the output may stop at any record"
        ),
    );
    (code, Some(error))
}

fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OVERFLOW: &str = "\nthread 'json-map-worker-0' (4711) has overflowed its stack\n\
                            fatal runtime error: stack overflow, aborting\n";
    const PANIC: &str = "thread 'main' (4711) panicked at src/x.rs:1:2:\nboom\n\
                         note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";

    fn forwarded(stderr: &str) -> (String, String) {
        let mut out = Vec::new();
        let held = forward_lines(stderr.as_bytes(), &mut out);
        (
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&held).into_owned(),
        )
    }

    #[test]
    fn lines_pass_on_until_the_runtime_speaks() {
        let warning = "json-map: warning: in.ndjson: line 2: filter error\n";
        for (stderr, passed, held) in [
            (warning.to_string(), warning.to_string(), String::new()),
            ("\n\na\n".to_string(), "\n\na\n".to_string(), String::new()),
            (
                "no newline".to_string(),
                "no newline".to_string(),
                String::new(),
            ),
            (
                format!("{warning}{OVERFLOW}"),
                warning.to_string(),
                OVERFLOW.to_string(),
            ),
            (
                format!("{PANIC}{warning}"),
                String::new(),
                format!("{PANIC}{warning}"),
            ),
        ] {
            assert_eq!(forwarded(&stderr), (passed, held), "{stderr:?}");
        }
    }

    #[test]
    fn how_the_child_ended_gives_the_exit_code() {
        let exited = |code: i32| ExitStatus::from_raw(code << 8);
        let signalled = ExitStatus::from_raw;
        for (status, held, code, says) in [
            (exited(0), "", 0, None),
            (exited(65), "", 65, None),
            (exited(5), "", 5, None),
            (exited(101), PANIC, 101, None),
            (
                signalled(6),
                OVERFLOW,
                65,
                Some("the filter ran out of stack"),
            ),
            (
                signalled(11),
                OVERFLOW,
                65,
                Some("the filter ran out of stack"),
            ),
            (signalled(6), PANIC, 70, Some("ended by SIGABRT: a bug")),
            (signalled(6), "", 70, Some("ended by SIGABRT: a bug")),
            (signalled(11), "", 70, Some("ended by SIGSEGV: a bug")),
            (
                signalled(15),
                "",
                143,
                Some("ended by SIGTERM from outside"),
            ),
            (
                signalled(9),
                OVERFLOW,
                137,
                Some("ended by SIGKILL from outside"),
            ),
            (signalled(2), "", 130, Some("ended by SIGINT from outside")),
            (signalled(1), "", 129, Some("ended by SIGHUP from outside")),
            (signalled(13), "", 0, None),
        ] {
            let (got, error) = ending(status, held.as_bytes());
            assert_eq!(got, code, "{status:?}");
            match (error, says) {
                (None, None) => {}
                (Some(error), Some(says)) => {
                    assert!(
                        error.message().contains(says),
                        "{status:?}: {}",
                        error.message()
                    );
                    assert_eq!(error.code(), code, "{status:?}");
                }
                (error, says) => panic!(
                    "{status:?}: {:?} / {says:?}",
                    error.map(|e| e.message().to_string())
                ),
            }
        }
    }
}
