//! A Workdir for the tools' integration tests: a fresh directory per test,
//! files created in it, the tool run inside it with assert_cmd.

use std::fs;
use std::path::{Path, PathBuf};

/// A fresh directory and the binary under test.
#[derive(Debug)]
pub struct Workdir {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Workdir {
    /// `bin` is the path cargo gives the test: `env!("CARGO_BIN_EXE_csv-shape")`.
    pub fn new(bin: &str) -> Workdir {
        let dir = tempfile::Builder::new()
            .prefix("workdir-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a test directory: {e}"));
        Workdir {
            dir,
            bin: PathBuf::from(bin),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Create a file (and its parent folders) with the given content.
    pub fn create(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        fs::write(&path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Copy a fixture from the project's `tests/fixtures/` into the workdir.
    pub fn fixture(&self, relative: &str) -> PathBuf {
        let source = fixtures_dir().join(relative);
        let bytes =
            fs::read(&source).unwrap_or_else(|e| panic!("fixture {}: {e}", source.display()));
        let name = Path::new(relative)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.create(&name, bytes)
    }

    pub fn read(&self, name: &str) -> String {
        let path = self.path(name);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// The tool, run in the workdir. It inherits the test's environment as
    /// it is: a test that must not see the caller's variables removes them
    /// (see [`HTTP_VARS`] and [`BOX_VARS`]) or sets its own.
    pub fn command(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(&self.bin);
        cmd.current_dir(self.dir.path());
        cmd
    }

    /// The tool's name, as its messages start.
    pub fn tool(&self) -> String {
        self.bin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Run and expect exit 0; the stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self
            .run(args)
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(out.status.success(), "{args:?} failed: {}", stderr_of(&out));
        stdout_of(&out)
    }

    /// Run with `stdin` and expect exit 0; the stdout.
    pub fn ok_stdin(&self, args: &[&str], stdin: impl AsRef<[u8]>) -> String {
        let out = self
            .run(args)
            .write_stdin(stdin.as_ref().to_vec())
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(out.status.success(), "{args:?} failed: {}", stderr_of(&out));
        stdout_of(&out)
    }

    /// Run and expect exit `code`; the stderr, checked to be one
    /// `tool: error: ...` line.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        self.fails_with_stdout(args, code).1
    }

    /// Run with `stdin` and expect exit `code`; the stderr, checked as
    /// [`Workdir::fails`] checks it.
    pub fn fails_stdin(&self, args: &[&str], stdin: impl AsRef<[u8]>, code: i32) -> String {
        let out = self
            .run(args)
            .write_stdin(stdin.as_ref().to_vec())
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        self.expect_failure(args, &out, code).1
    }

    /// Like [`Workdir::fails`], also giving what reached stdout first.
    pub fn fails_with_stdout(&self, args: &[&str], code: i32) -> (String, String) {
        let out = self
            .run(args)
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        self.expect_failure(args, &out, code)
    }

    /// `out` ended with `code` and one `tool: error: ...` line on stderr
    /// without the sentinel; its stdout and stderr.
    fn expect_failure(
        &self,
        args: &[&str],
        out: &std::process::Output,
        code: i32,
    ) -> (String, String) {
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: stdout {} stderr {}",
            stdout_of(out),
            stderr_of(out)
        );
        let err = stderr_of(out);
        assert!(
            err.starts_with(&format!("{}: error: ", self.tool())),
            "{err}"
        );
        assert_one_line_without(&err, &[SENTINEL]);
        (stdout_of(out), err)
    }

    /// Run with `stdin` as a hostile run: checked with [`assert_contained`]
    /// against the codes `doc` documents; the exit code and the stderr.
    pub fn run_contained(
        &self,
        args: &[&str],
        stdin: &[u8],
        doc: &crate::doc::ToolDoc,
    ) -> (i32, String) {
        let out = self
            .run(args)
            .write_stdin(stdin.to_vec())
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_contained(&out, &documented_codes(doc), &format!("{args:?}"));
        (out.status.code().unwrap_or(-1), stderr_of(&out))
    }

    /// The tool with arguments.
    pub fn run<I, S>(&self, args: I) -> assert_cmd::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.command();
        cmd.args(args);
        cmd
    }
}

/// What a run of a tool gave, for tests that check the exit code
/// themselves or look at stdout and stderr together.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Run `cmd` to its end.
    pub fn of(cmd: &mut assert_cmd::Command) -> Run {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: stdout_of(&out),
            stderr: stderr_of(&out),
        };
        assert_no_sentinel(&run.stderr);
        run
    }

