#![allow(clippy::unwrap_used)]
//! batch-split --out-dir killed (SIGKILL) at seeded random moments: no
//! batch file is ever partial under its name, and a rerun removes the temp
//! files the killed run left and writes every batch, with its receipt.

use common::testing::{Rng, SENTINEL, Workdir, kill_after, names_in, temp_files_in};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_batch-split");
const KILLS: usize = 6;

/// About 4 MB of NDJSON, 20 batches of 1000 records.
fn records() -> String {
    (0..20_000)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"name\":\"{SENTINEL}\",\"note\":\"{}\"}}\n",
                "x".repeat(150)
            )
        })
        .collect()
}

fn split(wrk: &Workdir, out: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    cmd.current_dir(wrk.root())
        .args(["-n", "1000", "--out-dir", out, "in.ndjson"]);
    cmd
}

#[test]
fn out_dir_killed_anywhere_never_shows_a_partial_batch_and_a_rerun_cleans_up() {
    let wrk = Workdir::new(BIN);
    wrk.create("in.ndjson", records());
    let started = Instant::now();
    let receipts = wrk.ok(&["-n", "1000", "--out-dir", "whole", "in.ndjson"]);
    let whole = started.elapsed();
    assert_eq!(receipts.lines().count(), 20);
    let batches = names_in(&wrk.path("whole"));

    let mut rng = Rng(0x5eed_0005);
    let mut left = 0;
    for kill in 0..KILLS {
        let delay = Duration::from_micros(rng.below(whole.as_micros() as usize + 1) as u64);
        kill_after(&mut split(&wrk, "out"), delay);
        let case = format!("kill {kill} after {delay:?}");
        let out = wrk.path("out");
        if !out.exists() {
            continue;
        }
        left += temp_files_in(&out).len();
        for name in names_in(&out).iter().filter(|n| !n.starts_with('.')) {
            assert!(batches.contains(name), "{case}: {name}");
            assert_eq!(
                wrk.read(&format!("out/{name}")),
                wrk.read(&format!("whole/{name}")),
                "{case}: {name} is partial"
            );
        }
        let receipts = wrk.ok(&["-n", "1000", "--out-dir", "out", "in.ndjson"]);
        assert_eq!(receipts.lines().count(), 20, "{case}");
        assert_eq!(temp_files_in(&out), Vec::<String>::new(), "{case}");
        assert_eq!(names_in(&out), batches, "{case}");
    }
    eprintln!("{KILLS} kills left {left} temp files, all removed by the reruns");
}

#[test]
fn exec_killed_anywhere_leaves_no_spilled_batches_after_the_next_run() {
    let wrk = Workdir::new(BIN);
    wrk.create("in.ndjson", records());
    std::fs::create_dir(wrk.path("tmp")).unwrap();
    let exec = |wrk: &Workdir| {
        let mut cmd = std::process::Command::new(BIN);
        cmd.current_dir(wrk.root())
            .env("TMPDIR", wrk.path("tmp"))
            .args(["-n", "1000", "--exec", "cat >/dev/null", "in.ndjson"]);
        cmd
    };
    let started = Instant::now();
    assert!(exec(&wrk).output().unwrap().status.success());
    let whole = started.elapsed();
    assert_eq!(names_in(&wrk.path("tmp")), Vec::<String>::new());

    let mut rng = Rng(0x5eed_0006);
    let mut left = 0;
    for kill in 0..KILLS {
        let delay = Duration::from_micros(rng.below(whole.as_micros() as usize + 1) as u64);
        kill_after(&mut exec(&wrk), delay);
        left += names_in(&wrk.path("tmp")).len();
        let rerun = exec(&wrk).output().unwrap();
        assert!(rerun.status.success(), "kill {kill} after {delay:?}");
        assert_eq!(
            names_in(&wrk.path("tmp")),
            Vec::<String>::new(),
            "kill {kill} after {delay:?}: a spill folder with batches stayed in TMPDIR"
        );
    }
    assert!(left > 0, "no kill landed while batches were spilled");
    eprintln!("{KILLS} kills left {left} spill folders, all removed by the reruns");
}
