#![allow(clippy::unwrap_used)]
//! sftp-put through its binary, against a real OpenSSH server started by
//! tests/servers/sshd.sh (run under tests/servers/with-servers.sh). Every
//! test checks what arrived in the server's folder, not only what the tool
//! said. All file content is invented.

use common::hash::sha256_hex;
use common::testing::{Workdir, assert_one_line_without, ndjson_values, stderr_of, stdout_of};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::RwLock;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sftp-put");

/// Tests that talk to the server hold this for reading; the test that kills
/// the server's session processes holds it for writing, so it kills no
/// other test's session.
static SESSIONS: RwLock<()> = RwLock::new(());

/// The test server, from TEST_SFTP_URL (sftp://user@host:port) and
/// TEST_SFTP_DIR (its files: keys, password, known_hosts, home/).
struct Server {
    host: String,
    port: String,
    user: String,
    dir: PathBuf,
}

impl Server {
    fn get() -> Option<Server> {
        let url = common::testing::server_url("TEST_SFTP_URL")?;
        let dir = PathBuf::from(common::testing::server_url("TEST_SFTP_DIR")?);
        let rest = url.strip_prefix("sftp://").unwrap();
        let (user, hostport) = rest.split_once('@').unwrap();
        let (host, port) = hostport.rsplit_once(':').unwrap();
        Some(Server {
            host: host.into(),
            port: port.into(),
            user: user.into(),
            dir,
        })
    }

    fn key(&self) -> String {
        self.dir.join("client_key").display().to_string()
    }
    fn known_hosts(&self) -> String {
        self.dir.join("known_hosts").display().to_string()
    }
    /// The password, or None where the server cannot check passwords (not root).
    fn password(&self) -> Option<String> {
        let text = fs::read_to_string(self.dir.join("password")).unwrap();
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }
    /// The host key's fingerprint as OpenSSH's own ssh-keygen prints it.
    fn fingerprint(&self) -> String {
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.dir.join("host_key.pub"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split_whitespace().nth(1).unwrap().to_string()
    }

    /// A fresh folder of this test's own on the server: its remote name
    /// and where it is on disk. Not created: the tests use --mkdir.
    fn folder(&self, test: &str) -> (String, PathBuf) {
        let name = format!("t-{test}");
        let path = self.dir.join("home").join(&name);
        let _ = fs::remove_dir_all(&path);
        (name, path)
    }

    /// Create a folder on the server owned by the test user, as if it had made it.
    fn make_dir(&self, path: &Path) {
        fs::create_dir_all(path).unwrap();
        let home = fs::metadata(self.dir.join("home")).unwrap();
        std::os::unix::fs::chown(path, Some(home.uid()), Some(home.gid())).unwrap();
    }

    /// The tool with the server, user and known_hosts, and none of the
    /// caller's SFTP or agent variables.
    fn command(&self, w: &Workdir) -> assert_cmd::Command {
        let mut cmd = w.command();
        for var in [
            "SFTP_HOST",
            "SFTP_PORT",
            "SFTP_USERNAME",
            "SFTP_PASSWORD",
            "SFTP_PASSWORD_FILE",
            "SFTP_IDENTITY",
            "SFTP_KNOWN_HOSTS",
            "SSH_AUTH_SOCK",
        ] {
            cmd.env_remove(var);
        }
        cmd.args([
            "--host", &self.host, "--port", &self.port, "--user", &self.user,
        ]);
        cmd
    }

    /// With the client key and the test's known_hosts.
    fn with_key(&self, w: &Workdir) -> assert_cmd::Command {
        let mut cmd = self.command(w);
        cmd.args([
            "--identity",
            &self.key(),
            "--known-hosts",
            &self.known_hosts(),
        ]);
        cmd
    }
}

fn read_lock() -> std::sync::RwLockReadGuard<'static, ()> {
    SESSIONS.read().unwrap_or_else(|e| e.into_inner())
}

fn ok(mut cmd: assert_cmd::Command, args: &[&str]) -> Vec<Value> {
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {:?} {}",
        out.status.code(),
        stderr_of(&out)
    );
    assert!(out.stderr.is_empty(), "{}", stderr_of(&out));
    ndjson_values(&stdout_of(&out))
}

