#![allow(clippy::unwrap_used)]
//! Box, through real HTTPS requests: tokens (JWT signed here with the fixture key or a key
//! made by `openssl` at run time, client credentials), the bearer check, folders, simple
//! uploads and versions, chunked sessions, downloads, move and delete.

mod support;

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use ring::signature::{
    RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RsaEncoding, RsaKeyPair,
};
use sandbox::apis::boxapi::{self, BoxApp};
use sandbox::{Fault, Sandbox};
use serde_json::{Value, json};
use support::{Answer, agent_without_redirects, call, post, rsa_key_pair, send, sign_jwt, start};

const FIXTURE_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/sandbox/box-app.key.pem"
);
const JWT_GRANT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";

// ---------------------------------------------------------------------------------------
// Keys and JWTs

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The fixture app's key, decrypted with its passphrase.
fn fixture_key() -> RsaKeyPair {
    let pass = format!("pass:{}", boxapi::PASSPHRASE);
    rsa_key_pair(&openssl(&["pkey", "-in", FIXTURE_KEY, "-passin", &pass]))
}

/// A fresh key pair: the private key and the public PEM.
fn fresh_key(dir: &Path) -> (RsaKeyPair, String) {
    let path = dir.join("key.pem");
    let path = path.to_str().unwrap();
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        path,
    ]);
    let public = String::from_utf8(openssl(&["pkey", "-in", path, "-pubout"])).unwrap();
    (rsa_key_pair(&std::fs::read(path).unwrap()), public)
}

fn sign(key: &RsaKeyPair, header: &Value, claims: &Value) -> String {
    sign_jwt(key, &RSA_PKCS1_SHA256, header, claims)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn header(alg: &str) -> Value {
    json!({"alg": alg, "typ": "JWT", "kid": boxapi::PUBLIC_KEY_ID})
}

fn jti() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn claims(sb: &Sandbox) -> Value {
    json!({"iss": boxapi::CLIENT_ID, "sub": boxapi::ENTERPRISE_ID, "box_sub_type": "enterprise",
           "aud": format!("{}/box/oauth2/token", sb.url()), "jti": jti(), "exp": now() + 45})
}

// ---------------------------------------------------------------------------------------
// Requests

fn token_url(sb: &Sandbox) -> String {
    format!("{}/box/oauth2/token", sb.url())
}

fn api(sb: &Sandbox, path: &str) -> String {
    format!("{}/box/2.0{path}", sb.url())
}

fn upload_api(sb: &Sandbox, path: &str) -> String {
    format!("{}/box/upload/api/2.0{path}", sb.url())
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn form(agent: &ureq::Agent, sb: &Sandbox, body: &str) -> Answer {
    post(agent, &token_url(sb), &[FORM], body.as_bytes())
}

fn jwt_grant(agent: &ureq::Agent, sb: &Sandbox, jwt: &str) -> Answer {
    form(
        agent,
        sb,
        &format!(
            "grant_type={JWT_GRANT}&assertion={jwt}&client_id={}&client_secret={}",
            boxapi::CLIENT_ID,
            boxapi::CLIENT_SECRET
        ),
    )
}

fn ccg(agent: &ureq::Agent, sb: &Sandbox, secret: &str, sub_type: &str, sub: &str) -> Answer {
    form(
        agent,
        sb,
        &format!(
            "grant_type=client_credentials&client_id={}&client_secret={secret}&box_subject_type={sub_type}&box_subject_id={sub}",
            boxapi::CLIENT_ID
        ),
    )
}

/// A token through the client-credentials grant.
fn token(agent: &ureq::Agent, sb: &Sandbox) -> String {
    let answer = ccg(
        agent,
        sb,
        boxapi::CLIENT_SECRET,
        "enterprise",
        boxapi::ENTERPRISE_ID,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["access_token"].as_str().unwrap().to_string()
}

/// A sandbox, an agent and a token.
fn session() -> (Sandbox, ureq::Agent, String) {
    let (sb, agent) = start();
    let token = token(&agent, &sb);
    (sb, agent, format!("Bearer {token}"))
}

fn get(agent: &ureq::Agent, url: &str, bearer: &str) -> Answer {
    call(agent, "GET", url, &[("authorization", bearer)], None)
}

fn delete(agent: &ureq::Agent, url: &str, bearer: &str) -> Answer {
    call(agent, "DELETE", url, &[("authorization", bearer)], None)
}

fn json_call(agent: &ureq::Agent, method: &str, url: &str, bearer: &str, body: &Value) -> Answer {
    call(agent, method, url, &[("authorization", bearer)], Some(body))
}

/// A JSON POST whose 409 names its conflicts as `shape` (list or object).
fn post_conflicts_as(
    agent: &ureq::Agent,
    url: &str,
    bearer: &str,
    shape: &str,
    body: &Value,
) -> Answer {
    let headers = [("authorization", bearer), ("x-sandbox-conflicts-as", shape)];
    call(agent, "POST", url, &headers, Some(body))
}

fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
}

fn assert_grant_error(answer: &Answer, error: &str) {
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["error"], error, "{}", answer.body);
    assert!(answer.json()["error_description"].is_string());
}

fn sha1_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn digest(bytes: &[u8]) -> String {
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes);
    format!(
        "sha={}",
        base64::engine::general_purpose::STANDARD.encode(sha1.as_ref())
    )
}

const BOUNDARY: &str = "sandboxBoundary7MA4YWxk";

/// A multipart/form-data body with parts (name, file name, content) in that order.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

const MULTIPART: (&str, &str) = (
    "content-type",
    "multipart/form-data; boundary=sandboxBoundary7MA4YWxk",
);

fn attributes(name: &str, parent: &str) -> Vec<u8> {
    json!({"name": name, "parent": {"id": parent}})
        .to_string()
        .into_bytes()
}

/// A simple upload (attributes, then file) with extra headers.
fn upload(
    agent: &ureq::Agent,
    sb: &Sandbox,
    bearer: &str,
    parent: &str,
    name: &str,
    content: &[u8],
    extra: &[(&str, &str)],
) -> Answer {
    let attrs = attributes(name, parent);
    let body = multipart(&[("attributes", None, &attrs), ("file", Some(name), content)]);
    let mut headers = vec![("authorization", bearer), MULTIPART];
    headers.extend_from_slice(extra);
    post(agent, &upload_api(sb, "/files/content"), &headers, &body)
}

