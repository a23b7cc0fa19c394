#![allow(clippy::unwrap_used)]
//! common::boxapi's calls that box-put does not make itself (listing pages,
//! file info, download, move, delete), against the sandbox, through the
//! library: box-put's tests already hold the sandbox and a Box app.

use clap::{FromArgMatches, Parser};
use common::boxapi::{BoxArgs, BoxClient};
use sandbox::Sandbox;
use sandbox::apis::boxapi::{APPROVALS_1, FROM_CITY, PASSPHRASE, SUCCESS, default_app_config};
use serde_json::Value;
use std::io::Read;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    boxapi: BoxArgs,
}

fn client(sb: &Sandbox, dir: &tempfile::TempDir) -> BoxClient {
    let config = dir.path().join("box_config.json");
    std::fs::write(&config, default_app_config(PASSPHRASE).to_string()).unwrap();
    let argv = [
        "t".to_string(),
        "--config".into(),
        config.display().to_string(),
        "--api-url".into(),
        format!("{}/box/2.0", sb.url()),
        "--upload-url".into(),
        format!("{}/box/upload/api/2.0", sb.url()),
        "--ca-file".into(),
        sb.ca_file().display().to_string(),
        "--retry-delay".into(),
        "1".into(),
    ];
    let matches = <Cli as clap::CommandFactory>::command().get_matches_from(argv);
    let cli = Cli::from_arg_matches(&matches).unwrap();
    BoxClient::new("box-put", &cli.boxapi).unwrap()
}

/// The content of file `id`, read to its end.
fn download(client: &BoxClient, id: &str) -> Vec<u8> {
    let mut body = Vec::new();
    client.download(id).unwrap().read_to_end(&mut body).unwrap();
    body
}

#[test]
fn list_info_download_move_and_delete() {
    let sb = Sandbox::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&sb, &dir);
    for i in 0..5 {
        sb.box_add_file(FROM_CITY, &format!("extra-{i}.csv"), b"a,b\n1,2\n")
            .unwrap();
    }
    // Pages of two: every entry once, several requests.
    let names: Vec<String> = client
        .folder_items(FROM_CITY, 2)
        .map(|e| e.unwrap()["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 7, "{names:?}");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7);
    let lists = sb
        .received("box")
        .iter()
        .filter(|r| r.path == format!("/box/2.0/folders/{FROM_CITY}/items"))
        .count();
    assert_eq!(lists, 4);

    let info = client.file_info(APPROVALS_1).unwrap();
    assert_eq!(info["type"], "file");
    let sha1 = info["sha1"].as_str().unwrap().to_string();
    let body = download(&client, APPROVALS_1);
    assert!(!body.is_empty());
    let got: String = {
        use sha1::{Digest, Sha1};
        Sha1::digest(&body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(got, sha1);
    let dl: Vec<_> = sb
        .received("box")
        .into_iter()
        .filter(|r| r.path.starts_with("/box/dl/"))
        .collect();
    assert_eq!(dl.len(), 1);
    assert!(
        dl[0].header("authorization").is_none(),
        "no token to the download host"
    );

    let moved = client
        .move_file(APPROVALS_1, SUCCESS, None)
        .unwrap()
        .unwrap();
    assert_eq!(moved["parent"]["id"], SUCCESS);
    sb.box_add_file(FROM_CITY, "approvals-2020-05-07.csv", b"x\n")
        .unwrap();
    let taken = client.move_file(APPROVALS_1, FROM_CITY, None).unwrap();
    assert_eq!(taken, None, "the name is in use there");
    client.delete_file(APPROVALS_1).unwrap();
    let gone = client.file_info(APPROVALS_1).err().unwrap();
    assert_eq!(gone.code(), 69);
    let state = sb.state("box");
    let files: &Vec<Value> = state["files"].as_array().unwrap();
    assert!(files.iter().all(|f| f["id"] != APPROVALS_1));
}

#[test]
fn a_download_not_ready_is_asked_again() {
    let sb = Sandbox::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&sb, &dir);
    let path = format!("/box/2.0/files/{APPROVALS_1}/content");
    sb.fault(sandbox::Fault {
        path: path.clone(),
        count: 1,
        status: 202,
        retry_after: Some(1),
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let body = download(&client, APPROVALS_1);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert!(body.starts_with(b"request_id,"));
    let statuses: Vec<u16> = sb
        .received("box")
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![202, 302]);
}