/// Expect `code`, nothing on stdout, and one `sftp-put: error:` line that
/// leaks none of `secrets`; gives that line.
fn fails(mut cmd: assert_cmd::Command, args: &[&str], code: i32, secrets: &[&str]) -> String {
    let out = cmd.args(args).output().unwrap();
    check_failure(&out, code, secrets)
}

fn check_failure(out: &Output, code: i32, secrets: &[&str]) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout {} stderr {}",
        stdout_of(out),
        stderr_of(out)
    );
    assert!(out.stdout.is_empty(), "{}", stdout_of(out));
    let err = stderr_of(out);
    assert!(err.starts_with("sftp-put: error: "), "{err}");
    assert_one_line_without(&err, secrets);
    err
}

/// The names in a server folder (empty when it does not exist).
fn names_in(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(path)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Synthetic content of `n` bytes that is not all one byte.
fn content(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
}

#[test]
fn uploads_arrive_with_the_same_bytes_and_a_receipt_each() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("same-bytes");
    let big = content(3_000_123, 7);
    w.create(
        "patient_appointments.csv",
        "car_number,name\n1,\"Sample, Sam\"\n",
    );
    w.create("big.bin", &big);
    let receipts = ok(
        s.with_key(&w),
        &[
            "--remote-dir",
            &remote,
            "--mkdir",
            "patient_appointments.csv",
            "big.bin",
        ],
    );
    assert_eq!(names_in(&folder), ["big.bin", "patient_appointments.csv"]);
    assert_eq!(fs::read(folder.join("big.bin")).unwrap(), big);
    assert_eq!(
        fs::read_to_string(folder.join("patient_appointments.csv")).unwrap(),
        "car_number,name\n1,\"Sample, Sam\"\n"
    );
    let mode = fs::metadata(folder.join("big.bin"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    assert_eq!(receipts.len(), 2);
    let r = &receipts[1];
    assert_eq!(r["tool"], "sftp-put");
    assert_eq!(r["name"], "big.bin");
    assert_eq!(r["bytes"], 3_000_123);
    assert_eq!(r["sha256"], sha256_hex(&big));
    assert_eq!(r["remote_path"], format!("{remote}/big.bin"));
    assert_eq!(
        r["target"],
        format!("sftp://{}@{}:{}/~/{remote}", s.user, s.host, s.port)
    );
    assert!(r.get("dry_run").is_none());
    assert_eq!(receipts[0]["name"], "patient_appointments.csv");
}

#[test]
fn empty_file_and_stdin_with_a_name() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("stdin");
    w.create("empty.csv", "");
    let out = s
        .with_key(&w)
        .args([
            "--remote-dir",
            &remote,
            "--mkdir",
            "--name",
            "cars.csv",
            "-",
        ])
        .write_stdin("car_number\n1\n2\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let receipts = ndjson_values(&stdout_of(&out));
    assert_eq!(receipts[0]["name"], "cars.csv");
    assert_eq!(receipts[0]["bytes"], 15);
    let receipts = ok(s.with_key(&w), &["--remote-dir", &remote, "empty.csv"]);
    assert_eq!(receipts[0]["bytes"], 0);
    assert_eq!(names_in(&folder), ["cars.csv", "empty.csv"]);
    assert_eq!(
        fs::read_to_string(folder.join("cars.csv")).unwrap(),
        "car_number\n1\n2\n"
    );
    assert_eq!(fs::read(folder.join("empty.csv")).unwrap(), b"");
}

#[test]
fn mkdir_creates_missing_folders_and_without_it_nothing_is_created() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("mkdir");
    w.create("a.csv", "x\n1\n");
    let nested = format!("{remote}/drop/2020-05-07/");
    let err = fails(s.with_key(&w), &["--remote-dir", &nested, "a.csv"], 69, &[]);
    assert!(err.contains("does not exist (--mkdir creates it)"), "{err}");
    assert!(!folder.exists());

    ok(
        s.with_key(&w),
        &["--remote-dir", &nested, "--mkdir", "a.csv"],
    );
    assert_eq!(names_in(&folder.join("drop/2020-05-07")), ["a.csv"]);
    // Again: the folders exist now, which is fine.
    ok(
        s.with_key(&w),
        &["--remote-dir", &nested, "--mkdir", "a.csv"],
    );
    assert_eq!(names_in(&folder.join("drop/2020-05-07")), ["a.csv"]);

    // A file in the way of a folder.
    let err = fails(
        s.with_key(&w),
        &[
            "--remote-dir",
            &format!("{remote}/drop/2020-05-07/a.csv/x"),
            "--mkdir",
            "a.csv",
        ],
        69,
        &[],
    );
    assert!(err.contains("is not a folder"), "{err}");
}

#[test]
fn an_existing_file_is_replaced_in_one_step() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("replace");
    w.create("print.csv", "old,longer,content\n1,2,3\n");
    ok(
        s.with_key(&w),
        &["--remote-dir", &remote, "--mkdir", "print.csv"],
    );
    let before = fs::metadata(folder.join("print.csv")).unwrap().ino();
    w.create("print.csv", "new\n");
    ok(s.with_key(&w), &["--remote-dir", &remote, "print.csv"]);
    assert_eq!(
        fs::read_to_string(folder.join("print.csv")).unwrap(),
        "new\n"
    );
    // A new file took the name (a rename), rather than the old one rewritten.
    assert_ne!(
        fs::metadata(folder.join("print.csv")).unwrap().ino(),
        before
    );
    assert_eq!(names_in(&folder), ["print.csv"]);
}

