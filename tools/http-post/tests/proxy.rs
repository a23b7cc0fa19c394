#![allow(clippy::unwrap_used)]
//! http-post's transport through its binary: what a dry run shows of the
//! request's headers, and where requests go when the environment names a
//! proxy (in a network namespace with no route off the machine).

use common::testing::{HTTP_VARS, Run, SENTINEL};

const BIN: &str = env!("CARGO_BIN_EXE_http-post");

/// Run http-post with `args`, only the variables of `env`, and `stdin`.
fn http_post(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut cmd = assert_cmd::Command::new(BIN);
    for var in HTTP_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied())
        .args(args)
        .write_stdin(stdin.as_bytes().to_vec());
    Run::of(&mut cmd)
}

/// The dry-run lines show the -H headers' values only for the harmless
/// names (Accept, Content-Type, User-Agent, ...); --show-values shows the
/// others too, never a key's. Run::of checks stderr never shows SENTINEL.
#[test]
fn dry_runs_show_only_harmless_header_values() {
    let headers = [
        "-H",
        &format!("X-Password: {SENTINEL}"),
        "-H",
        &format!("X-Patient: {SENTINEL}"),
        "-H",
        "Accept: application/json",
        "-H",
        "X-Api-Key: k3y-7731",
    ]
    .map(String::from);
    let url = "https://h.example/api/cases";
    for (mode, stdin) in [(&[][..], "{}"), (&["--each"][..], "{\"id\":1}\n")] {
        let args: Vec<&str> = ["--dry-run"]
            .into_iter()
            .chain(mode.iter().copied())
            .chain(headers.iter().map(String::as_str))
            .chain([url])
            .collect();
        let run = http_post(&args, &[], stdin);
        assert_eq!(run.code, 0, "{mode:?}: {}", run.stderr);
        for shown in [
            "X-Password: ***",
            "X-Patient: ***",
            "Accept: application/json",
            "X-Api-Key: ***",
            "content-type: application/json",
        ] {
            assert!(
                run.stderr.contains(shown),
                "{mode:?} {shown}: {}",
                run.stderr
            );
        }
    }

    let run = http_post(
        &[
            "--dry-run",
            "--show-values",
            "-H",
            "X-Patient: shown-on-request",
            "-H",
            "X-Api-Key: k3y-7731",
            url,
        ],
        &[],
        "{}",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("X-Patient: shown-on-request")
            && run.stderr.contains("X-Api-Key: ***")
            && !run.stderr.contains("k3y-7731"),
        "{}",
        run.stderr
    );
}