/// The sandbox's record of the file whose `field` is `value` (null when none).
fn state_file_where(sb: &Sandbox, field: &str, value: &str) -> Value {
    sb.state("box")["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f[field] == value)
        .cloned()
        .unwrap_or(Value::Null)
}

fn state_file(sb: &Sandbox, id: &str) -> Value {
    state_file_where(sb, "id", id)
}

fn state_file_named(sb: &Sandbox, name: &str) -> Value {
    state_file_where(sb, "name", name)
}

// ---------------------------------------------------------------------------------------
// Tokens

#[test]
fn a_jwt_grant_signed_with_the_fixture_key_opens_the_api() {
    let (sb, agent) = start();
    let key = fixture_key();
    let answer = jwt_grant(&agent, &sb, &sign(&key, &header("RS256"), &claims(&sb)));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["restricted_to"], json!([]));
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    let root = get(&agent, &api(&sb, "/folders/0"), &bearer);
    assert_eq!(root.status, 200, "{}", root.body);
    assert_eq!(
        root.json()["item_collection"]["entries"][0]["name"],
        "Parent"
    );
    let state = sb.state("box");
    assert_eq!(state["tokens_issued"], 1);
    assert_eq!(state["grants"][0]["grant_type"], "jwt");
    assert_eq!(state["grants"][0]["box_sub_type"], "enterprise");
    assert_eq!(state["grants"][0]["sub"], boxapi::ENTERPRISE_ID);
}