#[test]
fn without_posix_rename_the_old_file_is_moved_aside_then_removed() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("plain-rename");
    w.create("print.csv", "v1\n");
    ok(
        s.with_key(&w),
        &[
            "--remote-dir",
            &remote,
            "--mkdir",
            "--plain-rename",
            "print.csv",
        ],
    );
    w.create("print.csv", "v2\n");
    ok(
        s.with_key(&w),
        &["--remote-dir", &remote, "--plain-rename", "print.csv"],
    );
    assert_eq!(
        fs::read_to_string(folder.join("print.csv")).unwrap(),
        "v2\n"
    );
    assert_eq!(names_in(&folder), ["print.csv"]);
}

#[test]
fn a_failed_rename_leaves_no_temporary_file() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("rename-fails");
    // A folder holds the final name, so the rename cannot happen.
    s.make_dir(&folder);
    s.make_dir(&folder.join("print.csv"));
    w.create("print.csv", "car_number\n1\n");
    let err = fails(
        s.with_key(&w),
        &["--remote-dir", &remote, "print.csv"],
        69,
        &[],
    );
    assert!(err.contains("renaming"), "{err}");
    assert_eq!(names_in(&folder), ["print.csv"]);
    assert!(folder.join("print.csv").is_dir());
}

#[test]
fn password_login_from_the_environment_and_env_prefix() {
    let Some(s) = Server::get() else { return };
    let Some(password) = s.password() else {
        eprintln!("skipped: the test server cannot check passwords when not run as root");
        return;
    };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("password");
    w.create("patients_form_print.csv", "car_number\n1\n");

    // The runbook's names, through --env-prefix and nothing else.
    let mut cmd = w.command();
    cmd.env_remove("SSH_AUTH_SOCK")
        .env("PRINT_SFTP_HOST", &s.host)
        .env("PRINT_SFTP_PORT", &s.port)
        .env("PRINT_SFTP_USERNAME", &s.user)
        .env("PRINT_SFTP_PASSWORD", &password)
        .env("PRINT_SFTP_KNOWN_HOSTS", s.known_hosts());
    let receipts = ok(
        cmd,
        &[
            "--env-prefix",
            "PRINT_SFTP",
            "--remote-dir",
            &remote,
            "--mkdir",
            "patients_form_print.csv",
        ],
    );
    assert_eq!(receipts[0]["name"], "patients_form_print.csv");
    assert!(!receipts[0].to_string().contains(&password));
    assert_eq!(names_in(&folder), ["patients_form_print.csv"]);

    // From a file, through the default SFTP_ names.
    let secret = w.create("pw", format!("{password}\n"));
    let mut cmd = s.command(&w);
    cmd.env("SFTP_PASSWORD_FILE", &secret)
        .env("SFTP_KNOWN_HOSTS", s.known_hosts());
    ok(
        cmd,
        &[
            "--remote-dir",
            &remote,
            "--name",
            "again.csv",
            "patients_form_print.csv",
        ],
    );
    assert_eq!(names_in(&folder), ["again.csv", "patients_form_print.csv"]);
}

