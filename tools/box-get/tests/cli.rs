#![allow(clippy::unwrap_used)]
//! box-get through its binary, against the in-process sandbox's Box over
//! HTTPS with a test CA: what came out, what the files hold, what the
//! sandbox received and what its store holds afterwards. All data is
//! invented.

use assert_cmd::Command;
use common::hash::{hex, sha256_hex};
use common::testing::{BOX_VARS, HTTP_VARS, Run, assert_one_line_without, mode_of, names_in};
use sandbox::apis::boxapi::{
    CLIENT_ID, CLIENT_SECRET, DEVELOPER_TOKEN, ENTERPRISE_ID, ERROR, FROM_CITY, PASSPHRASE,
    PROCESSED, SUCCESS, default_app_config,
};
use sandbox::{Fault, Received, Sandbox};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use std::path::{Path, PathBuf};

const BIN: &str = env!("CARGO_BIN_EXE_box-get");

/// The seeded files of "from city".
const APPROVALS_0507: &str = "200001";
const APPROVALS_0508: &str = "200002";
const FROM_CITY_PATH: &str = "Parent/Business Liaisons/from city";

/// A sandbox, a working folder, and the app's box_config.json in it (the
/// sandbox's default app, with the fixture's encrypted key).
struct BoxEnv {
    sb: Sandbox,
    dir: tempfile::TempDir,
    config: PathBuf,
    ca: String,
}

