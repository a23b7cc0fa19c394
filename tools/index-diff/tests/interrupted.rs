#![allow(clippy::unwrap_used)]
//! index-diff --commit killed (SIGKILL) at seeded random moments after it
//! starts rewriting a big index and copying it to --backup-dir: the index and every
//! backup are always whole, and a rerun removes the temp files left.

use common::testing::{Rng, SENTINEL, Workdir, names_in, temp_files_in};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_index-diff");
const KILLS: usize = 5;
const RECORDS: usize = 10_000;

fn records() -> String {
    (0..RECORDS)
        .map(|i| format!("{{\"id\":\"case-{i}\",\"name\":\"{SENTINEL}\"}}\n"))
        .collect()
}

/// A result line saying each emitted record was delivered.
fn delivered(emitted: &str) -> String {
    emitted
        .lines()
        .map(|line| {
            let mut record: Value = serde_json::from_str(line).unwrap();
            let result = serde_json::json!({
                "_key": record["_key"].take(),
                "_op": record["_op"].take(),
                "_hash": record["_hash"].take(),
                "_remote_id": record["_remote_id"].take(),
                "ok": true,
            });
            format!("{result}\n")
        })
        .collect()
}

const COMMIT: &[&str] = &[
    "--commit",
    "--index",
    "state/index.json",
    "--backup-dir",
    "log",
    "results.ndjson",
];

/// Run the commit and SIGKILL it `extra` after a temp file first shows in
/// state/ or log/ (or when it ends without one).
fn commit_killed_while_writing(wrk: &Workdir, extra: Duration) {
    let mut child = std::process::Command::new(BIN)
        .current_dir(wrk.root())
        .args(COMMIT)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let writing = || {
        ["state", "log"]
            .iter()
            .any(|dir| wrk.path(dir).exists() && !temp_files_in(&wrk.path(dir)).is_empty())
    };
    while matches!(child.try_wait(), Ok(None)) && !writing() {
        std::thread::sleep(Duration::from_micros(200));
    }
    std::thread::sleep(extra);
    let _ = child.kill();
    let _ = child.wait();
}

/// The number of entries of an index or backup file, one per line as
/// index-diff writes them; panics if the file is not whole.
fn keys_in(wrk: &Workdir, name: &str, case: &str) -> usize {
    let text = wrk.read(name);
    assert!(
        text.starts_with("{\n") && text.ends_with("\n}\n"),
        "{case}: {name} is not a whole index"
    );
    text.lines().count() - 2
}

#[test]
fn commit_killed_anywhere_leaves_whole_index_and_backups_and_a_rerun_cleans_up() {
    let wrk = Workdir::new(BIN);
    wrk.create("in.ndjson", records());
    std::fs::create_dir(wrk.path("state")).unwrap();
    let emitted = wrk.ok(&[
        "--index",
        "state/index.json",
        "--key",
        "id",
        "--mint",
        "uuid",
        "in.ndjson",
    ]);
    wrk.create("results.ndjson", delivered(&emitted));
    let started = Instant::now();
    wrk.ok(COMMIT);
    let whole = started.elapsed();

    let mut rng = Rng(0x5eed_0005);
    let mut left = 0;
    let mut checked = std::collections::HashSet::new();
    for kill in 0..KILLS {
        let delay = Duration::from_micros(rng.below(whole.as_micros() as usize / 4 + 1) as u64);
        commit_killed_while_writing(&wrk, delay);
        let case = format!("kill {kill}, {delay:?} into writing");
        left += temp_files_in(&wrk.path("state")).len() + temp_files_in(&wrk.path("log")).len();
        assert_eq!(keys_in(&wrk, "state/index.json", &case), RECORDS);
        for name in names_in(&wrk.path("log")) {
            if !name.starts_with('.') && checked.insert(name.clone()) {
                assert_eq!(
                    keys_in(&wrk, &format!("log/{name}"), &case),
                    RECORDS,
                    "{name}"
                );
            }
        }
        wrk.ok(COMMIT);
        assert_eq!(
            temp_files_in(&wrk.path("state")),
            Vec::<String>::new(),
            "{case}"
        );
        assert_eq!(
            temp_files_in(&wrk.path("log")),
            Vec::<String>::new(),
            "{case}"
        );
    }
    eprintln!("{KILLS} kills left {left} temp files, all removed by the reruns");
}
