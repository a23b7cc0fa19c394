#![allow(clippy::unwrap_used)]
//! http-post's transport through its binary: what a dry run shows of the
//! request's headers, and where requests go when the environment names a
//! proxy (in a network namespace with no route off the machine).

use common::testing::{HTTP_VARS, Run, SENTINEL, assert_one_line_without};

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

#[path = "../../http-get/tests/netns/mod.rs"]
mod netns;

/// The listener of [`netns::Netns::listen`], when this binary is run again
/// inside a namespace; nothing otherwise.
#[test]
#[ignore = "run by the namespace tests, inside their namespace"]
fn netns_listener() {
    netns::serve_if_asked();
}

/// In a namespace with no route off the machine: a POST to a loopback
/// target is sent directly whichever variable names a proxy, and a plain
/// http:// proxy on another machine is refused before anything is sent to
/// it when it would carry a password or a plain http:// request, in both
/// modes.
#[test]
fn proxies_in_a_namespace_with_no_route_off_the_machine() {
    let Some(ns) = netns::Netns::new("http-post") else {
        return;
    };
    let proxy = ns.listen(&format!("{}:3128", netns::OFF_MACHINE), 403);
    let target = ns.listen("127.0.0.1:8080", 201);
    let run = |args: &[&str], env: &[(&str, &str)], stdin: &str| {
        let mut cmd = assert_cmd::Command::from_std(ns.command(BIN));
        for var in HTTP_VARS {
            cmd.env_remove(var);
        }
        let creds = [("HTTP_USER", "alice"), ("HTTP_PASSWORD", "pa55-7731")];
        cmd.envs(creds)
            .envs(env.iter().copied())
            .args(["--auth", "basic", "--retries", "0", "--timeout", "5"])
            .args(args)
            .write_stdin(stdin.as_bytes().to_vec());
        Run::of(&mut cmd)
    };
    let off = format!("http://{}:3128", netns::OFF_MACHINE);
    let off_login = format!("http://u:pr0xy-pw@{}:3128", netns::OFF_MACHINE);
    let record = format!("{{\"id\":\"{SENTINEL}\"}}\n");

    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"] {
        let env = [(var, off_login.as_str())];
        let sent = run(&["http://127.0.0.1:8080/cases"], &env, &record);
        assert_eq!(sent.code, 0, "{var}: {}", sent.stderr);
        let each = run(&["--each", "http://127.0.0.1:8080/cases"], &env, &record);
        assert_eq!(each.code, 0, "{var} --each: {}", each.stderr);
        assert_eq!(each.values()[0]["ok"], true, "{var}: {}", each.stdout);
    }
    assert_eq!(target.received().matches("POST /cases ").count(), 8);

    for (url, proxy_value) in [
        ("https://example.org/cases", &off_login),
        ("http://example.org/cases", &off),
    ] {
        for mode in [&[][..], &["--each"][..]] {
            let args = [mode, &[url]].concat();
            let refused = run(&args, &[("ALL_PROXY", proxy_value.as_str())], &record);
            assert_eq!(refused.code, 64, "{url} {mode:?}: {}", refused.stderr);
            assert_one_line_without(&refused.stderr, &["pr0xy-pw", "pa55-7731"]);
        }
    }
    assert_eq!(proxy.received(), "", "nothing reached the proxy");
}