    /// The NDJSON lines of stdout.
    pub fn values(&self) -> Vec<serde_json::Value> {
        ndjson_values(&self.stdout)
    }
}

/// What the HTTP tools (http-get, http-post) read from the environment
/// besides the variables their flags name: credentials, proxies, and where
/// the system's CA certificates are. Their tests remove these from the
/// tool's environment, so that each test sets only what it means to.
pub const HTTP_VARS: &[&str] = &[
    "HTTP_USER",
    "HTTP_PASSWORD",
    "HTTP_TOKEN",
    "HTTP_USER_FILE",
    "HTTP_PASSWORD_FILE",
    "HTTP_TOKEN_FILE",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "https_proxy",
    "http_proxy",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// What the Box tools (box-put, box-get) read from the environment: their
/// tests remove these from the tool's environment, with [`HTTP_VARS`].
pub const BOX_VARS: &[&str] = &[
    "BOX_CONFIG",
    "BOX_CLIENT_ID",
    "BOX_CLIENT_SECRET",
    "BOX_CLIENT_SECRET_FILE",
    "BOX_SUBJECT_TYPE",
    "BOX_SUBJECT_ID",
    "BOX_TOKEN",
    "BOX_TOKEN_FILE",
    "BOX_API_URL",
    "BOX_UPLOAD_URL",
];

/// The workspace's `tests/fixtures` folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Parse CSV text into rows of fields, to compare output as data, not text.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("output is not CSV: {e}"))
                .iter()
                .map(String::from)
                .collect()
        })
        .collect()
}

/// Parse NDJSON text into values.
pub fn ndjson_values(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("output line is not JSON: {e}: {l}"))
        })
        .collect()
}

/// The stdout of an assert_cmd output as text.
pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The stderr of an assert_cmd output as text.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Assert that a diagnostic is one line and leaks none of the given values.
pub fn assert_one_line_without(stderr: &str, values: &[&str]) {
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "expected one line on stderr, got: {stderr}"
    );
    for value in values {
        assert!(
            !stderr.contains(value),
            "stderr leaks a record value {value:?}: {stderr}"
        );
    }
}

/// A value that stands for patient data in the tests: the PHI and fuzz
/// tests put it in every record value, and every run that [`Workdir::fails`]
/// or [`Run::of`] sees is checked not to print it on stderr.
pub const SENTINEL: &str = "Sentinel-PHI-7731";

/// Assert that a diagnostic does not show [`SENTINEL`].
pub fn assert_no_sentinel(stderr: &str) {
    assert!(
        !stderr.contains(SENTINEL),
        "stderr shows a record value (the PHI sentinel): {stderr}"
    );
}

/// The checks every hostile or fuzzed run of a record filter must pass:
/// it ended with an exit code (not a signal, so no abort and no stack
/// overflow), that code is one of `codes`, and stderr does not show
/// [`SENTINEL`]. `case` names the input in the panic message.
pub fn assert_contained(out: &std::process::Output, codes: &[i32], case: &str) {
    let stderr = stderr_of(out);
    match out.status.code() {
        Some(code) if codes.contains(&code) => {}
        Some(code) => panic!("{case}: exit {code}, not one of {codes:?}: {stderr}"),
        None => panic!("{case}: ended by a signal ({:?}): {stderr}", out.status),
    }
    assert_no_sentinel(&stderr);
}

/// The exit codes a tool's man page lists, and 0: the only codes a hostile
/// run may end with.
pub fn documented_codes(doc: &crate::doc::ToolDoc) -> Vec<i32> {
    let mut codes: Vec<i32> = doc.exit_codes.iter().map(|exit| exit.code()).collect();
    codes.push(0);
    codes
}

/// `width` column names `c0,c1,...` joined by commas, where the one at
/// `at` repeats the name at `copies`: a header with one repeated column.
pub fn header_with_repeat(width: usize, at: usize, copies: usize) -> String {
    (0..width)
        .map(|i| format!("c{}", if i == at { copies } else { i }))
        .collect::<Vec<_>>()
        .join(",")
}

/// A column name or key that no message may print: [`SENTINEL`] and 200
/// more bytes, past the length a name is shown at.
pub fn long_name() -> String {
    format!("{SENTINEL}{}", "n".repeat(200))
}

