#![allow(clippy::unwrap_used)]
//! db-load into SQLite killed (SIGKILL) at seeded random moments: the table
//! holds all the rows or none, and a rerun loads them all.

use common::testing::{Rng, SENTINEL, Workdir, kill_after, names_in};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_db-load");
const KILLS: usize = 4;
const ROWS: i64 = 8_000;
const LOAD: &[&str] = &["--table", "cases", "--key", "id", "in.csv"];

/// About 1.3 MB of CSV.
fn rows() -> String {
    let mut csv = String::from("id,name,note\n");
    for i in 0..ROWS {
        csv.push_str(&format!("{i},{SENTINEL},{}\n", "x".repeat(150)));
    }
    csv
}

fn fresh_table(wrk: &Workdir) {
    let _ = std::fs::remove_file(wrk.path("db/cases.sqlite"));
    let db = rusqlite::Connection::open(wrk.path("db/cases.sqlite")).unwrap();
    db.execute_batch("CREATE TABLE cases (id TEXT PRIMARY KEY, name TEXT, note TEXT)")
        .unwrap();
}

fn count(wrk: &Workdir) -> i64 {
    let db = rusqlite::Connection::open(wrk.path("db/cases.sqlite")).unwrap();
    db.query_row("SELECT count(*) FROM cases", [], |row| row.get(0))
        .unwrap()
}

fn load(wrk: &Workdir) -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    cmd.current_dir(wrk.root())
        .env("DATABASE_URL", "sqlite:db/cases.sqlite")
        .args(LOAD);
    cmd
}

#[test]
fn load_killed_anywhere_leaves_all_rows_or_none_and_a_rerun_loads_them() {
    let wrk = Workdir::new(BIN);
    wrk.create("in.csv", rows());
    std::fs::create_dir(wrk.path("db")).unwrap();
    fresh_table(&wrk);
    let started = Instant::now();
    assert!(load(&wrk).output().unwrap().status.success());
    let whole = started.elapsed();
    assert_eq!(count(&wrk), ROWS);
    let mut rng = Rng(0x5eed_0005);
    for kill in 0..KILLS {
        fresh_table(&wrk);
        let delay = Duration::from_micros(rng.below(whole.as_micros() as usize + 1) as u64);
        kill_after(&mut load(&wrk), delay);
        let case = format!("kill {kill} after {delay:?}");
        let after_kill = count(&wrk);
        assert!(
            after_kill == 0 || after_kill == ROWS,
            "{case}: {after_kill} rows"
        );
        let rerun = load(&wrk).output().unwrap();
        assert!(rerun.status.success(), "{case}");
        assert_eq!(count(&wrk), ROWS, "{case}");
        assert_eq!(names_in(&wrk.path("db")), ["cases.sqlite"], "{case}");
    }
}