#[test]
fn a_wrong_password_is_77_and_never_shown() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("wrong-password");
    w.create("a.csv", "x\n");
    let wrong = "Wrong-Secret-Value-7731";
    let mut cmd = s.command(&w);
    cmd.env("SFTP_PASSWORD", wrong);
    let err = fails(
        cmd,
        &[
            "--known-hosts",
            &s.known_hosts(),
            "--remote-dir",
            &remote,
            "--mkdir",
            "a.csv",
        ],
        77,
        &[wrong],
    );
    assert!(
        err.contains(&format!("login as {} refused", s.user)),
        "{err}"
    );
    assert!(err.contains("the password"), "{err}");
    assert!(!folder.exists());
}

#[test]
fn a_wrong_key_is_77() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("wrong-key");
    keygen(&w.path("other_key"), "");
    w.create("a.csv", "x\n");
    let mut cmd = s.command(&w);
    let err = fails(
        {
            cmd.args(["--identity", "other_key", "--known-hosts", &s.known_hosts()]);
            cmd
        },
        &["--remote-dir", &remote, "--mkdir", "a.csv"],
        77,
        &[],
    );
    assert!(err.contains("tried the key other_key"), "{err}");
    assert!(!folder.exists());
}

#[test]
fn a_key_with_a_passphrase_from_the_environment() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("passphrase");
    let passphrase = "correct-horse-battery-4471";
    let key = w.path("locked_key");
    keygen(&key, passphrase);
    authorize(&s, &w.path("locked_key.pub"));
    w.create("a.csv", "x\n");
    let base = |phrase: &str| {
        let mut cmd = s.command(&w);
        cmd.env("KEY_PASSPHRASE", phrase).args([
            "--identity",
            "locked_key",
            "--passphrase-env",
            "KEY_PASSPHRASE",
            "--known-hosts",
            &s.known_hosts(),
        ]);
        cmd
    };
    let err = fails(
        base("not-the-passphrase-9"),
        &["--remote-dir", &remote, "--mkdir", "a.csv"],
        77,
        &["not-the-passphrase-9", passphrase],
    );
    assert!(err.contains("could not be read"), "{err}");
    assert!(!folder.exists());
    ok(
        base(passphrase),
        &["--remote-dir", &remote, "--mkdir", "a.csv"],
    );
    assert_eq!(names_in(&folder), ["a.csv"]);
}

#[test]
fn a_wrong_host_key_is_77_and_nothing_reaches_the_server() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("wrong-host-key");
    keygen(&w.path("impostor"), "");
    let impostor = fs::read_to_string(w.path("impostor.pub")).unwrap();
    let key = impostor
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    w.create("known_hosts", format!("[{}]:{} {key}\n", s.host, s.port));
    w.create("a.csv", "x\n");
    let password = s.password().unwrap_or_else(|| "unused-password".into());
    let with_password = || {
        let mut cmd = s.command(&w);
        cmd.env("SFTP_PASSWORD", &password)
            .args(["--identity", &s.key()]);
        cmd
    };
    let err = fails(
        with_password(),
        &[
            "--known-hosts",
            "known_hosts",
            "--remote-dir",
            &remote,
            "--mkdir",
            "a.csv",
        ],
        77,
        &[&password],
    );
    assert!(err.contains("HOST KEY MISMATCH"), "{err}");
    assert!(err.contains(&s.fingerprint()), "{err}");
    assert!(!folder.exists());

    let other = "SHA256:ZXs9uIdkwmD9dQ/kbt5jrwWt9T6qIJ8XvvKlXkx6wIs";
    let err = fails(
        with_password(),
        &[
            "--host-key-sha256",
            other,
            "--remote-dir",
            &remote,
            "--mkdir",
            "a.csv",
        ],
        77,
        &[&password],
    );
    assert!(err.contains("HOST KEY MISMATCH"), "{err}");
    assert!(!folder.exists());

    // @revoked wins over a listing of the same key.
    let real = fs::read_to_string(s.known_hosts()).unwrap();
    let real_key = real
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ");
    w.create("revoked", format!("@revoked * {real_key}\n{real}"));
    let err = fails(
        with_password(),
        &[
            "--known-hosts",
            "revoked",
            "--remote-dir",
            &remote,
            "--mkdir",
            "a.csv",
        ],
        77,
        &[&password],
    );
    assert!(err.contains("revoked"), "{err}");
    assert!(!folder.exists());
}