/// One NDJSON line, `{"id":"1","name":SENTINEL,"v":[[...1...]]}`, nested
/// `depth` levels deep (the record's own object the first).
pub fn nested_record(depth: usize) -> String {
    let inner = depth.saturating_sub(1);
    format!(
        "{{\"id\":\"1\",\"name\":\"{SENTINEL}\",\"v\":{}1{}}}\n",
        "[".repeat(inner),
        "]".repeat(inner)
    )
}

/// Pieces of hostile CSV and NDJSON, from which the record filters'
/// property tests build their inputs: quotes, separators, every line
/// ending, a BOM, NUL and control bytes, invalid UTF-8, the sentinel as a
/// value and as a key, nesting, and a long name.
pub const HOSTILE_PIECES: &[&[u8]] = &[
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"\r",
    b"\xEF\xBB\xBF",
    b"\0",
    b"\x01",
    b"\xff",
    b"\xc3",
    b"Sentinel-PHI-7731",
    b"\"Sentinel-PHI-7731\"",
    b"\"\"",
    b"id",
    b"{\"id\":\"Sentinel-PHI-7731\"}",
    b"{\"id\":\"1\",\"name\":\"Sentinel-PHI-7731\"}",
    b"{\"Sentinel-PHI-7731\":1}",
    b"{\"v\":[[[[[[[[",
    b"]]]]]]]]}",
    b"{",
    b"}",
    b":",
    b"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
];

/// Inputs for a property test: `head` (a header, or a first record),
/// then up to 39 of [`HOSTILE_PIECES`].
pub fn hostile_input(head: &'static [u8]) -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    prop::collection::vec(prop::sample::select(HOSTILE_PIECES), 0..40).prop_map(move |pieces| {
        let mut input = head.to_vec();
        input.extend_from_slice(&pieces.concat());
        input
    })
}

/// The names of the entries of `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| match entry {
            Ok(entry) => entry.file_name().to_string_lossy().into_owned(),
            Err(e) => panic!("read {}: {e}", dir.display()),
        })
        .collect();
    names.sort();
    names
}

/// The file's permission bits.
#[cfg(unix)]
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
}

/// A small deterministic generator (xorshift) for property tests, so that a
/// failure reproduces from its seed.
#[derive(Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Up to `max - 1` pieces, each picked from `pieces`, joined.
    pub fn text_of(&mut self, pieces: &[&str], max: usize) -> String {
        let len = self.below(max);
        (0..len).map(|_| pieces[self.below(pieces.len())]).collect()
    }
}

