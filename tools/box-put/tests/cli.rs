#![allow(clippy::unwrap_used)]
//! box-put through its binary against the in-process sandbox's Box (HTTPS
//! with a test CA): the grants, uploads simple and chunked, conflicts,
//! folders, faults and what never reaches stderr. The tests check the
//! sandbox's state and the requests it received as well as the receipts.
//! Test apps are made at run time with openssl; all content is invented.

use assert_cmd::Command;
use common::testing::{BOX_VARS, HTTP_VARS, Run, Workdir};
use sandbox::apis::boxapi::{
    self as sbox, BoxApp, CLIENT_ID, CLIENT_SECRET, DAILY_DRIVE_THRU, ENTERPRISE_ID, PARENT,
    PASSPHRASE, PRINTER_PDFS,
};
use sandbox::{Fault, Received, Sandbox};
use serde_json::Value;
use sha1::{Digest, Sha1};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_box-put");

/// A sandbox and a work directory with the fixture app's box_config.json.
struct Setup {
    sb: Sandbox,
    dir: Workdir,
    config: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let sb = Sandbox::start().unwrap();
        let dir = Workdir::new(BIN);
        let config = dir.create(
            "box_config.json",
            sbox::default_app_config(PASSPHRASE).to_string(),
        );
        Setup { sb, dir, config }
    }

    /// box-put with the sandbox's URLs and CA, the fixture app, quick retries.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_with_config(Some(&self.config), args, env)
    }

    fn run_with_config(&self, config: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.root());
        for var in BOX_VARS.iter().chain(HTTP_VARS) {
            cmd.env_remove(var);
        }
        let api = format!("{}/box/2.0", self.sb.url());
        let upload = format!("{}/box/upload/api/2.0", self.sb.url());
        cmd.args([
            "--api-url",
            &api,
            "--upload-url",
            &upload,
            "--retry-delay",
            "1",
        ]);
        cmd.arg("--ca-file").arg(self.sb.ca_file());
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        Run::of(cmd.envs(env.iter().copied()).args(args))
    }

    /// Upload one file, `name` holding `content`, into PRINTER_PDFS with
    /// the app of `config`.
    fn put_one(&self, config: &Path, name: &str, content: impl AsRef<[u8]>) -> Run {
        let file = self.file(name, content);
        self.run_with_config(Some(config), &["--folder", PRINTER_PDFS, &file], &[])
    }

    fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args, &[]);
        assert_eq!(run.code, 0, "stderr: {}", run.stderr);
        run
    }

    fn file(&self, name: &str, content: impl AsRef<[u8]>) -> String {
        self.dir.create(name, content).display().to_string()
    }

    fn state(&self) -> Value {
        self.sb.state("box")
    }

    /// The files of the sandbox in folder `parent`.
    fn files_in(&self, parent: &str) -> Vec<Value> {
        self.state()["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["parent"] == parent)
            .cloned()
            .collect()
    }

    fn received(&self, method: &str, path_start: &str) -> Vec<Received> {
        self.sb
            .received("box")
            .into_iter()
            .filter(|r| r.method == method && r.path.starts_with(path_start))
            .collect()
    }
}

/// A JWT app made at run time, with a key pair of its own.
struct TestApp {
    client_id: &'static str,
    secret: &'static str,
    kid: &'static str,
}

impl TestApp {
    /// Register the app with the sandbox's Box, with public key `public_pem`.
    fn register(&self, sb: &Sandbox, public_pem: &str) {
        sb.box_register_app(&BoxApp {
            client_id: self.client_id.into(),
            client_secret: self.secret.into(),
            public_key_id: self.kid.into(),
            public_key_pem: public_pem.into(),
            enterprise_id: ENTERPRISE_ID.into(),
        })
        .unwrap();
    }

    /// The app's box_config.json, `name` in `dir`, with private key `pem`
    /// encrypted with `passphrase`.
    fn config(&self, dir: &Workdir, name: &str, pem: &str, passphrase: &str) -> PathBuf {
        let config = sbox::app_config(self.client_id, self.secret, self.kid, pem, passphrase);
        dir.create(name, config.to_string())
    }
}