#[test]
fn an_unknown_host_is_77_with_its_fingerprint() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("unknown-host");
    let real = fs::read_to_string(s.known_hosts()).unwrap();
    let key = real
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ");
    // The right key, but for another port and another host.
    w.create(
        "known_hosts",
        format!(
            "# other servers\n{}:{} {key}\nprint.example.org {key}\n",
            s.host, s.port
        ),
    );
    w.create("a.csv", "x\n");
    let mut cmd = s.command(&w);
    cmd.args(["--identity", &s.key()]);
    let err = fails(
        cmd,
        &[
            "--known-hosts",
            "known_hosts",
            "--remote-dir",
            &remote,
            "--mkdir",
            "a.csv",
        ],
        77,
        &[],
    );
    assert!(
        err.contains(&format!("host key of [{}]:{} unknown", s.host, s.port)),
        "{err}"
    );
    assert!(err.contains(&s.fingerprint()), "{err}");
    assert!(!folder.exists());

    // No known_hosts at all: the default under HOME.
    let mut cmd = s.command(&w);
    cmd.env("HOME", w.path("nohome"))
        .args(["--identity", &s.key()]);
    let err = fails(cmd, &["--remote-dir", &remote, "--mkdir", "a.csv"], 77, &[]);
    assert!(err.contains("nohome/.ssh/known_hosts"), "{err}");
    assert!(!folder.exists());
}

#[test]
fn hashed_known_hosts_and_fingerprints_as_openssh_writes_them() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("hashed");
    let hashed = w.create("known_hosts", fs::read(s.known_hosts()).unwrap());
    let status = Command::new("ssh-keygen")
        .arg("-q")
        .arg("-H")
        .arg("-f")
        .arg(&hashed)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let text = fs::read_to_string(&hashed).unwrap();
    assert!(text.starts_with("|1|"), "{text}");
    w.create("a.csv", "x\n");
    let mut cmd = s.command(&w);
    cmd.args(["--identity", &s.key(), "--known-hosts", "known_hosts"]);
    ok(cmd, &["--remote-dir", &remote, "--mkdir", "a.csv"]);

    let mut cmd = s.command(&w);
    cmd.args([
        "--identity",
        &s.key(),
        "--host-key-sha256",
        &s.fingerprint(),
    ]);
    ok(cmd, &["--remote-dir", &remote, "--name", "b.csv", "a.csv"]);
    assert_eq!(names_in(&folder), ["a.csv", "b.csv"]);
}

#[test]
fn dry_run_connects_and_logs_in_but_writes_nothing() {
    let Some(s) = Server::get() else { return };
    let _g = read_lock();
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder("dry-run");
    w.create("a.csv", "x\n1\n");
    let receipts = ok(
        s.with_key(&w),
        &["--dry-run", "--remote-dir", &remote, "--mkdir", "a.csv"],
    );
    assert_eq!(receipts[0]["dry_run"], true);
    assert_eq!(receipts[0]["sha256"], sha256_hex(b"x\n1\n"));
    assert!(!folder.exists());
    // An absolute folder: the target's path has no ~.
    let home = s.dir.join("home").display().to_string();
    let receipts = ok(
        s.with_key(&w),
        &["--dry-run", "--remote-dir", &home, "a.csv"],
    );
    assert_eq!(
        receipts[0]["target"],
        format!("sftp://{}@{}:{}{home}", s.user, s.host, s.port)
    );
    assert_eq!(receipts[0]["remote_path"], format!("{home}/a.csv"));
    // The dry run still checks the host key and the login.
    let mut cmd = s.command(&w);
    cmd.args(["--identity", "a.csv", "--known-hosts", &s.known_hosts()]);
    fails(cmd, &["--dry-run", "a.csv"], 77, &[]);
    let err = fails(
        s.with_key(&w),
        &["--dry-run", "--remote-dir", &remote, "a.csv"],
        69,
        &[],
    );
    assert!(err.contains("does not exist"), "{err}");
}