impl BoxEnv {
    fn start() -> BoxEnv {
        let sb = Sandbox::start().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("box_config.json");
        write_config(&config, PASSPHRASE);
        let ca = sb.ca_file().display().to_string();
        BoxEnv {
            sb,
            dir,
            config,
            ca,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// box-get with the JWT app, pointed at the sandbox, quick retries.
    fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        for var in HTTP_VARS.iter().chain(BOX_VARS) {
            cmd.env_remove(var);
        }
        cmd.current_dir(self.dir.path())
            .env("BOX_CONFIG", &self.config)
            .env("BOX_API_URL", format!("{}/2.0", self.sb.api_url("box")))
            .args(["--ca-file", &self.ca, "--retry-delay", "1"]);
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::of(self.command().args(args))
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        Run::of(self.command().args(args).write_stdin(stdin.to_string()))
    }

    fn ok(&self, args: &[&str]) -> Run {
        ok(self.run(args))
    }

    /// Download the files of "from city" that `glob` keeps into inbox.
    fn download_to_inbox(&self, glob: &str) -> Run {
        self.ok(&["--folder", FROM_CITY, "--glob", glob, "--out-dir", "inbox"])
    }

    /// The requests the sandbox's Box received, but token requests.
    fn api_requests(&self) -> Vec<Received> {
        self.sb
            .received("box")
            .into_iter()
            .filter(|r| !r.path.ends_with("/oauth2/token"))
            .collect()
    }

    fn token_requests(&self) -> usize {
        self.sb
            .received("box")
            .iter()
            .filter(|r| r.path == "/box/oauth2/token")
            .count()
    }

    /// A file of the sandbox's store, by id (Null when gone).
    fn stored_file(&self, id: &str) -> Value {
        self.sb.state("box")["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn folders_named(&self, name: &str) -> usize {
        self.sb.state("box")["folders"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["name"] == name)
            .count()
    }
}

fn write_config(path: &Path, passphrase: &str) {
    std::fs::write(path, default_app_config(passphrase).to_string()).unwrap();
}

fn ok(run: Run) -> Run {
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run
}

fn fails(run: Run, code: i32) -> Run {
    assert_eq!(
        run.code, code,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("box-get: error: "), "{}", run.stderr);
    run
}

fn sha1_hex(bytes: &[u8]) -> String {
    hex(&Sha1::digest(bytes))
}

fn names(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------- listing

#[test]
fn a_big_folder_is_listed_page_by_page_without_gaps_or_repeats() {
    let env = BoxEnv::start();
    let big = env.sb.box_add_folder("0", "big").unwrap();
    let mut ids = Vec::new();
    for i in 0..7 {
        let content = format!("id,n\n{i},{i}\n");
        ids.push(
            env.sb
                .box_add_file(&big, &format!("file-{i}.csv"), content.as_bytes())
                .unwrap(),
        );
    }
    ids.push(env.sb.box_add_folder(&big, "sub").unwrap());
    let run = env.ok(&["--folder", &big, "--list", "--page-size", "3"]);
    let entries = run.values();
    let mut listed: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    listed.sort_unstable();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(listed, want, "every entry once: {}", run.stdout);
    let file = entries.iter().find(|e| e["name"] == "file-3.csv").unwrap();
    let keys: Vec<&str> = file
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys[..6], ["type", "id", "name", "size", "sha1", "etag"]);
    assert_eq!(file["size"], 9);
    assert_eq!(file["sha1"], sha1_hex(b"id,n\n3,3\n"));
    let folder = entries.iter().find(|e| e["name"] == "sub").unwrap();
    assert_eq!(folder["type"], "folder");
    assert!(folder.get("sha1").is_none());
    let lists: Vec<Received> = env
        .api_requests()
        .into_iter()
        .filter(|r| r.path == format!("/box/2.0/folders/{big}/items"))
        .collect();
    assert_eq!(lists.len(), 3, "{lists:?}");
    for (request, offset) in lists.iter().zip(["offset=0", "offset=3", "offset=6"]) {
        assert!(request.query.contains("limit=3"), "{}", request.query);
        assert!(request.query.contains(offset), "{}", request.query);
        assert!(request.header("authorization").is_some());
    }
    assert_eq!(run.stderr, "box-get: 8 entries in 3 pages\n");
}

#[test]
fn globs_and_types_choose_the_entries_of_a_path() {
    let env = BoxEnv::start();
    let run = env.ok(&["--path", FROM_CITY_PATH, "--list", "--glob", "*05-07*"]);
    assert_eq!(names(&run.values()), ["approvals-2020-05-07.csv"]);
    env.sb
        .box_add_file(FROM_CITY, "notes.txt", b"not a csv")
        .unwrap();
    env.sb
        .box_add_file(FROM_CITY, "APPROVALS.CSV", b"upper case")
        .unwrap();
    let run = env.ok(&[
        "--path",
        FROM_CITY_PATH,
        "--list",
        "--glob",
        "*.csv",
        "--glob",
        "*.txt",
    ]);
    let mut listed = names(&run.values());
    listed.sort_unstable();
    assert_eq!(
        listed,
        [
            "approvals-2020-05-07.csv",
            "approvals-2020-05-08.csv",
            "notes.txt"
        ]
    );
    let run = env.ok(&[
        "--path",
        "Parent/Business Liaisons",
        "--list",
        "--type",
        "folder",
        "--quiet",
    ]);
    let mut listed = names(&run.values());
    listed.sort_unstable();
    assert_eq!(listed, ["from city", "to city"]);
    assert_eq!(run.stderr, "");
    let run = fails(env.run(&["--path", "Parent/nowhere", "--list"]), 69);
    assert!(run.stderr.contains("nowhere"), "{}", run.stderr);
}

#[test]
fn a_429_on_a_listing_is_retried() {
    let env = BoxEnv::start();
    env.sb.fault(Fault {
        path: format!("/box/2.0/folders/{FROM_CITY}/items"),
        count: 1,
        status: 429,
        retry_after: Some(1),
        ..Default::default()
    });
    let run = env.ok(&["--folder", FROM_CITY, "--list"]);
    assert_eq!(run.values().len(), 2);
    assert!(run.stderr.contains("429"), "{}", run.stderr);
}

// ---------------------------------------------------------------- downloads

#[test]
fn downloads_are_checked_written_0600_and_fetched_without_the_token() {
    let env = BoxEnv::start();
    let run = env.ok(&[
        "--path",
        FROM_CITY_PATH,
        "--glob",
        "*.csv",
        "--out-dir",
        "inbox",
    ]);
    let receipts = run.values();
    assert_eq!(receipts.len(), 2, "{}", run.stdout);
    for receipt in &receipts {
        let id = receipt["remote_id"].as_str().unwrap();
        let name = receipt["name"].as_str().unwrap();
        let path = env.path("inbox").join(name);
        let content = std::fs::read(&path).unwrap();
        let stored = env.stored_file(id);
        assert_eq!(sha1_hex(&content), stored["sha1"], "{name}");
        assert_eq!(mode_of(&path), 0o600, "{name}");
        assert_eq!(receipt["tool"], "box-get");
        assert_eq!(receipt["target"], FROM_CITY_PATH);
        assert_eq!(receipt["bytes"], content.len());
        assert_eq!(receipt["sha256"], sha256_hex(&content));
        assert_eq!(receipt["fields"]["action"], "download");
        assert_eq!(receipt["fields"]["folder_id"], FROM_CITY);
        assert_eq!(receipt["fields"]["sha1"], stored["sha1"]);
        assert_eq!(receipt["fields"]["etag"], "0");
        assert_eq!(receipt["fields"]["path"], format!("inbox/{name}"));
        assert!(!receipt.to_string().contains("REQ-0001"));
    }
    assert_eq!(names_in(&env.path("inbox")).len(), 2);
    assert_eq!(mode_of(&env.path("inbox")), 0o700);
    // The API call carries the token; the download host gets none.
    let requests = env.api_requests();
    let content = requests
        .iter()
        .find(|r| r.path == format!("/box/2.0/files/{APPROVALS_0507}/content"))
        .unwrap();
    assert_eq!(content.status, 302);
    assert!(content.header("authorization").is_some());
    let downloads: Vec<&Received> = requests
        .iter()
        .filter(|r| r.path.starts_with("/box/dl/"))
        .collect();
    assert_eq!(downloads.len(), 2);
    for download in downloads {
        assert_eq!(download.header("authorization"), None, "{download:?}");
        assert_eq!(download.status, 200);
    }
    assert_eq!(run.stderr, "box-get: 2 files downloaded (182 bytes)\n");
}

#[test]
fn a_large_file_is_streamed_to_disk_and_checked() {
    let env = BoxEnv::start();
    // 6 MB of varied bytes: more than any buffer along the way.
    let mut state = 0x2545_f491_u32;
    let content: Vec<u8> = (0..6_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect();
    let id = env
        .sb
        .box_add_file(FROM_CITY, "printer-batch.pdf", &content)
        .unwrap();
    let run = env.ok(&[
        "--folder",
        FROM_CITY,
        "--glob",
        "*.pdf",
        "--out-dir",
        "pdfs",
        "--quiet",
    ]);
    let receipt = &run.values()[0];
    assert_eq!(receipt["remote_id"], id);
    assert_eq!(receipt["bytes"], content.len());
    assert_eq!(receipt["sha256"], sha256_hex(&content));
    assert!(std::fs::read(env.path("pdfs/printer-batch.pdf")).unwrap() == content);
    assert_eq!(run.stderr, "");
}

#[test]
fn an_existing_file_is_replaced_or_with_no_clobber_left_alone() {
    let env = BoxEnv::start();
    std::fs::create_dir(env.path("inbox")).unwrap();
    std::fs::write(env.path("inbox/approvals-2020-05-08.csv"), "old\n").unwrap();
    let run = env.ok(&[
        "--folder",
        FROM_CITY,
        "--glob",
        "approvals-2020-05-08.csv",
        "--out-dir",
        "inbox",
        "--no-clobber",
    ]);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("--no-clobber"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(env.path("inbox/approvals-2020-05-08.csv")).unwrap(),
        "old\n"
    );
    let run = env.download_to_inbox("approvals-2020-05-08.csv");
    assert_eq!(run.values().len(), 1);
    let content = std::fs::read(env.path("inbox/approvals-2020-05-08.csv")).unwrap();
    assert_eq!(sha1_hex(&content), env.stored_file(APPROVALS_0508)["sha1"]);
    assert_eq!(names_in(&env.path("inbox")), ["approvals-2020-05-08.csv"]);
}

#[test]
fn a_download_that_does_not_match_its_sha1_is_retried_then_refused() {
    let env = BoxEnv::start();
    let tampered = Fault {
        path: "/box/dl/*".into(),
        status: 200,
        body: Some(json!("request_id,facility\nREQ-9999,tampered\n")),
        ..Default::default()
    };
    // Once: the second download is the file.
    env.sb.fault(Fault {
        count: 1,
        ..tampered.clone()
    });
    let run = env.download_to_inbox("*05-07.csv");
    assert_eq!(run.values().len(), 1);
    assert!(run.stderr.contains("sha1"), "{}", run.stderr);
    assert!(!run.stderr.contains("REQ-"), "{}", run.stderr);
    let content = std::fs::read(env.path("inbox/approvals-2020-05-07.csv")).unwrap();
    assert_eq!(sha1_hex(&content), env.stored_file(APPROVALS_0507)["sha1"]);
    // Every time: refused, nothing left behind.
    env.sb.fault(Fault {
        count: 10,
        ..tampered
    });
    let run = fails(
        env.run(&[
            "--folder",
            FROM_CITY,
            "--glob",
            "*05-08.csv",
            "--out-dir",
            "inbox2",
            "--retries",
            "1",
        ]),
        75,
    );
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("sha1"), "{}", run.stderr);
    assert!(!run.stderr.contains("REQ-"), "{}", run.stderr);
    assert!(names_in(&env.path("inbox2")).is_empty());
}

#[test]
fn a_202_is_asked_again_after_its_retry_after() {
    let env = BoxEnv::start();
    env.sb.fault(Fault {
        path: format!("/box/2.0/files/{APPROVALS_0508}/content"),
        method: Some("GET".into()),
        count: 1,
        status: 202,
        retry_after: Some(1),
        ..Default::default()
    });
    let run = env.download_to_inbox("*05-08.csv");
    assert_eq!(run.values().len(), 1);
    let statuses: Vec<u16> = env
        .api_requests()
        .iter()
        .filter(|r| r.path.ends_with("/content") || r.path.starts_with("/box/dl/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [202, 302, 200]);
}

#[test]
fn a_token_refused_mid_run_is_fetched_again_once() {
    let env = BoxEnv::start();
    env.sb.fault(Fault {
        path: format!("/box/2.0/files/{APPROVALS_0508}/content"),
        count: 1,
        status: 401,
        ..Default::default()
    });
    let run = env.ok(&["--folder", FROM_CITY, "--out-dir", "inbox"]);
    assert_eq!(run.values().len(), 2);
    assert_eq!(env.token_requests(), 2);
}

// ---------------------------------------------------------------- moves and deletes

#[test]
fn a_receipt_moves_its_file_to_processed_success() {
    let env = BoxEnv::start();
    let run = env.download_to_inbox("*05-07.csv");
    let download = run.stdout.clone();
    let run = ok(env.run_stdin(&["--move-to", "Parent/processed/success"], &download));
    let receipts = run.values();
    assert_eq!(receipts.len(), 1);
    let receipt = &receipts[0];
    assert_eq!(receipt["remote_id"], APPROVALS_0507);
    assert_eq!(receipt["target"], "Parent/processed/success");
    assert_eq!(receipt["name"], "approvals-2020-05-07.csv");
    assert_eq!(receipt["fields"]["action"], "move");
    assert_eq!(receipt["fields"]["folder_id"], SUCCESS);
    assert_eq!(receipt["fields"]["from_folder_id"], FROM_CITY);
    let downloaded: Value = serde_json::from_str(download.trim()).unwrap();
    assert_eq!(receipt["sha256"], downloaded["sha256"]);
    assert_eq!(env.stored_file(APPROVALS_0507)["parent"], SUCCESS);
    let put = env
        .api_requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(put.path, format!("/box/2.0/files/{APPROVALS_0507}"));
    assert_eq!(put.json().unwrap()["parent"]["id"], SUCCESS);
    assert_eq!(put.header("if-match"), Some("0"));
    assert!(run.stderr.contains("1 file moved"), "{}", run.stderr);
    // A rerun finds it there already: the same receipt, no second move.
    let run = ok(env.run_stdin(&["--move-to", "Parent/processed/success"], &download));
    assert_eq!(run.values()[0]["fields"]["folder_id"], SUCCESS);
    let puts = env
        .api_requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(puts, 1);
}

#[test]
fn a_name_taken_in_the_target_is_numbered_or_refused() {
    let env = BoxEnv::start();
    env.sb
        .box_add_file(ERROR, "approvals-2020-05-07.csv", b"an older file\n")
        .unwrap();
    let run = fails(
        env.run(&[
            "--move-to-folder",
            ERROR,
            "--id",
            APPROVALS_0507,
            "--on-conflict",
            "fail",
        ]),
        69,
    );
    assert!(run.stderr.contains("--on-conflict fail"), "{}", run.stderr);
    assert_eq!(env.stored_file(APPROVALS_0507)["parent"], FROM_CITY);
    let dry = env.ok(&[
        "--move-to-folder",
        ERROR,
        "--id",
        APPROVALS_0507,
        "--dry-run",
    ]);
    assert_eq!(dry.values()[0]["name"], "approvals-2020-05-07 (2).csv");
    assert_eq!(dry.values()[0]["dry_run"], true);
    assert_eq!(env.stored_file(APPROVALS_0507)["parent"], FROM_CITY);
    let run = env.ok(&["--move-to-folder", ERROR, "--id", APPROVALS_0507]);
    assert_eq!(run.values()[0]["name"], "approvals-2020-05-07 (2).csv");
    let stored = env.stored_file(APPROVALS_0507);
    assert_eq!(stored["parent"], ERROR);
    assert_eq!(stored["name"], "approvals-2020-05-07 (2).csv");
}

#[test]
fn a_missing_target_is_created_with_mkdir_and_only_named_in_a_dry_run() {
    let env = BoxEnv::start();
    let args = [
        "--move-to",
        "Parent/processed/2020-05",
        "--id",
        APPROVALS_0508,
        "--mkdir",
    ];
    let run = fails(env.run(&args[..4]), 69);
    assert!(run.stderr.contains("--mkdir"), "{}", run.stderr);
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let run = env.ok(&dry);
    assert_eq!(run.values()[0]["dry_run"], true);
    assert!(run.stderr.contains("would create"), "{}", run.stderr);
    assert_eq!(env.folders_named("2020-05"), 0);
    assert_eq!(env.stored_file(APPROVALS_0508)["parent"], FROM_CITY);
    let run = env.ok(&args);
    let folder = run.values()[0]["fields"]["folder_id"].clone();
    assert_eq!(env.folders_named("2020-05"), 1);
    assert_eq!(env.stored_file(APPROVALS_0508)["parent"], folder);
    let created = env.sb.state("box")["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "2020-05")
        .cloned()
        .unwrap();
    assert_eq!(created["parent"], PROCESSED);
}

#[test]
fn delete_sends_the_file_to_the_trash_after_a_dry_run() {
    let env = BoxEnv::start();
    let listing = env.ok(&["--folder", FROM_CITY, "--list", "--glob", "*05-08*"]);
    let dry = ok(env.run_stdin(&["--delete", "--dry-run"], &listing.stdout));
    assert_eq!(dry.values()[0]["dry_run"], true);
    assert_eq!(dry.values()[0]["fields"]["action"], "delete");
    assert!(env.stored_file(APPROVALS_0508).is_object());
    assert!(!env.api_requests().iter().any(|r| r.method == "DELETE"));
    let run = ok(env.run_stdin(&["--delete"], &listing.stdout));
    let receipt = &run.values()[0];
    assert_eq!(receipt["remote_id"], APPROVALS_0508);
    assert_eq!(receipt["name"], "approvals-2020-05-08.csv");
    assert_eq!(receipt["target"], format!("folder {FROM_CITY}"));
    assert!(receipt.get("sha256").is_none());
    assert!(env.stored_file(APPROVALS_0508).is_null());
    assert!(env.stored_file(APPROVALS_0507).is_object());
    let delete = env
        .api_requests()
        .into_iter()
        .find(|r| r.method == "DELETE")
        .unwrap();
    assert_eq!(delete.path, format!("/box/2.0/files/{APPROVALS_0508}"));
    assert_eq!(delete.header("if-match"), Some("0"));
    // Gone now: a second delete is refused.
    let run = fails(env.run(&["--delete", "--id", APPROVALS_0508]), 69);
    assert!(run.stderr.contains(APPROVALS_0508), "{}", run.stderr);
}

#[test]
fn a_file_changed_since_its_line_was_written_is_left_alone() {
    let env = BoxEnv::start();
    let stale = format!(
        "{{\"tool\":\"box-get\",\"remote_id\":\"{APPROVALS_0507}\",\"fields\":{{\"etag\":\"7\"}}}}\n"
    );
    let run = fails(env.run_stdin(&["--move-to-folder", SUCCESS], &stale), 75);
    assert!(run.stderr.contains("changed"), "{}", run.stderr);
    assert_eq!(env.stored_file(APPROVALS_0507)["parent"], FROM_CITY);
    let run = fails(env.run_stdin(&["--delete"], &stale), 75);
    assert!(run.stderr.contains("<stdin>: line 1"), "{}", run.stderr);
    assert!(env.stored_file(APPROVALS_0507).is_object());
    // Changed between the look and the move: Box's 412.
    env.sb.fault(Fault {
        path: format!("/box/2.0/files/{APPROVALS_0507}"),
        method: Some("PUT".into()),
        count: 1,
        status: 412,
        ..Default::default()
    });
    let fresh = format!("{{\"type\":\"file\",\"id\":\"{APPROVALS_0507}\",\"etag\":\"0\"}}\n");
    fails(env.run_stdin(&["--move-to-folder", SUCCESS], &fresh), 75);
    assert_eq!(env.stored_file(APPROVALS_0507)["parent"], FROM_CITY);
}

#[test]
fn empty_input_does_nothing() {
    let env = BoxEnv::start();
    let run = ok(env.run_stdin(&["--move-to", "Parent/new folder", "--mkdir"], ""));
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("no files"), "{}", run.stderr);
    let run = ok(env.run_stdin(&["--delete", "--quiet"], "\n"));
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    assert!(env.sb.received("box").is_empty());
}

#[test]
fn a_bad_input_line_stops_the_run_before_anything_moves() {
    let env = BoxEnv::start();
    let input = format!(
        "{{\"type\":\"file\",\"id\":\"{APPROVALS_0507}\"}}\n{{\"type\":\"folder\",\"id\":\"{FROM_CITY}\"}}\n"
    );
    let run = fails(env.run_stdin(&["--move-to-folder", SUCCESS], &input), 65);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
    assert!(env.sb.received("box").is_empty());
    let run = fails(
        env.run_stdin(
            &["--delete"],
            "{\"tool\":\"sftp-put\",\"remote_id\":\"200001\"}\n",
        ),
        65,
    );
    assert!(run.stderr.contains("sftp-put"), "{}", run.stderr);
    assert!(env.stored_file(APPROVALS_0507).is_object());
}

// ---------------------------------------------------------------- auth and flags

#[test]
fn secrets_never_reach_stderr() {
    let env = BoxEnv::start();
    // A listing that keeps failing (both attempts), then a file refused.
    env.sb.fault(Fault {
        path: "/box/2.0/folders/*".into(),
        count: 2,
        status: 503,
        ..Default::default()
    });
    let run = fails(
        env.run(&["--folder", FROM_CITY, "--list", "--retries", "1"]),
        75,
    );
    let token = env
        .sb
        .received("box")
        .iter()
        .find_map(|r| r.header("authorization").map(str::to_string))
        .unwrap();
    let token = token.trim_start_matches("Bearer ");
    let secrets = [CLIENT_SECRET, PASSPHRASE, token, "PRIVATE KEY"];
    for secret in secrets {
        assert!(!run.stderr.contains(secret), "{secret}: {}", run.stderr);
    }
    env.sb.fault(Fault {
        path: "/box/2.0/files/*".into(),
        count: 5,
        status: 403,
        ..Default::default()
    });
    let run = fails(env.run(&["--delete", "--id", APPROVALS_0507]), 77);
    assert_one_line_without(&run.stderr, &secrets);
    // The developer token, refused once expired.
    env.sb.box_expire_tokens();
    let mut cmd = env.command();
    cmd.env_remove("BOX_CONFIG")
        .env("BOX_TOKEN", DEVELOPER_TOKEN)
        .args(["--folder", FROM_CITY, "--list"]);
    let run = fails(Run::of(&mut cmd), 77);
    assert_one_line_without(&run.stderr, &[DEVELOPER_TOKEN]);
}

#[test]
fn a_wrong_passphrase_is_a_config_error() {
    let env = BoxEnv::start();
    write_config(&env.config, "not-the-passphrase");
    let run = fails(env.run(&["--folder", FROM_CITY, "--list"]), 78);
    assert_one_line_without(&run.stderr, &["not-the-passphrase", CLIENT_SECRET]);
    assert!(env.sb.received("box").is_empty());
}

#[test]
fn client_credentials_work_too() {
    let env = BoxEnv::start();
    let mut cmd = env.command();
    cmd.env_remove("BOX_CONFIG")
        .env("BOX_CLIENT_ID", CLIENT_ID)
        .env("BOX_CLIENT_SECRET", CLIENT_SECRET)
        .env("BOX_SUBJECT_TYPE", "enterprise")
        .env("BOX_SUBJECT_ID", ENTERPRISE_ID)
        .args(["--folder", FROM_CITY, "--list"]);
    let run = ok(Run::of(&mut cmd));
    assert_eq!(run.values().len(), 2);
}

#[test]
fn flag_mistakes_are_caught_before_anything_is_sent() {
    let env = BoxEnv::start();
    for (args, says) in [
        (&["--folder", "0"][..], "say what to do"),
        (&["--list"][..], "--folder ID or --path"),
        (&["--folder", "0", "--list", "--delete"][..], "one of"),
        (
            &["--folder", "0", "--list", "--glob", "[abc"][..],
            "no closing ]",
        ),
        (
            &["--folder", "0", "--out-dir", "x", "--dry-run"][..],
            "--dry-run goes with",
        ),
        (
            &["--folder", "0", "--delete", "--id", "1"][..],
            "--folder and --path",
        ),
        (&["--delete", "--glob", "*.csv", "--id", "1"][..], "--glob"),
        (&["--folder", "x1", "--list"][..], "--folder"),
        (&["--delete", "--id", "12a"][..], "--id"),
        (&["--folder", "0", "--list", "--mkdir"][..], "--mkdir"),
        (
            &["--folder", "0", "--out-dir", "d", "--type", "folder"][..],
            "--type folder",
        ),
    ] {
        let run = fails(env.run(args), 64);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
    assert!(env.sb.received("box").is_empty());
    assert!(!env.path("x").exists() && !env.path("d").exists());
}

#[test]
fn names_up_to_the_file_system_limit_are_downloaded() {
    let env = BoxEnv::start();
    let names = [
        format!("{}.csv", "a".repeat(236)),
        format!("{}.csv", "é".repeat(125)),
    ];
    for name in &names {
        assert!(name.len() >= 240 && name.len() <= 255, "{}", name.len());
        env.sb
            .box_add_file(FROM_CITY, name, name.as_bytes())
            .unwrap();
    }
    let run = env.download_to_inbox("*.csv");
    let mut received: Vec<String> = run
        .values()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    received.sort();
    let mut want = names_in(&env.path("inbox"));
    want.sort();
    assert_eq!(received, want, "one receipt per file, no temp file left");
    for name in &names {
        assert_eq!(
            std::fs::read(env.path("inbox").join(name)).unwrap(),
            name.as_bytes()
        );
    }
}