fn openssl(dir: &Workdir, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir.root())
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh RSA key pair made with openssl in `dir`: (encrypted PKCS#8 PEM
/// of the private key, public key PEM). `cipher` is openssl pkcs8's -v2
/// argument, `prf` its -v2prf.
fn key_pair(
    dir: &Workdir,
    stem: &str,
    passphrase: &str,
    cipher: &str,
    prf: &str,
) -> (String, String) {
    let plain = format!("{stem}.key.pem");
    let encrypted = format!("{stem}.enc.pem");
    let public = format!("{stem}.pub.pem");
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            &plain,
        ],
    );
    let pass = format!("pass:{passphrase}");
    openssl(
        dir,
        &[
            "pkcs8", "-topk8", "-v2", cipher, "-v2prf", prf, "-in", &plain, "-passout", &pass,
            "-out", &encrypted,
        ],
    );
    openssl(dir, &["pkey", "-in", &plain, "-pubout", "-out", &public]);
    (dir.read(&encrypted), dir.read(&public))
}

fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Invented CSV content of about `rows` lines.
fn csv(rows: usize, tag: &str) -> String {
    let mut text = String::from("car_number,name,appointment\n");
    for i in 0..rows {
        text.push_str(&format!(
            "{i},Person {tag} {i},2020-05-07T09:{:02}\n",
            i % 60
        ));
    }
    text
}

// ------------------------------------------------------------------ grants

#[test]
fn jwt_grant_uploads_a_file_and_its_receipt_names_it() {
    let s = Setup::new();
    let content = csv(5, "a");
    let file = s.file("patient_appointments.csv", &content);
    let run = s.ok(&["--folder", DAILY_DRIVE_THRU, &file]);
    let receipts = run.values();
    assert_eq!(receipts.len(), 1, "{}", run.stdout);
    let r = &receipts[0];
    assert_eq!(r["tool"], "box-put");
    assert_eq!(r["target"], format!("folder {DAILY_DRIVE_THRU}"));
    assert_eq!(r["name"], "patient_appointments.csv");
    assert_eq!(r["bytes"], content.len());
    assert_eq!(r["status"], 201);
    assert_eq!(r["fields"]["sha1"], sha1_hex(content.as_bytes()));
    assert_eq!(r["fields"]["action"], "upload");
    assert_eq!(r["fields"]["upload"], "simple");
    assert_eq!(r["fields"]["folder_id"], DAILY_DRIVE_THRU);
    let files = s.files_in(DAILY_DRIVE_THRU);
    assert_eq!(files.len(), 1);
    assert_eq!(r["remote_id"], files[0]["id"]);
    assert_eq!(r["fields"]["version"], files[0]["etag"]);
    assert_eq!(files[0]["sha1"], sha1_hex(content.as_bytes()));

    // One JWT grant, then the upload with the token, Content-MD5 the sha1,
    // and the attributes part before the file part.
    let tokens = s.received("POST", "/box/oauth2/token");
    assert_eq!(tokens.len(), 1);
    let form = tokens[0].text();
    assert!(
        form.starts_with(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
        ),
        "{form}"
    );
    let uploads = s.received("POST", "/box/upload/api/2.0/files/content");
    assert_eq!(uploads.len(), 1);
    assert_eq!(
        uploads[0].header("content-md5"),
        Some(sha1_hex(content.as_bytes()).as_str())
    );
    let body = uploads[0].text();
    let attributes = body.find("name=\"attributes\"").unwrap();
    let file_part = body.find("name=\"file\"").unwrap();
    assert!(attributes < file_part);
    assert!(
        uploads[0]
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer "))
    );
    assert!(run.stderr.contains("1 file: 1 uploaded"), "{}", run.stderr);
}