/// Start uploading a sparse file of `size` bytes named big.bin into the
/// test's folder, and kill the server's session processes once its
/// temporary file is growing. Gives the tool's output.
fn upload_and_kill_the_session(
    s: &Server,
    test: &str,
    size: u64,
    retries: &str,
) -> (Output, PathBuf) {
    let w = Workdir::new(BIN);
    let (remote, folder) = s.folder(test);
    let big = fs::File::create(w.path("big.bin")).unwrap();
    big.set_len(size).unwrap();
    let mut child = Command::new(BIN)
        .current_dir(w.root())
        .env_remove("SSH_AUTH_SOCK")
        .args(["--host", &s.host, "--port", &s.port, "--user", &s.user])
        .args(["--identity", &s.key(), "--known-hosts", &s.known_hosts()])
        .args([
            "--remote-dir",
            &remote,
            "--mkdir",
            "--retries",
            retries,
            "big.bin",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let growing = fs::read_dir(&folder).ok().and_then(|entries| {
            entries
                .filter_map(|e| e.ok())
                .find(|e| e.file_name().to_string_lossy().starts_with(".big.bin."))
                .filter(|e| e.metadata().is_ok_and(|m| m.len() > 1 << 20))
        });
        if growing.is_some() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the upload never started"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended too soon"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = kill_sessions(s);
    assert!(killed > 0, "no session process of sshd found");
    (child.wait_with_output().unwrap(), folder)
}

#[test]
fn sshd_gone_mid_transfer_leaves_no_file_under_the_final_name() {
    let Some(s) = Server::get() else { return };
    let _g = SESSIONS.write().unwrap_or_else(|e| e.into_inner());
    // 2 GiB that cost no disk here (sparse); the upload is stopped early.
    let (out, folder) = upload_and_kill_the_session(&s, "killed", 2 << 30, "0");
    let err = check_failure(&out, 75, &[]);
    assert!(
        err.contains("connection lost") || err.contains("uploading"),
        "{err}"
    );
    let names = names_in(&folder);
    assert!(!names.contains(&"big.bin".to_string()), "{names:?}");
}

#[test]
fn a_lost_connection_is_retried_and_the_stale_temporary_file_removed() {
    let Some(s) = Server::get() else { return };
    let _g = SESSIONS.write().unwrap_or_else(|e| e.into_inner());
    let size = 48 << 20;
    let (out, folder) = upload_and_kill_the_session(&s, "killed-retried", size, "2");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.starts_with("sftp-put: warning: "), "{err}");
    assert!(err.contains("retry 1 of 2"), "{err}");
    let receipts = ndjson_values(&stdout_of(&out));
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0]["bytes"], size);
    // Only the whole file: the killed attempt's temporary file is gone.
    assert_eq!(names_in(&folder), ["big.bin"]);
    assert_eq!(fs::metadata(folder.join("big.bin")).unwrap().len(), size);
    let _ = fs::remove_dir_all(&folder);
}

