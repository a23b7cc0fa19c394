#![allow(clippy::unwrap_used)]
//! csv-shape -o killed (SIGKILL) at seeded random moments: the output file
//! is absent or whole, never partial, and a rerun removes the temp files
//! the killed run left.

use common::testing::{Rng, SENTINEL, Workdir, kill_after, temp_files_in};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_csv-shape");
const KILLS: usize = 6;
const SHAPE: &[&str] = &["--to", "ndjson", "-o", "out.ndjson", "in.csv"];

/// About 4 MB of CSV.
fn rows() -> String {
    let mut csv = String::from("id,name,note\n");
    for i in 0..25_000 {
        csv.push_str(&format!("{i},{SENTINEL},{}\n", "x".repeat(150)));
    }
    csv
}

#[test]
fn output_killed_anywhere_is_absent_or_whole_and_a_rerun_cleans_up() {
    let wrk = Workdir::new(BIN);
    wrk.create("in.csv", rows());
    let started = Instant::now();
    wrk.ok(SHAPE);
    let whole = started.elapsed();
    let want = wrk.read("out.ndjson");
    let mut rng = Rng(0x5eed_0005);
    let mut left = 0;
    for kill in 0..KILLS {
        std::fs::remove_file(wrk.path("out.ndjson")).unwrap();
        let delay = Duration::from_micros(rng.below(whole.as_micros() as usize + 1) as u64);
        let mut cmd = std::process::Command::new(BIN);
        kill_after(cmd.current_dir(wrk.root()).args(SHAPE), delay);
        let case = format!("kill {kill} after {delay:?}");
        left += temp_files_in(wrk.root()).len();
        if wrk.path("out.ndjson").exists() {
            assert!(wrk.read("out.ndjson") == want, "{case}: partial output");
        }
        wrk.ok(SHAPE);
        assert!(wrk.read("out.ndjson") == want, "{case}");
        assert_eq!(temp_files_in(wrk.root()), Vec::<String>::new(), "{case}");
    }
    eprintln!("{KILLS} kills left {left} temp files, all removed by the reruns");
}