#[test]
fn as_user_asks_the_token_for_that_user() {
    let s = Setup::new();
    let file = s.file("u.csv", "x\n1\n");
    let run = s.run(&["--as-user", "4242", "--folder", PRINTER_PDFS, &file], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = s.state();
    let grant = &state["grants"][0];
    assert_eq!(grant["grant_type"], "jwt");
    assert_eq!(grant["box_sub_type"], "user");
    assert_eq!(grant["sub"], "4242");
    let run = s.run_with_config(
        None,
        &["--as-user", "4242", "--folder", PRINTER_PDFS, &file],
        &[("BOX_TOKEN", sbox::DEVELOPER_TOKEN)],
    );
    assert_eq!(run.code, 64, "{}", run.stderr);
}

#[test]
fn client_credentials_grant_uploads() {
    let s = Setup::new();
    let file = s.file("requisitions.csv", csv(3, "r"));
    let run = s.run_with_config(
        None,
        &["--folder", sbox::TO_CITY, &file],
        &[
            ("BOX_CLIENT_ID", CLIENT_ID),
            ("BOX_CLIENT_SECRET", CLIENT_SECRET),
            ("BOX_SUBJECT_TYPE", "enterprise"),
            ("BOX_SUBJECT_ID", ENTERPRISE_ID),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tokens = s.received("POST", "/box/oauth2/token");
    assert_eq!(tokens.len(), 1);
    assert!(
        tokens[0]
            .text()
            .starts_with("grant_type=client_credentials&")
    );
    assert!(
        tokens[0]
            .text()
            .contains("box_subject_type=enterprise&box_subject_id=900001")
    );
    assert_eq!(s.files_in(sbox::TO_CITY).len(), 1);
    assert!(!run.stderr.contains(CLIENT_SECRET));
}

#[test]
fn an_app_made_at_run_time_signs_its_grant() {
    let s = Setup::new();
    let (private, public) = key_pair(
        &s.dir,
        "app",
        "run-time-passphrase",
        "aes-256-cbc",
        "hmacWithSHA256",
    );
    let app = TestApp {
        client_id: "run-time-client",
        secret: "run-time-secret",
        kid: "rtkey01",
    };
    app.register(&s.sb, &public);
    let config = app.config(&s.dir, "rt.json", &private, "run-time-passphrase");
    let run = s.put_one(&config, "a.csv", csv(2, "x"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.files_in(PRINTER_PDFS).len(), 1);
}

#[test]
fn keys_as_box_hands_them_out_3des_and_sha1_are_read() {
    let s = Setup::new();
    let (private, public) = key_pair(&s.dir, "old", "old-passphrase", "des3", "hmacWithSHA1");
    let app = TestApp {
        client_id: "old-client",
        secret: "old-secret",
        kid: "oldkey1",
    };
    app.register(&s.sb, &public);
    let config = app.config(&s.dir, "old.json", &private, "old-passphrase");
    let run = s.put_one(&config, "b.csv", csv(2, "y"));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_passphrase_from_the_environment_wins() {
    let s = Setup::new();
    let config = s
        .dir
        .create("nopass.json", sbox::default_app_config("").to_string());
    let file = s.file("c.csv", "x\n1\n");
    let run = s.run_with_config(
        Some(&config),
        &[
            "--passphrase-env",
            "APP_KEY_PASS",
            "--folder",
            PRINTER_PDFS,
            &file,
        ],
        &[("APP_KEY_PASS", PASSPHRASE)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_wrong_passphrase_is_78_and_no_secret_is_shown() {
    let s = Setup::new();
    let config = s.dir.create(
        "bad.json",
        sbox::default_app_config("wrong-passphrase-value").to_string(),
    );
    let run = s.put_one(&config, "d.csv", "x\n1\n");
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("box-put: error: --config "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("passphrase"), "{}", run.stderr);
    common::testing::assert_one_line_without(
        &run.stderr,
        &["wrong-passphrase-value", CLIENT_SECRET, "PRIVATE KEY"],
    );
    assert!(s.sb.received("box").is_empty(), "nothing is sent");
}

#[test]
fn an_unknown_key_is_77() {
    let s = Setup::new();
    let (_, public) = key_pair(
        &s.dir,
        "known",
        "p1-passphrase",
        "aes-256-cbc",
        "hmacWithSHA256",
    );
    let (private, _) = key_pair(
        &s.dir,
        "other",
        "p2-passphrase",
        "aes-256-cbc",
        "hmacWithSHA256",
    );
    let app = TestApp {
        client_id: "key-client",
        secret: "key-secret-value",
        kid: "kkey01",
    };
    app.register(&s.sb, &public);
    let config = app.config(&s.dir, "k.json", &private, "p2-passphrase");
    let run = s.put_one(&config, "e.csv", "x\n1\n");
    assert_eq!(run.code, 77, "{}", run.stderr);
    assert!(run.stderr.contains("grant was refused"), "{}", run.stderr);
    common::testing::assert_one_line_without(&run.stderr, &["key-secret-value", "p2-passphrase"]);
    assert!(s.files_in(PRINTER_PDFS).is_empty());
}

#[test]
fn refused_client_credentials_and_developer_tokens_are_77_without_the_secret() {
    let s = Setup::new();
    let file = s.file("f.csv", "x\n1\n");
    let run = s.run_with_config(
        None,
        &["--folder", PRINTER_PDFS, &file],
        &[
            ("BOX_CLIENT_ID", CLIENT_ID),
            ("BOX_CLIENT_SECRET", "not-the-client-secret"),
            ("BOX_SUBJECT_TYPE", "enterprise"),
            ("BOX_SUBJECT_ID", ENTERPRISE_ID),
        ],
    );
    assert_eq!(run.code, 77, "{}", run.stderr);
    common::testing::assert_one_line_without(&run.stderr, &["not-the-client-secret"]);

    let run = s.run_with_config(
        None,
        &["--folder", PRINTER_PDFS, &file],
        &[("BOX_TOKEN", "bogus-developer-token")],
    );
    assert_eq!(run.code, 77, "{}", run.stderr);
    common::testing::assert_one_line_without(&run.stderr, &["bogus-developer-token"]);

    let run = s.run_with_config(
        None,
        &["--folder", PRINTER_PDFS, &file],
        &[("BOX_TOKEN", sbox::DEVELOPER_TOKEN)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        s.received("POST", "/box/oauth2/token")
            .iter()
            .all(|r| !r.text().contains("bogus"))
    );
}

#[test]
fn no_credentials_is_78() {
    let s = Setup::new();
    let file = s.file("g.csv", "x\n1\n");
    let run = s.run_with_config(None, &["--folder", PRINTER_PDFS, &file], &[]);
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("no Box credentials"), "{}", run.stderr);
    let run = s.run_with_config(
        None,
        &["--auth", "ccg", "--folder", PRINTER_PDFS, &file],
        &[("BOX_CLIENT_ID", CLIENT_ID)],
    );
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("BOX_SUBJECT_TYPE, BOX_SUBJECT_ID, BOX_CLIENT_SECRET"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_token_expired_mid_run_is_issued_again_once() {
    let s = Setup::new();
    let first = s.file("one.csv", csv(3, "1"));
    let second = s.file("two.csv", csv(3, "2"));
    let path = "/box/upload/api/2.0/files/content";
    // The first upload passes as it is; the second is held two seconds, in
    // which the tokens expire.
    s.sb.fault(Fault {
        path: path.into(),
        count: 1,
        status: 0,
        ..Default::default()
    });
    s.sb.fault(Fault {
        path: path.into(),
        count: 1,
        status: 0,
        delay_ms: 2000,
        ..Default::default()
    });
    let run = std::thread::scope(|scope| {
        let runner = scope.spawn(|| s.run(&["--folder", PRINTER_PDFS, &first, &second], &[]));
        let started = Instant::now();
        while !s.received("POST", path).iter().any(|r| r.status == 201)
            && started.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        s.sb.box_expire_tokens();
        runner.join().unwrap()
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.values().len(), 2);
    assert_eq!(s.received("POST", "/box/oauth2/token").len(), 2);
    let statuses: Vec<u16> = s.received("POST", path).iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![201, 401, 201]);
    assert_eq!(s.files_in(PRINTER_PDFS).len(), 2);
}

// ------------------------------------------------------------------ conflicts

#[test]
fn a_name_in_use_gives_a_new_version_and_the_same_content_none() {
    let s = Setup::new();
    let file = s.file("report.csv", csv(3, "v1"));
    s.ok(&["--folder", DAILY_DRIVE_THRU, &file]);
    let file = s.file("report.csv", csv(4, "v2"));
    let run = s.ok(&["--folder", DAILY_DRIVE_THRU, &file]);
    let r = &run.values()[0];
    assert_eq!(r["fields"]["action"], "version");
    let files = s.files_in(DAILY_DRIVE_THRU);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["version_count"], 2);
    assert_eq!(r["remote_id"], files[0]["id"]);
    assert_eq!(
        s.received(
            "POST",
            &format!(
                "/box/upload/api/2.0/files/{}/content",
                files[0]["id"].as_str().unwrap()
            )
        )
        .len(),
        1
    );
    // The same content again: nothing new.
    let run = s.ok(&["--folder", DAILY_DRIVE_THRU, &file]);
    let r = &run.values()[0];
    assert_eq!(r["fields"]["action"], "unchanged");
    assert!(r.get("status").is_none());
    assert_eq!(s.files_in(DAILY_DRIVE_THRU)[0]["version_count"], 2);
    // Unless --force.
    let run = s.ok(&["--folder", DAILY_DRIVE_THRU, "--force", &file]);
    assert_eq!(run.values()[0]["fields"]["action"], "version");
    assert_eq!(s.files_in(DAILY_DRIVE_THRU)[0]["version_count"], 3);
}

#[test]
fn skip_leaves_the_file_and_says_whether_it_matched() {
    let s = Setup::new();
    let file = s.file("pdfs.csv", csv(3, "s"));
    s.ok(&["--folder", PRINTER_PDFS, &file]);
    let run = s.ok(&["--folder", PRINTER_PDFS, "--on-conflict", "skip", &file]);
    assert_eq!(run.values()[0]["fields"]["action"], "unchanged");
    let other = s.file("pdfs.csv", csv(5, "t"));
    let run = s.ok(&["--folder", PRINTER_PDFS, "--on-conflict", "skip", &other]);
    assert_eq!(run.values()[0]["fields"]["action"], "skipped");
    assert!(
        run.stderr.contains("warning: ") && run.stderr.contains("left as it is"),
        "{}",
        run.stderr
    );
    let files = s.files_in(PRINTER_PDFS);
    assert_eq!(files[0]["version_count"], 1);
    assert_eq!(files[0]["sha1"], sha1_hex(csv(3, "s").as_bytes()));
}

#[test]
fn fail_stops_at_a_name_in_use() {
    let s = Setup::new();
    let file = s.file("same.csv", csv(3, "f"));
    s.ok(&["--folder", PRINTER_PDFS, &file]);
    let run = s.run(
        &["--folder", PRINTER_PDFS, "--on-conflict", "fail", &file],
        &[],
    );
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(run.stderr.contains("--on-conflict fail"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(s.files_in(PRINTER_PDFS)[0]["version_count"], 1);
}

// ------------------------------------------------------------------ chunked

#[test]
fn a_60_mb_file_goes_in_an_upload_session() {
    let s = Setup::new();
    let mut content = Vec::with_capacity(60_000_000);
    let line = csv(1000, "big");
    while content.len() < 60_000_000 {
        content.extend_from_slice(line.as_bytes());
    }
    content.truncate(60_000_000);
    let file = s.file("big.csv", &content);
    let run = s.ok(&["--folder", sbox::TRANSPORTATION, &file]);
    let r = &run.values()[0];
    assert_eq!(r["fields"]["upload"], "chunked");
    assert_eq!(r["fields"]["action"], "upload");
    assert_eq!(r["bytes"], 60_000_000);
    let files = s.files_in(sbox::TRANSPORTATION);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["sha1"], sha1_hex(&content));
    assert_eq!(files[0]["size"], 60_000_000);
    let state = s.state();
    let sessions = state["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["state"], "committed");
    let parts = s.received("PUT", "/box/upload/api/2.0/files/upload_sessions/");
    assert_eq!(parts.len(), 8);
    for (i, part) in parts.iter().enumerate() {
        let lo = i as u64 * sbox::PART_SIZE;
        let hi = (lo + sbox::PART_SIZE).min(60_000_000) - 1;
        assert_eq!(
            part.header("content-range"),
            Some(format!("bytes {lo}-{hi}/60000000").as_str())
        );
        assert!(part.header("digest").is_some_and(|d| d.starts_with("sha=")));
    }
    let commits: Vec<u16> = s
        .received("POST", "/box/upload/api/2.0/files/upload_sessions/")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        commits,
        vec![202, 201],
        "the commit is sent again after 202"
    );
}

#[test]
fn a_name_in_use_at_session_open_gives_a_version_session() {
    let s = Setup::new();
    let threshold = ["--chunked-threshold", "20000000"];
    let first = s.file("roster.bin", vec![b'a'; 21_000_000]);
    let run = s.ok(&[
        &["--folder", sbox::TRANSPORTATION][..],
        &threshold,
        &[first.as_str()],
    ]
    .concat());
    let id = run.values()[0]["remote_id"].as_str().unwrap().to_string();
    let second = vec![b'b'; 21_000_000];
    let file = s.file("roster.bin", &second);
    let run = s.ok(&[
        &["--folder", sbox::TRANSPORTATION][..],
        &threshold,
        &[file.as_str()],
    ]
    .concat());
    let r = &run.values()[0];
    assert_eq!(r["fields"]["action"], "version");
    assert_eq!(r["fields"]["upload"], "chunked");
    assert_eq!(r["remote_id"], id.as_str());
    let files = s.files_in(sbox::TRANSPORTATION);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["version_count"], 2);
    assert_eq!(files[0]["sha1"], sha1_hex(&second));
    // The new file's session was refused (409, its conflicts a list), then
    // a session for a new version of that file was opened.
    let opened: Vec<(String, u16)> = s
        .received("POST", "/box/upload/api/2.0/files/")
        .into_iter()
        .filter(|r| r.path.ends_with("/upload_sessions"))
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(
        opened,
        vec![
            ("/box/upload/api/2.0/files/upload_sessions".to_string(), 201),
            ("/box/upload/api/2.0/files/upload_sessions".to_string(), 409),
            (
                format!("/box/upload/api/2.0/files/{id}/upload_sessions"),
                201
            ),
        ]
    );
    // The same content again: the session is refused and nothing is sent.
    let parts_before = s
        .received("PUT", "/box/upload/api/2.0/files/upload_sessions/")
        .len();
    let run = s.ok(&[
        &["--folder", sbox::TRANSPORTATION][..],
        &threshold,
        &[file.as_str()],
    ]
    .concat());
    assert_eq!(run.values()[0]["fields"]["action"], "unchanged");
    assert_eq!(
        s.received("PUT", "/box/upload/api/2.0/files/upload_sessions/")
            .len(),
        parts_before
    );
}

#[test]
fn a_failed_part_aborts_the_session() {
    let s = Setup::new();
    let content = vec![b'x'; 21_000_000];
    let file = s.file("cut.bin", &content);
    s.sb.fault(Fault {
        path: "/box/upload/api/2.0/files/upload_sessions/*".into(),
        method: Some("PUT".into()),
        count: 1,
        status: 503,
        ..Default::default()
    });
    let run = s.run(
        &[
            "--folder",
            sbox::TRANSPORTATION,
            "--chunked-threshold",
            "20000000",
            "--retries",
            "0",
            &file,
        ],
        &[],
    );
    assert_eq!(run.code, 75, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let state = s.state();
    let sessions = state["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["state"], "aborted");
    assert!(s.files_in(sbox::TRANSPORTATION).is_empty());
    assert_eq!(
        s.received("DELETE", "/box/upload/api/2.0/files/upload_sessions/")
            .len(),
        1
    );
}

// ------------------------------------------------------------------ folders

#[test]
fn a_folder_path_is_created_then_reused() {
    let s = Setup::new();
    let file = s.file("patients_form_print.csv", csv(2, "p"));
    let path = "Parent/Daily Drive Thru Documents/05-07-2020";
    let run = s.ok(&["--path", path, "--mkdir", &file]);
    let r = &run.values()[0];
    assert_eq!(r["target"], path);
    assert_eq!(s.received("POST", "/box/2.0/folders").len(), 1);
    let state = s.state();
    let created: Vec<&Value> = state["folders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"] == "05-07-2020")
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["parent"], DAILY_DRIVE_THRU);
    assert_eq!(r["fields"]["folder_id"], created[0]["id"]);

    let other = s.file("patient_appointments.csv", csv(2, "q"));
    let run = s.ok(&["--path", path, "--mkdir", &other]);
    assert_eq!(run.values()[0]["fields"]["folder_id"], created[0]["id"]);
    assert_eq!(
        s.received("POST", "/box/2.0/folders").len(),
        1,
        "the second run creates nothing"
    );

    // A name that differs only in case is the same folder, for Box.
    let third = s.file("third.csv", csv(2, "z"));
    let run = s.ok(&[
        "--path",
        "parent/daily drive thru documents/05-07-2020",
        &third,
    ]);
    assert_eq!(run.values()[0]["fields"]["folder_id"], created[0]["id"]);

    // Without --mkdir a missing folder is 69, and nothing is created.
    let run = s.run(&["--path", "Parent/nowhere", &other], &[]);
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(run.stderr.contains("--mkdir"), "{}", run.stderr);
}

#[test]
fn a_dry_run_resolves_and_checks_but_uploads_nothing() {
    let s = Setup::new();
    let existing = s.file("exists.csv", csv(2, "e"));
    s.ok(&["--folder", DAILY_DRIVE_THRU, &existing]);
    let fresh = s.file("fresh.csv", csv(2, "n"));
    let before = s.sb.received("box").len();
    let run = s.ok(&[
        "--dry-run",
        "--path",
        "Parent/Daily Drive Thru Documents",
        &existing,
        &fresh,
    ]);
    let receipts = run.values();
    assert_eq!(receipts.len(), 2);
    assert!(receipts.iter().all(|r| r["dry_run"] == true));
    assert_eq!(receipts[0]["fields"]["action"], "unchanged");
    assert_eq!(receipts[1]["fields"]["action"], "upload");
    let after: Vec<Received> = s.sb.received("box").into_iter().skip(before).collect();
    assert!(
        after
            .iter()
            .all(|r| r.method == "GET" || r.path == "/box/oauth2/token"),
        "{after:?}"
    );

    let run = s.ok(&[
        "--dry-run",
        "--path",
        "Parent/Daily Drive Thru Documents/05-08-2020/x",
        "--mkdir",
        &fresh,
    ]);
    assert!(run.stderr.contains("would create folders \"Parent/Daily Drive Thru Documents/05-08-2020\", \"Parent/Daily Drive Thru Documents/05-08-2020/x\""), "{}", run.stderr);
    assert_eq!(run.values()[0]["fields"]["folder_id"], Value::Null);
    assert!(s.received("POST", "/box/2.0/folders").is_empty());
    assert_eq!(s.files_in(DAILY_DRIVE_THRU).len(), 1);
}

// ------------------------------------------------------------------ faults and input

#[test]
fn a_429_is_retried_after_its_retry_after() {
    let s = Setup::new();
    let file = s.file("busy.csv", csv(2, "b"));
    s.sb.fault(Fault {
        path: "/box/upload/api/2.0/files/content".into(),
        count: 1,
        status: 429,
        retry_after: Some(1),
        ..Default::default()
    });
    let started = Instant::now();
    let run = s.ok(&["--folder", PARENT, &file]);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(run.stderr.contains("429"), "{}", run.stderr);
    let statuses: Vec<u16> = s
        .received("POST", "/box/upload/api/2.0/files/content")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![429, 201]);
}

#[test]
fn stdin_needs_a_name_and_missing_files_stop_before_anything_is_sent() {
    let s = Setup::new();
    let mut cmd = Command::new(BIN);
    for var in BOX_VARS.iter().chain(HTTP_VARS) {
        cmd.env_remove(var);
    }
    let run = Run::of(cmd.args(["--folder", PARENT, "-"]));
    assert_eq!(run.code, 64, "{}", run.stderr);

    let run = s.run(&["--folder", PARENT, "missing.csv"], &[]);
    assert_eq!(run.code, 66, "{}", run.stderr);
    assert!(s.sb.received("box").is_empty());

    let api = format!("{}/box/2.0", s.sb.url());
    let upload = format!("{}/box/upload/api/2.0", s.sb.url());
    let out = Command::new(BIN)
        .args([
            "--api-url",
            &api,
            "--upload-url",
            &upload,
            "--folder",
            PARENT,
            "--name",
            "from-stdin.csv",
            "-",
        ])
        .arg("--ca-file")
        .arg(s.sb.ca_file())
        .arg("--config")
        .arg(&s.config)
        .write_stdin("a,b\n1,2\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = s.files_in(PARENT);
    assert!(
        files
            .iter()
            .any(|f| f["name"] == "from-stdin.csv" && f["sha1"] == sha1_hex(b"a,b\n1,2\n"))
    );
}