#[test]
fn a_server_that_is_not_there_is_75_after_the_retries() {
    let w = Workdir::new(BIN);
    w.create("a.csv", "x\n");
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut cmd = w.command();
    cmd.env_remove("SSH_AUTH_SOCK")
        .env("SFTP_PASSWORD", "pw-never-shown-5");
    let out = cmd
        .args(["--host", "127.0.0.1", "--port", &port, "--user", "u"])
        .args([
            "--host-key-sha256",
            "SHA256:ZXs9uIdkwmD9dQ/kbt5jrwWt9T6qIJ8XvvKlXkx6wIs",
        ])
        .args(["--retries", "1", "a.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("sftp-put: warning: cannot connect to 127.0.0.1:"),
        "{err}"
    );
    assert!(lines[0].contains("retry 1 of 1"), "{err}");
    assert!(
        lines[1].starts_with("sftp-put: error: gave up after 2 attempts: cannot connect"),
        "{err}"
    );
    assert!(!err.contains("pw-never-shown-5"));
}

#[test]
fn usage_and_configuration_errors_come_before_any_connection() {
    let w = Workdir::new(BIN);
    w.create("a.csv", "x\n");
    w.create("b.csv", "y\n");
    let cmd = || {
        let mut cmd = w.command();
        for var in [
            "SFTP_HOST",
            "SFTP_USERNAME",
            "SFTP_PASSWORD",
            "SFTP_IDENTITY",
            "SSH_AUTH_SOCK",
        ] {
            cmd.env_remove(var);
        }
        cmd
    };
    // The port is closed: reaching it would be a 75, not these.
    let server = ["--host", "127.0.0.1", "--port", "1", "--user", "u"];
    let with_password = || {
        let mut c = cmd();
        c.env("SFTP_PASSWORD", "pw-kept-secret-3").args(server);
        c
    };
    let err = fails(with_password(), &["-"], 64, &["pw-kept-secret-3"]);
    assert!(err.contains("- reads stdin and needs --name"), "{err}");
    fails(
        with_password(),
        &["--name", "x.csv", "a.csv", "b.csv"],
        64,
        &[],
    );
    fails(with_password(), &["--name", "../x.csv", "a.csv"], 64, &[]);
    fails(with_password(), &["a.csv", "sub/a.csv"], 64, &[]);
    let err = fails(
        with_password(),
        &["--host-key-sha256", "SHA256:nope", "a.csv"],
        64,
        &[],
    );
    assert!(err.contains("not a SHA256 fingerprint"), "{err}");
    let err = fails(with_password(), &["a.csv", "missing.csv"], 66, &[]);
    assert!(err.contains("missing.csv"), "{err}");
    let err = fails(
        with_password(),
        &["--identity", "no_such_key", "a.csv"],
        66,
        &[],
    );
    assert!(err.contains("no_such_key"), "{err}");

    let err = fails(cmd(), &["a.csv"], 78, &[]);
    assert!(err.contains("give --host or set SFTP_HOST"), "{err}");
    let mut c = cmd();
    c.env("PRINT_SFTP_HOST", "127.0.0.1")
        .env("PRINT_SFTP_PORT", "twenty-two");
    let err = fails(c, &["--env-prefix", "PRINT_SFTP", "a.csv"], 78, &[]);
    assert!(
        err.contains("PRINT_SFTP_PORT is not a port number"),
        "{err}"
    );
    let mut c = cmd();
    c.env("PRINT_SFTP_HOST", "127.0.0.1");
    let err = fails(c, &["--env-prefix", "PRINT_SFTP", "a.csv"], 78, &[]);
    assert!(err.contains("PRINT_SFTP_USERNAME"), "{err}");
    let mut c = cmd();
    c.args(server);
    let err = fails(c, &["a.csv"], 78, &[]);
    assert!(err.contains("no credentials: set SFTP_PASSWORD"), "{err}");
    let mut c = cmd();
    c.args(server).args([
        "--identity",
        "a.csv",
        "--passphrase-env",
        "NO_SUCH_PASSPHRASE_VAR",
    ]);
    let err = fails(c, &["a.csv"], 78, &[]);
    assert!(err.contains("NO_SUCH_PASSPHRASE_VAR"), "{err}");
    // There is no flag for a password (clap's own usage message).
    let out = with_password()
        .args(["--password", "x", "a.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(stderr_of(&out).contains("unexpected argument '--password'"));
}

/// A new ed25519 key pair at `path` (and path.pub).
fn keygen(path: &Path, passphrase: &str) {
    let status = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-C",
            "phtools-test",
            "-N",
            passphrase,
            "-f",
        ])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Let the test user log in with another public key too.
fn authorize(s: &Server, public_key: &Path) {
    use std::io::Write;
    let line = fs::read_to_string(public_key).unwrap();
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(s.dir.join("authorized_keys"))
        .unwrap();
    file.write_all(line.as_bytes()).unwrap();
}

/// Kill (SIGKILL) every process below the listening sshd: the sessions.
fn kill_sessions(s: &Server) -> usize {
    let listener: u32 = fs::read_to_string(s.dir.join("sshd.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut parents = vec![listener];
    let mut victims = Vec::new();
    while let Some(parent) = parents.pop() {
        for (pid, ppid) in processes() {
            if ppid == parent && !victims.contains(&pid) {
                victims.push(pid);
                parents.push(pid);
            }
        }
    }
    for pid in &victims {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    victims.len()
}

/// Every process with its parent, from /proc.
fn processes() -> Vec<(u32, u32)> {
    let mut list = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            list.push((pid, ppid));
        }
    }
    list
}