/// The `tool` commands of a shell line, as argument lists: words split on
/// blanks (quotes kept together), commands split at |, && and ;, each cut
/// at its first redirection. `NAME=value` words before a command are its
/// environment, and the script of `sh -c SCRIPT` is read as a line too.
pub fn example_commands(line: &str, tool: &str) -> Vec<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quote, mut started) = (None, false);
    for c in line.chars() {
        match (c, quote) {
            ('\'' | '"', None) => {
                quote = Some(c);
                started = true;
            }
            (c, Some(q)) if c == q => quote = None,
            (c, None) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (c, _) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    let mut found = Vec::new();
    for command in words.split(|w| matches!(w.as_str(), "|" | "&&" | ";")) {
        let start = command
            .iter()
            .position(|w| !is_assignment(w))
            .unwrap_or(command.len());
        let command = &command[start..];
        if command.first().is_some_and(|w| w == tool) {
            let end = command
                .iter()
                .position(|w| w.starts_with(['<', '>']))
                .unwrap_or(command.len());
            found.push(command[..end].to_vec());
        } else if let Some(at) = command
            .windows(2)
            .position(|w| w[0] == "sh" && w[1] == "-c")
            && let Some(script) = command.get(at + 2)
        {
            found.extend(example_commands(script, tool));
        }
    }
    found
}

/// A shell word that sets a variable for the command after it: `NAME=value`.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Every example of `doc` runs its tool at least once, and each run parses
/// with `command` and passes `validate` (the tool's own checks of the
/// parsed flags), so the man page cannot show a command that fails.
pub fn assert_examples_parse<E: std::fmt::Display>(
    doc: &crate::doc::ToolDoc,
    command: impl Fn() -> clap::Command,
    validate: impl Fn(&clap::ArgMatches) -> Result<(), E>,
) {
    for example in doc.examples {
        let found = example_commands(example.command, doc.name);
        assert!(!found.is_empty(), "{}", example.command);
        for argv in found {
            let matches = command()
                .try_get_matches_from(&argv)
                .unwrap_or_else(|e| panic!("{}: {e}", example.command));
            if let Err(e) = validate(&matches) {
                panic!("{}: {e}", example.command);
            }
        }
    }
}

/// The `#[test]` that the examples of a tool's man page parse and pass
/// the tool's checks: `examples_test!(DOC, command, Options::from_matches)`
/// in the tool's unit tests. A tool whose checks read the environment or
/// files (a server from an env var, a lookup file) gives no check:
/// `examples_test!(DOC, command)` tests that its examples parse.
#[macro_export]
macro_rules! examples_test {
    ($doc:expr, $command:path) => {
        #[test]
        fn every_example_parses() {
            $crate::testing::assert_examples_parse(&$doc, $command, |_| {
                Ok::<(), std::convert::Infallible>(())
            });
        }
    };
    ($doc:expr, $command:path, $validate:path) => {
        #[test]
        fn every_example_parses_and_validates() {
            $crate::testing::assert_examples_parse(&$doc, $command, |matches| {
                $validate(matches).map(drop)
            });
        }
    };
}

/// The URL of a test database server from `var` (TEST_POSTGRES_URL,
/// TEST_MARIADB_URL), which tests/servers/with-servers.sh sets. Unset, the
/// test fails and says how to run it, unless PHTOOLS_SKIP_SERVERS=1, when it
/// prints "skipped" and gives None.
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("PHTOOLS_SKIP_SERVERS").is_ok_and(|v| v == "1") => {
            eprintln!("skipped: {var} is not set and PHTOOLS_SKIP_SERVERS=1");
            None
        }
        _ => panic!(
            "{var} is not set: run the tests under tests/servers/with-servers.sh \
             (e.g. `tests/servers/with-servers.sh cargo test`), or set PHTOOLS_SKIP_SERVERS=1 to skip the server tests"
        ),
    }
}

/// One `#[test]` per case and engine: for each `case`, tests
/// `sqlite::case`, `postgres::case` and `mariadb::case` call `case(&db)` with
/// the `Db` of the calling test file (`Db::sqlite()`, `Db::postgres()` and
/// `Db::mariadb()`, each `None` when that engine's server is skipped), so
/// the same assertions run against all three engines.
#[macro_export]
macro_rules! engine_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $case() { if let Some(db) = super::Db::sqlite() { super::$case(&db) } } )*
        }
        mod postgres {
            $( #[test] fn $case() { if let Some(db) = super::Db::postgres() { super::$case(&db) } } )*
        }
        mod mariadb {
            $( #[test] fn $case() { if let Some(db) = super::Db::mariadb() { super::$case(&db) } } )*
        }
    };
}

/// Start `cmd` (no stdin, its output thrown away), SIGKILL it after
/// `delay` unless it ended before, and wait for it. Whether the kill
/// landed while it still ran.
pub fn kill_after(cmd: &mut std::process::Command, delay: std::time::Duration) -> bool {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    std::thread::sleep(delay);
    let running = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    running
}

/// The names in `dir` of the temp files `common::io` writes through
/// (`.NAME.PID.SUFFIX.tmp`).
pub fn temp_files_in(dir: &Path) -> Vec<String> {
    names_in(dir)
        .into_iter()
        .filter(|name| name.starts_with('.') && name.ends_with(".tmp"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::example_commands;

    #[test]
    fn example_commands_are_found_in_pipes_scripts_and_after_variables() {
        let cases: [(&str, &[&[&str]]); 6] = [
            (
                "t -a 'x y' f.csv > out.csv",
                &[&["t", "-a", "x y", "f.csv"]],
            ),
            (
                "other | t -b && t -c ; t2 -d",
                &[&["t", "-b"], &["t", "-c"]],
            ),
            (
                "TOKEN_FILE=/etc/t.token t --auth bearer",
                &[&["t", "--auth", "bearer"]],
            ),
            ("A=1 B_2=x t", &[&["t"]]),
            (
                "flock -n f.lock sh -c 't --index i.json | u --each | t --commit'",
                &[&["t", "--index", "i.json"], &["t", "--commit"]],
            ),
            ("t2 x=y ; =t t", &[]),
        ];
        for (line, want) in cases {
            assert_eq!(example_commands(line, "t"), want, "{line}");
        }
    }
}