#[test]
fn rs384_and_rs512_and_a_user_subject_are_accepted() {
    let (sb, agent) = start();
    let key = fixture_key();
    for (alg, encoding) in [
        ("RS384", &RSA_PKCS1_SHA384 as &'static dyn RsaEncoding),
        ("RS512", &RSA_PKCS1_SHA512 as &'static dyn RsaEncoding),
    ] {
        let jwt = sign_jwt(&key, encoding, &header(alg), &claims(&sb));
        assert_eq!(jwt_grant(&agent, &sb, &jwt).status, 200, "{alg}");
    }
    let mut as_user = claims(&sb);
    as_user["box_sub_type"] = json!("user");
    as_user["sub"] = json!("900222");
    assert_eq!(
        jwt_grant(&agent, &sb, &sign(&key, &header("RS256"), &as_user)).status,
        200
    );
    assert_eq!(sb.state("box")["grants"][2]["box_sub_type"], "user");
}

#[test]
fn jwt_assertions_are_checked_claim_by_claim() {
    let (sb, agent) = start();
    let key = fixture_key();
    let good = claims(&sb);
    let with = |name: &str, value: Value| {
        let mut c = good.clone();
        c["jti"] = json!(jti());
        c[name] = value;
        c
    };
    let cases = [
        ("iss", with("iss", json!("someone-else"))),
        (
            "aud",
            with("aud", json!("https://api.box.com/oauth2/token")),
        ),
        ("sub", with("sub", json!("900999"))),
        ("box_sub_type", with("box_sub_type", json!("group"))),
        ("exp too far", with("exp", json!(now() + 120))),
        ("exp past", with("exp", json!(now() - 5))),
        ("exp missing", with("exp", Value::Null)),
        ("jti short", with("jti", json!("short-jti"))),
        ("jti long", with("jti", json!("j".repeat(129)))),
    ];
    for (what, claims) in cases {
        let answer = jwt_grant(&agent, &sb, &sign(&key, &header("RS256"), &claims));
        assert_grant_error(&answer, "invalid_grant");
        assert!(!answer.body.contains(boxapi::CLIENT_SECRET), "{what}");
    }
    // Wrong kid, an unknown algorithm, not a JWT, a key the app does not have.
    let mut kid = header("RS256");
    kid["kid"] = json!("otherkey");
    assert_grant_error(
        &jwt_grant(&agent, &sb, &sign(&key, &kid, &with("jti", json!(jti())))),
        "invalid_grant",
    );
    assert_grant_error(
        &jwt_grant(
            &agent,
            &sb,
            &sign(&key, &header("HS256"), &with("jti", json!(jti()))),
        ),
        "invalid_grant",
    );
    assert_grant_error(&jwt_grant(&agent, &sb, "not.a.jwt"), "invalid_grant");
    let dir = tempfile::tempdir().unwrap();
    let (other, _) = fresh_key(dir.path());
    assert_grant_error(
        &jwt_grant(
            &agent,
            &sb,
            &sign(&other, &header("RS256"), &with("jti", json!(jti()))),
        ),
        "invalid_grant",
    );
    // The good one works once; its jti cannot be replayed.
    let jwt = sign(&key, &header("RS256"), &good);
    assert_eq!(jwt_grant(&agent, &sb, &jwt).status, 200);
    assert_grant_error(&jwt_grant(&agent, &sb, &jwt), "invalid_grant");
    assert_eq!(sb.state("box")["tokens_issued"], 1);
}

#[test]
fn client_credentials_are_checked_and_wrong_grants_named() {
    let (sb, agent) = start();
    let ok = ccg(
        &agent,
        &sb,
        boxapi::CLIENT_SECRET,
        "enterprise",
        boxapi::ENTERPRISE_ID,
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_grant_error(
        &ccg(
            &agent,
            &sb,
            "wrong-secret",
            "enterprise",
            boxapi::ENTERPRISE_ID,
        ),
        "invalid_client",
    );
    assert_grant_error(
        &ccg(&agent, &sb, boxapi::CLIENT_SECRET, "enterprise", "900999"),
        "invalid_grant",
    );
    assert_grant_error(
        &ccg(&agent, &sb, boxapi::CLIENT_SECRET, "group", "1"),
        "invalid_grant",
    );
    assert_grant_error(&form(&agent, &sb, "client_id=x"), "invalid_request");
    assert_grant_error(
        &form(&agent, &sb, "grant_type=password&client_id=x"),
        "unsupported_grant_type",
    );
    assert_grant_error(
        &form(
            &agent,
            &sb,
            &format!(
                "grant_type=client_credentials&client_id=unknown&client_secret={}",
                boxapi::CLIENT_SECRET
            ),
        ),
        "invalid_client",
    );
    // A JWT grant with a wrong client secret is refused before the assertion is read.
    let jwt = sign(&fixture_key(), &header("RS256"), &claims(&sb));
    let answer = form(
        &agent,
        &sb,
        &format!(
            "grant_type={JWT_GRANT}&assertion={jwt}&client_id={}&client_secret=nope",
            boxapi::CLIENT_ID
        ),
    );
    assert_grant_error(&answer, "invalid_client");
    assert_eq!(sb.state("box")["tokens_issued"], 1);
}

#[test]
fn an_app_registered_at_run_time_signs_with_its_own_key() {
    let (sb, agent) = start();
    let dir = tempfile::tempdir().unwrap();
    let (key, public_pem) = fresh_key(dir.path());
    let app = BoxApp {
        client_id: "run-time-client".into(),
        client_secret: "run-time-secret".into(),
        public_key_id: "rtkey01".into(),
        public_key_pem: public_pem,
        enterprise_id: "900777".into(),
    };
    sb.box_register_app(&app).unwrap();
    let claims = json!({"iss": "run-time-client", "sub": "900777", "box_sub_type": "enterprise",
                        "aud": token_url(&sb), "jti": jti(), "exp": now() + 45});
    let jwt = sign(&key, &json!({"alg": "RS256", "kid": "rtkey01"}), &claims);
    let body = format!(
        "grant_type={JWT_GRANT}&assertion={jwt}&client_id=run-time-client&client_secret=run-time-secret"
    );
    assert_eq!(form(&agent, &sb, &body).status, 200);
    // The fixture key is not this app's key.
    let mut claims = claims;
    claims["jti"] = json!(jti());
    let jwt = sign(
        &fixture_key(),
        &json!({"alg": "RS256", "kid": "rtkey01"}),
        &claims,
    );
    let body = format!(
        "grant_type={JWT_GRANT}&assertion={jwt}&client_id=run-time-client&client_secret=run-time-secret"
    );
    assert_grant_error(&form(&agent, &sb, &body), "invalid_grant");
    // Over HTTP too; a bad PEM is a 400.
    let url = format!("{}/_sandbox/box/apps", sb.url());
    let mut over_http = serde_json::to_value(&app).unwrap();
    over_http["client_id"] = json!("second-client");
    let created = call(&agent, "POST", &url, &[], Some(&over_http));
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(!created.body.contains("run-time-secret"));
    over_http["public_key_pem"] = json!("not a key");
    assert_eq!(
        call(&agent, "POST", &url, &[], Some(&over_http)).status,
        400
    );
    let apps = sb.state("box")["apps"].clone();
    assert_eq!(apps.as_array().unwrap().len(), 3, "{apps}");
    assert!(!sb.state("box").to_string().contains("run-time-secret"));
    assert!(format!("{app:?}").contains("run-time-client"));
    assert!(!format!("{app:?}").contains("run-time-secret"));
}

#[test]
fn every_api_call_needs_a_live_bearer_token() {
    let (sb, agent, bearer) = session();
    let url = api(&sb, "/folders/0/items");
    let none = call(&agent, "GET", &url, &[], None);
    assert_error(&none, 401, "unauthorized");
    assert!(
        none.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer realm=")
    );
    let unknown = get(&agent, &url, "Bearer not-a-token");
    assert_error(&unknown, 401, "unauthorized");
    assert!(
        unknown
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    let upload = post(
        &agent,
        &upload_api(&sb, "/files/content"),
        &[MULTIPART],
        b"",
    );
    assert_error(&upload, 401, "unauthorized");
    assert_eq!(get(&agent, &url, &bearer).status, 200);
    let developer = format!("Bearer {}", boxapi::DEVELOPER_TOKEN);
    assert_eq!(get(&agent, &url, &developer).status, 200);
}

#[test]
fn expired_tokens_answer_401_and_a_new_one_works() {
    let (sb, agent, bearer) = session();
    let url = api(&sb, "/folders/0");
    assert_eq!(get(&agent, &url, &bearer).status, 200);
    sb.box_expire_tokens();
    assert_error(&get(&agent, &url, &bearer), 401, "unauthorized");
    let developer = format!("Bearer {}", boxapi::DEVELOPER_TOKEN);
    assert_eq!(get(&agent, &url, &developer).status, 401);
    let fresh = format!("Bearer {}", token(&agent, &sb));
    assert_eq!(get(&agent, &url, &fresh).status, 200);
    // Over HTTP.
    let expired = post(
        &agent,
        &format!("{}/_sandbox/box/expire-tokens", sb.url()),
        &[],
        b"",
    );
    assert_eq!(expired.status, 200);
    assert_eq!(expired.json()["expired"], 1);
    assert_eq!(get(&agent, &url, &fresh).status, 401);
    assert_eq!(
        post(
            &agent,
            &format!("{}/_sandbox/box/nothing", sb.url()),
            &[],
            b""
        )
        .status,
        404
    );
}

// ---------------------------------------------------------------------------------------
// Folders

#[test]
fn the_seeded_tree_is_where_the_readme_says() {
    let (sb, agent, bearer) = session();
    let list = |id: &str| -> Vec<(String, String)> {
        get(&agent, &api(&sb, &format!("/folders/{id}/items")), &bearer).json()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["id"].as_str().unwrap().to_string(),
                    e["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
            .collect()
    };
    assert_eq!(list(boxapi::ROOT), pairs(&[(boxapi::PARENT, "Parent")]));
    assert_eq!(
        list(boxapi::PARENT),
        pairs(&[
            (boxapi::BUSINESS_LIAISONS, "Business Liaisons"),
            (boxapi::DAILY_DRIVE_THRU, "Daily Drive Thru Documents"),
            (boxapi::PRINTER_PDFS, "Printer PDFs"),
            (boxapi::PROCESSED, "processed"),
            (boxapi::TRANSPORTATION, "transportation"),
        ])
    );
    assert_eq!(
        list(boxapi::BUSINESS_LIAISONS),
        pairs(&[
            (boxapi::FROM_CITY, "from city"),
            (boxapi::TO_CITY, "to city")
        ])
    );
    assert_eq!(
        list(boxapi::PROCESSED),
        pairs(&[(boxapi::ERROR, "error"), (boxapi::SUCCESS, "success")])
    );
    assert_eq!(
        list(boxapi::FROM_CITY),
        pairs(&[
            (boxapi::APPROVALS_1, "approvals-2020-05-07.csv"),
            (boxapi::APPROVALS_2, "approvals-2020-05-08.csv")
        ])
    );
    let folder = get(
        &agent,
        &api(&sb, &format!("/folders/{}", boxapi::FROM_CITY)),
        &bearer,
    )
    .json();
    assert_eq!(folder["type"], "folder");
    assert_eq!(folder["parent"]["id"], boxapi::BUSINESS_LIAISONS);
    let path: Vec<&str> = folder["path_collection"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(path, ["All Files", "Parent", "Business Liaisons"]);
    assert_error(
        &get(&agent, &api(&sb, "/folders/999"), &bearer),
        404,
        "not_found",
    );
    assert_error(
        &get(&agent, &api(&sb, "/folders/999/items"), &bearer),
        404,
        "not_found",
    );
}

#[test]
fn a_folder_is_created_then_conflicts_with_its_id_in_either_shape() {
    let (sb, agent, bearer) = session();
    let url = api(&sb, "/folders");
    let body = json!({"name": "05-07-2020", "parent": {"id": boxapi::DAILY_DRIVE_THRU}});
    let created = json_call(&agent, "POST", &url, &bearer, &body);
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    assert_eq!(created.json()["name"], "05-07-2020");
    assert_eq!(created.json()["parent"]["id"], boxapi::DAILY_DRIVE_THRU);
    let again = json_call(&agent, "POST", &url, &bearer, &body);
    assert_error(&again, 409, "item_name_in_use");
    assert_eq!(again.json()["context_info"]["conflicts"]["id"], id.as_str());
    assert_eq!(again.json()["context_info"]["conflicts"]["type"], "folder");
    let as_list = post_conflicts_as(&agent, &url, &bearer, "list", &body);
    assert_error(&as_list, 409, "item_name_in_use");
    assert_eq!(
        as_list.json()["context_info"]["conflicts"][0]["id"],
        id.as_str()
    );
    // Names compare case-insensitively, as Box's.
    let upper =
        json!({"name": "05-07-2020".to_uppercase(), "parent": {"id": boxapi::DAILY_DRIVE_THRU}});
    assert_eq!(json_call(&agent, "POST", &url, &bearer, &upper).status, 409);
    let missing = json!({"name": "x", "parent": {"id": "999"}});
    assert_error(
        &json_call(&agent, "POST", &url, &bearer, &missing),
        404,
        "not_found",
    );
    let bad = json!({"name": "a/b", "parent": {"id": "0"}});
    assert_error(
        &json_call(&agent, "POST", &url, &bearer, &bad),
        400,
        "item_name_invalid",
    );
    let folders = sb.state("box")["folders"].as_array().unwrap().len();
    assert_eq!(folders, 12);
}

#[test]
fn folder_items_page_with_limit_and_offset() {
    let (sb, agent, bearer) = session();
    let folder = sb.box_add_folder(boxapi::TRANSPORTATION, "many").unwrap();
    sb.box_add_folder(&folder, "sub").unwrap();
    for i in 0..24 {
        sb.box_add_file(
            &folder,
            &format!("file-{i:02}.csv"),
            format!("n,{i}\n").as_bytes(),
        )
        .unwrap();
    }
    let items = |query: &str| {
        let url = api(&sb, &format!("/folders/{folder}/items{query}"));
        get(&agent, &url, &bearer)
    };
    let mut names = Vec::new();
    let mut offset = 0;
    loop {
        let page = items(&format!("?limit=10&offset={offset}"));
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.json();
        assert_eq!(page["total_count"], 25);
        assert_eq!(page["limit"], 10);
        assert_eq!(page["offset"], offset);
        let entries = page["entries"].as_array().unwrap();
        if entries.is_empty() {
            break;
        }
        for e in entries {
            names.push(e["name"].as_str().unwrap().to_string());
            if e["type"] == "file" {
                assert_eq!(e["sha1"].as_str().unwrap().len(), 40);
                assert!(e["size"].as_u64().unwrap() > 0);
                assert_eq!(e["etag"], "0");
            }
        }
        offset += 10;
    }
    assert_eq!(names.len(), 25);
    assert_eq!(names[0], "sub", "folders come first");
    assert_eq!(names[1], "file-00.csv");
    assert_eq!(names[24], "file-23.csv");
    let default = items("").json();
    assert_eq!(default["limit"], 100);
    assert_eq!(default["entries"].as_array().unwrap().len(), 25);
    let capped = items("?limit=5000").json();
    assert_eq!(capped["limit"], 1000);
    let fields = items("?limit=2&offset=1&fields=name,size,modified_at").json();
    let entry = fields["entries"][0].as_object().unwrap();
    let mut keys: Vec<&str> = entry.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["etag", "id", "modified_at", "name", "size", "type"]);
    assert_error(&items("?limit=ten"), 400, "bad_request");
    // The lib refuses a taken name or a missing parent.
    assert!(sb.box_add_file(&folder, "file-00.csv", b"x").is_err());
    assert!(sb.box_add_folder("999", "x").is_err());
}

// ---------------------------------------------------------------------------------------
// Simple uploads and versions

#[test]
fn a_simple_upload_answers_the_file_list_and_is_stored() {
    let (sb, agent, bearer) = session();
    let content = b"id,name\n1,Synthetic One\n";
    let sha1 = sha1_hex(content);
    let answer = upload(
        &agent,
        &sb,
        &bearer,
        boxapi::TO_CITY,
        "req-01.csv",
        content,
        &[("content-md5", sha1.as_str())],
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    let list = answer.json();
    assert_eq!(list["total_count"], 1);
    let file = &list["entries"][0];
    assert_eq!(file["type"], "file");
    assert_eq!(file["name"], "req-01.csv");
    assert_eq!(file["sha1"], sha1.as_str());
    assert_eq!(file["size"], content.len());
    assert_eq!(file["etag"], "0");
    assert_eq!(file["parent"]["id"], boxapi::TO_CITY);
    assert_eq!(file["file_version"]["sha1"], sha1.as_str());
    let id = file["id"].as_str().unwrap();
    let stored = state_file(&sb, id);
    assert_eq!(stored["sha1"], sha1.as_str());
    assert_eq!(stored["parent"], boxapi::TO_CITY);
    assert_eq!(stored["version_count"], 1);
    let info = get(&agent, &api(&sb, &format!("/files/{id}")), &bearer);
    assert_eq!(info.status, 200);
    assert_eq!(info.json()["sha1"], sha1.as_str());
    // Content-MD5 is checked.
    let wrong = upload(
        &agent,
        &sb,
        &bearer,
        boxapi::TO_CITY,
        "req-02.csv",
        content,
        &[("content-md5", sha1_hex(b"other").as_str())],
    );
    assert_error(&wrong, 400, "sha1_mismatch");
    assert_eq!(sb.state("box")["files"].as_array().unwrap().len(), 3);
}

#[test]
fn attributes_after_the_file_part_are_refused() {
    let (sb, agent, bearer) = session();
    let attrs = attributes("late.csv", boxapi::TO_CITY);
    let body = multipart(&[
        ("file", Some("late.csv"), b"a,b\n"),
        ("attributes", None, &attrs),
    ]);
    let answer = post(
        &agent,
        &upload_api(&sb, "/files/content"),
        &[("authorization", bearer.as_str()), MULTIPART],
        &body,
    );
    assert_error(&answer, 400, "metadata_after_file_contents");
    let no_file = multipart(&[("attributes", None, &attrs)]);
    let answer = post(
        &agent,
        &upload_api(&sb, "/files/content"),
        &[("authorization", bearer.as_str()), MULTIPART],
        &no_file,
    );
    assert_error(&answer, 400, "bad_request");
    let not_multipart = post(
        &agent,
        &upload_api(&sb, "/files/content"),
        &[
            ("authorization", bearer.as_str()),
            ("content-type", "application/json"),
        ],
        b"{}",
    );
    assert_error(&not_multipart, 400, "bad_request");
    assert_eq!(sb.state("box")["files"].as_array().unwrap().len(), 2);
}

#[test]
fn upload_conflicts_come_as_an_object_or_a_list_and_names_are_checked() {
    let (sb, agent, bearer) = session();
    let name = "approvals-2020-05-07.csv";
    let object = upload(&agent, &sb, &bearer, boxapi::FROM_CITY, name, b"x", &[]);
    assert_error(&object, 409, "item_name_in_use");
    let conflicts = &object.json()["context_info"]["conflicts"];
    assert_eq!(conflicts["id"], boxapi::APPROVALS_1);
    assert_eq!(conflicts["type"], "file");
    assert_eq!(conflicts["sha1"].as_str().unwrap().len(), 40);
    let list = upload(
        &agent,
        &sb,
        &bearer,
        boxapi::FROM_CITY,
        name,
        b"x",
        &[("x-sandbox-conflicts-as", "list")],
    );
    assert_error(&list, 409, "item_name_in_use");
    assert_eq!(
        list.json()["context_info"]["conflicts"][0]["id"],
        boxapi::APPROVALS_1
    );
    assert_error(
        &upload(&agent, &sb, &bearer, "999", "a.csv", b"x", &[]),
        404,
        "not_found",
    );
    let long = "n".repeat(256);
    assert_error(
        &upload(&agent, &sb, &bearer, "0", &long, b"x", &[]),
        400,
        "item_name_too_long",
    );
    for bad in ["a/b.csv", "a\\b.csv", ".", ".."] {
        let attrs = json!({"name": bad, "parent": {"id": "0"}}).to_string();
        let body = multipart(&[
            ("attributes", None, attrs.as_bytes()),
            ("file", Some("f"), b"x"),
        ]);
        let answer = post(
            &agent,
            &upload_api(&sb, "/files/content"),
            &[("authorization", bearer.as_str()), MULTIPART],
            &body,
        );
        assert_error(&answer, 400, "item_name_invalid");
    }
    assert_eq!(sb.state("box")["files"].as_array().unwrap().len(), 2);
}

#[test]
fn a_new_version_bumps_the_etag_and_keeps_each_sha1() {
    let (sb, agent, bearer) = session();
    let first = b"v,1\n";
    let created = upload(&agent, &sb, &bearer, boxapi::TO_CITY, "v.csv", first, &[]).json();
    let id = created["entries"][0]["id"].as_str().unwrap().to_string();
    let second = b"v,2\n";
    let body = multipart(&[("attributes", None, b"{}"), ("file", Some("v.csv"), second)]);
    let url = upload_api(&sb, &format!("/files/{id}/content"));
    let answer = post(
        &agent,
        &url,
        &[
            ("authorization", bearer.as_str()),
            MULTIPART,
            ("content-md5", sha1_hex(second).as_str()),
        ],
        &body,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let file = &answer.json()["entries"][0];
    assert_eq!(file["id"], id.as_str());
    assert_eq!(file["etag"], "1");
    assert_eq!(file["sha1"], sha1_hex(second).as_str());
    let stored = state_file(&sb, &id);
    assert_eq!(stored["version_count"], 2);
    assert_eq!(stored["versions"][0]["sha1"], sha1_hex(first).as_str());
    assert_eq!(stored["versions"][1]["sha1"], sha1_hex(second).as_str());
    // If-Match on the old etag, the wrong order, an unknown file.
    let stale = post(
        &agent,
        &url,
        &[
            ("authorization", bearer.as_str()),
            MULTIPART,
            ("if-match", "0"),
        ],
        &body,
    );
    assert_error(&stale, 412, "precondition_failed");
    let late = multipart(&[("file", Some("v.csv"), second), ("attributes", None, b"{}")]);
    assert_error(
        &post(
            &agent,
            &url,
            &[("authorization", bearer.as_str()), MULTIPART],
            &late,
        ),
        400,
        "metadata_after_file_contents",
    );
    let unknown = upload_api(&sb, "/files/999/content");
    assert_error(
        &post(
            &agent,
            &unknown,
            &[("authorization", bearer.as_str()), MULTIPART],
            &body,
        ),
        404,
        "not_found",
    );
    assert_eq!(state_file(&sb, &id)["version_count"], 2);
    // The download serves the new content.
    let content = get(&agent, &api(&sb, &format!("/files/{id}/content")), &bearer);
    assert_eq!(content.body.as_bytes(), second);
}

// ---------------------------------------------------------------------------------------
// Chunked uploads

const SMALL_PARTS: (&str, &str) = ("x-sandbox-part-size", "10");

fn open_session(
    agent: &ureq::Agent,
    sb: &Sandbox,
    bearer: &str,
    name: &str,
    size: usize,
) -> Answer {
    let body = json!({"folder_id": boxapi::PRINTER_PDFS, "file_size": size, "file_name": name});
    call(
        agent,
        "POST",
        &upload_api(sb, "/files/upload_sessions"),
        &[("authorization", bearer), SMALL_PARTS],
        Some(&body),
    )
}

fn put_part(
    agent: &ureq::Agent,
    url: &str,
    bearer: &str,
    range: &str,
    digest: &str,
    bytes: &[u8],
) -> Answer {
    send(
        agent,
        "PUT",
        url,
        &[
            ("authorization", bearer),
            ("content-type", "application/octet-stream"),
            ("content-range", range),
            ("digest", digest),
        ],
        bytes,
    )
}

/// Commit the session of `part_url` with the digest of `content`: the
/// first commit answers 202 (the sandbox's default), the answer of the
/// second is returned.
fn commit_after_202(
    agent: &ureq::Agent,
    part_url: &str,
    bearer: &str,
    content: &[u8],
    parts: &[Value],
) -> Answer {
    let commit_url = format!("{part_url}/commit");
    let whole = digest(content);
    let headers = [("authorization", bearer), ("digest", whole.as_str())];
    let body = json!({"parts": parts});
    assert_eq!(
        call(agent, "POST", &commit_url, &headers, Some(&body)).status,
        202
    );
    call(agent, "POST", &commit_url, &headers, Some(&body))
}

#[test]
fn a_chunked_upload_checks_parts_commits_202_then_201_and_reassembles() {
    let (sb, agent, bearer) = session();
    let content: Vec<u8> = (0..25u8).map(|i| b'a' + i).collect();
    let created = open_session(&agent, &sb, &bearer, "big.pdf", content.len());
    assert_eq!(created.status, 201, "{}", created.body);
    let session = created.json();
    assert_eq!(session["type"], "upload_session");
    assert_eq!(session["part_size"], 10);
    assert_eq!(session["total_parts"], 3);
    assert!(session["session_expires_at"].is_string());
    let url = session["session_endpoints"]["upload_part"]
        .as_str()
        .unwrap()
        .to_string();
    let commit_url = session["session_endpoints"]["commit"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(commit_url, format!("{url}/commit"));
    // Ranges that do not match the part boundaries: 416.
    for (range, bytes) in [
        ("bytes 0-8/25", &content[0..9]),
        ("bytes 5-14/25", &content[5..15]),
        ("bytes 0-9/26", &content[0..10]),
        ("bytes 20-29/25", &content[20..25]),
        ("bytes 0-9/25", &content[0..9]),
        ("items 0-9", &content[0..10]),
    ] {
        let answer = put_part(&agent, &url, &bearer, range, &digest(bytes), bytes);
        assert_error(&answer, 416, "range_mismatch");
    }
    // A digest that does not match: 412.
    let answer = put_part(
        &agent,
        &url,
        &bearer,
        "bytes 0-9/25",
        &digest(b"other"),
        &content[0..10],
    );
    assert_error(&answer, 412, "sha1_mismatch");
    let mut parts = Vec::new();
    for lo in [0usize, 10, 20] {
        let hi = (lo + 10).min(25);
        let range = format!("bytes {lo}-{}/25", hi - 1);
        let answer = put_part(
            &agent,
            &url,
            &bearer,
            &range,
            &digest(&content[lo..hi]),
            &content[lo..hi],
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        let part = answer.json()["part"].clone();
        assert_eq!(part["offset"], lo);
        assert_eq!(part["size"], hi - lo);
        assert_eq!(part["sha1"], sha1_hex(&content[lo..hi]).as_str());
        parts.push(part);
    }
    let whole = digest(&content);
    let commit = |digest: &str, parts: &Value| {
        call(
            &agent,
            "POST",
            &commit_url,
            &[("authorization", bearer.as_str()), ("digest", digest)],
            Some(&json!({"parts": parts})),
        )
    };
    // A wrong whole-file digest, parts out of order or missing.
    assert_error(
        &commit(&digest(b"other"), &json!(parts)),
        412,
        "sha1_mismatch",
    );
    let swapped = json!([parts[1], parts[0], parts[2]]);
    assert_error(&commit(&whole, &swapped), 400, "bad_request");
    assert_error(
        &commit(&whole, &json!([parts[0], parts[1]])),
        400,
        "bad_request",
    );
    let mut wrong_size = json!(parts);
    wrong_size[2]["size"] = json!(10);
    assert_error(&commit(&whole, &wrong_size), 400, "bad_request");
    // The first good commit is 202 with Retry-After, the next 201.
    let first = commit(&whole, &json!(parts));
    assert_eq!(first.status, 202, "{}", first.body);
    assert_eq!(first.header("retry-after"), Some("1"));
    assert!(state_file_named(&sb, "big.pdf").is_null());
    let second = commit(&whole, &json!(parts));
    assert_eq!(second.status, 201, "{}", second.body);
    let file = &second.json()["entries"][0];
    assert_eq!(file["name"], "big.pdf");
    assert_eq!(file["sha1"], sha1_hex(&content).as_str());
    assert_eq!(file["size"], 25);
    let stored = state_file_named(&sb, "big.pdf");
    assert_eq!(stored["sha1"], sha1_hex(&content).as_str());
    assert_eq!(stored["parent"], boxapi::PRINTER_PDFS);
    let state = sb.state("box");
    assert_eq!(state["sessions"][0]["state"], "committed");
    assert_eq!(state["sessions"][0]["commit_attempts"], 2);
    assert_eq!(state["sessions"][0]["result_file_id"], file["id"]);
    // The bytes come back whole.
    let id = file["id"].as_str().unwrap();
    let download = get(&agent, &api(&sb, &format!("/files/{id}/content")), &bearer);
    assert_eq!(download.body.as_bytes(), content.as_slice());
}

#[test]
fn sessions_keep_box_defaults_and_refuse_small_files_and_taken_names() {
    let (sb, agent, bearer) = session();
    let url = upload_api(&sb, "/files/upload_sessions");
    let big =
        json!({"folder_id": boxapi::PRINTER_PDFS, "file_size": 25_000_000, "file_name": "big.pdf"});
    let created = json_call(&agent, "POST", &url, &bearer, &big);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["part_size"], 8_388_608);
    assert_eq!(created.json()["total_parts"], 3);
    let small = json!({"folder_id": boxapi::PRINTER_PDFS, "file_size": 19_999_999, "file_name": "small.pdf"});
    assert_error(
        &json_call(&agent, "POST", &url, &bearer, &small),
        400,
        "file_size_too_small",
    );
    // A taken name: a list by default, an object on request.
    let taken = json!({"folder_id": boxapi::FROM_CITY, "file_size": 25_000_000, "file_name": "approvals-2020-05-08.csv"});
    let list = json_call(&agent, "POST", &url, &bearer, &taken);
    assert_error(&list, 409, "item_name_in_use");
    assert_eq!(
        list.json()["context_info"]["conflicts"][0]["id"],
        boxapi::APPROVALS_2
    );
    let object = post_conflicts_as(&agent, &url, &bearer, "object", &taken);
    assert_eq!(
        object.json()["context_info"]["conflicts"]["id"],
        boxapi::APPROVALS_2
    );
    let missing = json!({"folder_id": "999", "file_size": 25_000_000, "file_name": "x.pdf"});
    assert_error(
        &json_call(&agent, "POST", &url, &bearer, &missing),
        404,
        "not_found",
    );
    let unknown = upload_api(&sb, "/files/999/upload_sessions");
    assert_error(
        &json_call(
            &agent,
            "POST",
            &unknown,
            &bearer,
            &json!({"file_size": 25_000_000}),
        ),
        404,
        "not_found",
    );
}

#[test]
fn a_session_for_a_new_version_commits_into_the_same_file() {
    let (sb, agent, bearer) = session();
    let url = upload_api(
        &sb,
        &format!("/files/{}/upload_sessions", boxapi::APPROVALS_1),
    );
    let content = b"request_id,approved\nREQ-0009,Y\n";
    let created = call(
        &agent,
        "POST",
        &url,
        &[
            ("authorization", bearer.as_str()),
            ("x-sandbox-part-size", "16"),
        ],
        Some(&json!({"file_size": content.len()})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let part_url = created.json()["session_endpoints"]["upload_part"]
        .as_str()
        .unwrap()
        .to_string();
    let mut parts = Vec::new();
    for lo in (0..content.len()).step_by(16) {
        let hi = (lo + 16).min(content.len());
        let range = format!("bytes {lo}-{}/{}", hi - 1, content.len());
        let answer = put_part(
            &agent,
            &part_url,
            &bearer,
            &range,
            &digest(&content[lo..hi]),
            &content[lo..hi],
        );
        parts.push(answer.json()["part"].clone());
    }
    let done = commit_after_202(&agent, &part_url, &bearer, content, &parts);
    assert_eq!(done.status, 201, "{}", done.body);
    assert_eq!(done.json()["entries"][0]["id"], boxapi::APPROVALS_1);
    let stored = state_file(&sb, boxapi::APPROVALS_1);
    assert_eq!(stored["version_count"], 2);
    assert_eq!(stored["sha1"], sha1_hex(content).as_str());
    assert_eq!(stored["etag"], "1");
}

#[test]
fn an_aborted_session_takes_no_more_parts_and_leaves_no_file() {
    let (sb, agent, bearer) = session();
    let created = open_session(&agent, &sb, &bearer, "cut.pdf", 25).json();
    let url = created["session_endpoints"]["upload_part"]
        .as_str()
        .unwrap()
        .to_string();
    let first = [b'x'; 10];
    assert_eq!(
        put_part(
            &agent,
            &url,
            &bearer,
            "bytes 0-9/25",
            &digest(&first),
            &first
        )
        .status,
        200
    );
    assert_eq!(sb.state("box")["sessions"][0]["state"], "open");
    let aborted = delete(&agent, &url, &bearer);
    assert_eq!(aborted.status, 204);
    let state = sb.state("box");
    assert_eq!(state["sessions"][0]["state"], "aborted");
    assert_eq!(state["sessions"][0]["parts"], json!([]));
    assert_error(
        &put_part(
            &agent,
            &url,
            &bearer,
            "bytes 10-19/25",
            &digest(&first),
            &first,
        ),
        404,
        "not_found",
    );
    assert_error(&delete(&agent, &url, &bearer), 404, "not_found");
    assert!(state_file_named(&sb, "cut.pdf").is_null());
}

// ---------------------------------------------------------------------------------------
// Downloads, move, delete, faults

#[test]
fn a_download_redirects_to_a_url_that_needs_no_token() {
    let (sb, agent, bearer) = session();
    let no_follow = agent_without_redirects(&sb);
    let url = api(&sb, &format!("/files/{}/content", boxapi::APPROVALS_1));
    let redirect = get(&no_follow, &url, &bearer);
    assert_eq!(redirect.status, 302, "{}", redirect.body);
    let location = redirect.header("location").unwrap().to_string();
    assert!(
        location.starts_with(&format!("{}/box/dl/", sb.url())),
        "{location}"
    );
    let content = call(&no_follow, "GET", &location, &[], None);
    assert_eq!(content.status, 200);
    assert!(
        content
            .body
            .starts_with("request_id,facility,item,quantity,approved\n")
    );
    let info = get(
        &agent,
        &api(&sb, &format!("/files/{}", boxapi::APPROVALS_1)),
        &bearer,
    )
    .json();
    assert_eq!(info["sha1"], sha1_hex(content.body.as_bytes()).as_str());
    assert_eq!(info["size"], content.body.len());
    let seen = sb.received("box");
    let dl = seen
        .iter()
        .find(|r| r.path.starts_with("/box/dl/"))
        .unwrap();
    assert_eq!(dl.header("authorization"), None);
    assert_error(
        &call(
            &agent,
            "GET",
            &format!("{}/box/dl/nothing", sb.url()),
            &[],
            None,
        ),
        404,
        "not_found",
    );
    // A fault can make the content path answer 202 with Retry-After.
    let path = format!("/box/2.0/files/{}/content", boxapi::APPROVALS_1);
    sb.fault(Fault {
        path,
        status: 202,
        retry_after: Some(1),
        ..Default::default()
    });
    let later = get(&no_follow, &url, &bearer);
    assert_eq!(later.status, 202);
    assert_eq!(later.header("retry-after"), Some("1"));
    assert_eq!(get(&no_follow, &url, &bearer).status, 302);
}

#[test]
fn files_move_between_folders_unless_the_name_is_taken_and_delete() {
    let (sb, agent, bearer) = session();
    let url = api(&sb, &format!("/files/{}", boxapi::APPROVALS_1));
    let moved = json_call(
        &agent,
        "PUT",
        &url,
        &bearer,
        &json!({"parent": {"id": boxapi::SUCCESS}}),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.json()["parent"]["id"], boxapi::SUCCESS);
    assert_eq!(
        state_file(&sb, boxapi::APPROVALS_1)["parent"],
        boxapi::SUCCESS
    );
    // A file of the same name in the target: 409.
    sb.box_add_file(boxapi::ERROR, "approvals-2020-05-08.csv", b"x")
        .unwrap();
    let taken = json_call(
        &agent,
        "PUT",
        &api(&sb, &format!("/files/{}", boxapi::APPROVALS_2)),
        &bearer,
        &json!({"parent": {"id": boxapi::ERROR}}),
    );
    assert_error(&taken, 409, "item_name_in_use");
    assert_eq!(
        state_file(&sb, boxapi::APPROVALS_2)["parent"],
        boxapi::FROM_CITY
    );
    let nowhere = json_call(
        &agent,
        "PUT",
        &url,
        &bearer,
        &json!({"parent": {"id": "999"}}),
    );
    assert_error(&nowhere, 404, "not_found");
    // Delete: 204, then gone.
    let deleted = delete(&agent, &url, &bearer);
    assert_eq!(deleted.status, 204);
    assert!(state_file(&sb, boxapi::APPROVALS_1).is_null());
    assert_error(&get(&agent, &url, &bearer), 404, "not_found");
    assert_error(&delete(&agent, &url, &bearer), 404, "not_found");
}

#[test]
fn a_429_fault_with_retry_after_works_on_box_paths_and_reset_reseeds() {
    let (sb, agent, bearer) = session();
    let url = api(&sb, &format!("/folders/{}/items", boxapi::FROM_CITY));
    sb.fault(Fault {
        path: "/box/2.0/folders/*".into(),
        status: 429,
        retry_after: Some(2),
        count: 2,
        ..Default::default()
    });
    for _ in 0..2 {
        let limited = get(&agent, &url, &bearer);
        assert_eq!(limited.status, 429);
        assert_eq!(limited.header("retry-after"), Some("2"));
    }
    assert_eq!(get(&agent, &url, &bearer).status, 200);
    let statuses: Vec<u16> = sb.received("box").iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 429, 429, 200]);
    upload(&agent, &sb, &bearer, boxapi::TO_CITY, "x.csv", b"x", &[]);
    assert_eq!(sb.state("box")["files"].as_array().unwrap().len(), 3);
    sb.reset();
    let state = sb.state("box");
    assert_eq!(state["files"].as_array().unwrap().len(), 2);
    assert_eq!(state["tokens_issued"], 0);
    assert_eq!(get(&agent, &url, &bearer).status, 401);
}

#[test]
fn a_60_mb_file_goes_through_a_session_of_8_mib_parts_and_comes_back_whole() {
    let (sb, agent, bearer) = session();
    // 1 MiB of synthetic rows, repeated with each copy numbered (so misplaced parts show).
    let mut block = Vec::new();
    for row in 0..40_000u64 {
        block.extend_from_slice(
            format!("{row},synthetic row {}\n", row * 7919 % 1_000_003).as_bytes(),
        );
    }
    block.truncate(1 << 20);
    let mut content = Vec::with_capacity(60_000_000 + block.len());
    for copy in 0u32.. {
        if content.len() >= 60_000_000 {
            break;
        }
        content.extend_from_slice(format!("{copy:08}").as_bytes());
        content.extend_from_slice(&block[8..]);
    }
    content.truncate(60_000_000);
    let url = upload_api(&sb, "/files/upload_sessions");
    let body = json!({"folder_id": boxapi::PRINTER_PDFS, "file_size": content.len(), "file_name": "big.csv"});
    let created = json_call(&agent, "POST", &url, &bearer, &body).json();
    assert_eq!(created["part_size"], 8_388_608);
    assert_eq!(created["total_parts"], 8);
    let part_url = created["session_endpoints"]["upload_part"]
        .as_str()
        .unwrap()
        .to_string();
    let mut parts = Vec::new();
    for chunk in content.chunks(8_388_608).enumerate() {
        let (i, bytes) = chunk;
        let lo = i * 8_388_608;
        let range = format!("bytes {lo}-{}/{}", lo + bytes.len() - 1, content.len());
        let answer = put_part(&agent, &part_url, &bearer, &range, &digest(bytes), bytes);
        assert_eq!(answer.status, 200, "{}", answer.body);
        parts.push(answer.json()["part"].clone());
    }
    let done = commit_after_202(&agent, &part_url, &bearer, &content, &parts);
    assert_eq!(done.status, 201, "{}", done.body);
    let sha1 = sha1_hex(&content);
    assert_eq!(done.json()["entries"][0]["sha1"], sha1.as_str());
    assert_eq!(state_file_named(&sb, "big.csv")["size"], 60_000_000);
    // The download gives the same bytes.
    let id = done.json()["entries"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut response = agent
        .get(api(&sb, &format!("/files/{id}/content")))
        .header("authorization", &bearer)
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response
        .body_mut()
        .with_config()
        .limit(100_000_000)
        .read_to_vec()
        .unwrap();
    assert_eq!(sha1_hex(&bytes), sha1);
}
