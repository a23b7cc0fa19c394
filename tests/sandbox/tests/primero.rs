#![allow(clippy::unwrap_used)]
//! The Primero v2 stand-in through real HTTPS requests: token login in both shapes, the
//! case list (filters, fields, paging), create (409), PATCH (subform `_delete`, 404, 422).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use sandbox::Sandbox;
use serde_json::{Value, json};
use support::{assert_no_values, call, start};

fn url(sb: &Sandbox, path: &str) -> String {
    format!("{}/primero{path}", sb.url())
}

fn login_body() -> Value {
    json!({"user": {"user_name": "primero_user", "password": "primero-secret"}})
}

/// POST `credentials` to the token endpoint, with `headers`.
fn post_login(
    sb: &Sandbox,
    agent: &ureq::Agent,
    headers: &[(&str, &str)],
    credentials: &Value,
) -> support::Answer {
    call(
        agent,
        "POST",
        &url(sb, "/api/v2/tokens"),
        headers,
        Some(credentials),
    )
}

/// Logs in and returns the `Authorization` header value to send back.
fn login(sb: &Sandbox, agent: &ureq::Agent) -> String {
    let answer = post_login(sb, agent, &[], &login_body());
    assert_eq!(answer.status, 200);
    answer.header("authorization").unwrap().to_string()
}

/// One request to `path` with the `Authorization` header `auth`.
fn send(
    sb: &Sandbox,
    agent: &ureq::Agent,
    auth: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> support::Answer {
    call(
        agent,
        method,
        &url(sb, path),
        &[("authorization", auth)],
        body,
    )
}

fn list(sb: &Sandbox, agent: &ureq::Agent, auth: &str, query: &str) -> Value {
    let answer = send(
        sb,
        agent,
        auth,
        "GET",
        &format!("/api/v2/cases?{query}"),
        None,
    );
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    answer.json()
}

fn stored(sb: &Sandbox) -> Vec<Value> {
    sb.state("primero")["cases"].as_array().cloned().unwrap()
}

/// The stored case with this id.
fn stored_case(sb: &Sandbox, id: &str) -> Value {
    stored(sb).into_iter().find(|c| c["id"] == id).unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn login_puts_the_token_in_the_header_and_by_default_in_the_body() {
    let (sb, agent) = start();
    let answer = post_login(&sb, &agent, &[], &login_body());
    assert_eq!(answer.status, 200);
    let header = answer.header("authorization").unwrap();
    let token = header.strip_prefix("Bearer ").unwrap();
    assert_eq!(token.split('.').count(), 3, "JWT-shaped");
    let body = answer.json();
    assert_eq!(body["user_name"], "primero_user");
    assert_eq!(body["token"], token);

    let header_only = post_login(
        &sb,
        &agent,
        &[("x-sandbox-token-in-body", "false")],
        &login_body(),
    );
    assert_eq!(header_only.status, 200);
    assert!(header_only.json().get("token").is_none());
    let auth = header_only.header("authorization").unwrap().to_string();
    assert_ne!(auth, header);
    list(&sb, &agent, &auth, "per=1");

    for bad in [
        json!({"user": {"user_name": "primero_user", "password": "wrong"}}),
        json!({"user": {"user_name": "someone", "password": "primero-secret"}}),
        json!({}),
    ] {
        let refused = post_login(&sb, &agent, &[], &bad);
        assert_eq!(refused.status, 401);
        assert_eq!(
            refused.json(),
            json!({"error": "Invalid User name or password."})
        );
        assert!(refused.header("authorization").is_none());
    }
}

#[test]
fn cases_need_a_valid_unexpired_token() {
    let (sb, agent) = start();
    let cases = url(&sb, "/api/v2/cases");
    let none = call(&agent, "GET", &cases, &[], None);
    assert_eq!(none.status, 401);
    assert_eq!(
        none.json(),
        json!({"error": "You need to sign in or sign up before continuing."})
    );
    let forged = call(
        &agent,
        "GET",
        &cases,
        &[("authorization", "Bearer a.b.c")],
        None,
    );
    assert_eq!(forged.status, 401);
    let post = call(
        &agent,
        "POST",
        &cases,
        &[],
        Some(&json!({"data": {"name_first": "X"}})),
    );
    assert_eq!(post.status, 401);

    let short = post_login(&sb, &agent, &[("x-sandbox-token-ttl", "1")], &login_body());
    let auth = short.header("authorization").unwrap().to_string();
    assert_eq!(
        call(&agent, "GET", &cases, &[("authorization", &auth)], None).status,
        200
    );
    std::thread::sleep(Duration::from_millis(1100));
    let expired = call(&agent, "GET", &cases, &[("authorization", &auth)], None);
    assert_eq!(expired.status, 401);
    assert_eq!(expired.json()["errors"][0]["code"], 401);
}

#[test]
fn the_list_pages_across_three_pages_of_twenty() {
    let (sb, agent) = start();
    let auth = login(&sb, &agent);
    let total = stored(&sb).len();
    assert!(total > 40 && total <= 60, "{total}");
    let mut seen = BTreeSet::new();
    for page in 1..=3 {
        let answer = list(&sb, &agent, &auth, &format!("page={page}"));
        assert_eq!(
            answer["metadata"],
            json!({"total": total, "per": 20, "page": page})
        );
        let got = ids(&answer);
        let want = if page < 3 { 20 } else { total - 40 };
        assert_eq!(got.len(), want, "page {page}");
        for id in got {
            assert!(seen.insert(id), "a case on two pages");
        }
    }
    assert_eq!(seen.len(), total);
    assert!(ids(&list(&sb, &agent, &auth, "page=4&per=20")).is_empty());

    // Newest created first, by default.
    let first = list(&sb, &agent, &auth, "per=1000");
    assert_eq!(first["metadata"]["per"], 1000);
    let created: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["created_at"].as_str().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "{created:?}");
    assert_eq!(
        list(&sb, &agent, &auth, "per=5000")["metadata"]["per"],
        1000
    );
}

#[test]
fn filters_select_by_list_range_and_open_range() {
    let (sb, agent) = start();
    let auth = login(&sb, &agent);
    let all = stored(&sb);
    let count = |pred: &dyn Fn(&Value) -> bool| all.iter().filter(|c| pred(c)).count();

    let sexes = list(&sb, &agent, &auth, "sex=female,other&per=100");
    assert_eq!(
        sexes["metadata"]["total"],
        count(&|c| c["sex"] == "female" || c["sex"] == "other")
    );
    assert!(
        sexes["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["sex"] != "male")
    );

    let ages = list(&sb, &agent, &auth, "age=5..9&per=100");
    assert_eq!(
        ages["metadata"]["total"],
        count(&|c| c["age"].as_u64().is_some_and(|a| (5..=9).contains(&a)))
    );
    assert!(ages["metadata"]["total"].as_u64().unwrap() > 0);

    let since = "2023-08-24T00:00:00Z";
    let after = list(
        &sb,
        &agent,
        &auth,
        &format!("last_updated_at={since}..&per=100"),
    );
    let before = list(
        &sb,
        &agent,
        &auth,
        &format!("last_updated_at=..{since}&per=100"),
    );
    let n_after = after["metadata"]["total"].as_u64().unwrap();
    let n_before = before["metadata"]["total"].as_u64().unwrap();
    assert!(n_after > 0 && n_before > 0);
    assert_eq!(n_after + n_before, all.len() as u64);
    assert!(
        after["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["last_updated_at"].as_str().unwrap() >= "2023-08-24")
    );

    // The upsert lookups: one match by oscar_number, one by case_id.
    let linked = all.iter().find(|c| c["oscar_number"].is_string()).unwrap();
    let by_oscar = list(
        &sb,
        &agent,
        &auth,
        &format!(
            "remote=true&oscar_number={}",
            linked["oscar_number"].as_str().unwrap()
        ),
    );
    assert_eq!(ids(&by_oscar), [linked["id"].as_str().unwrap()]);
    let by_case = list(
        &sb,
        &agent,
        &auth,
        &format!(
            "remote=true&case_id={}",
            linked["case_id"].as_str().unwrap()
        ),
    );
    assert_eq!(ids(&by_case), [linked["id"].as_str().unwrap()]);
    assert_eq!(
        list(&sb, &agent, &auth, "case_id=nothing")["metadata"]["total"],
        0
    );

    let narrow = list(&sb, &agent, &auth, "fields=sex,age&per=3");
    for case in narrow["data"].as_array().unwrap() {
        let keys: Vec<&String> = case.as_object().unwrap().keys().collect();
        assert!(
            keys.iter()
                .all(|k| ["id", "sex", "age"].contains(&k.as_str())),
            "{keys:?}"
        );
    }
}

#[test]
fn create_sets_server_fields_and_a_duplicate_id_is_a_409() {
    let (sb, agent) = start();
    let auth = login(&sb, &agent);
    let before = stored(&sb).len();
    let answer = send(
        &sb,
        &agent,
        &auth,
        "POST",
        "/api/v2/cases",
        Some(&json!({"data": {
            "name_first": "New", "name_last": "Synthetic", "sex": "female", "age": 7,
            "date_of_birth": "2017-01-01", "oscar_number": "01SYNTESTNEWCASE0000000000",
            "services_section": [{"service_type": "counselling"}]
        }})),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let case = answer.json()["data"].clone();
    let id = case["id"].as_str().unwrap();
    let case_id = case["case_id"].as_str().unwrap();
    assert_eq!(case_id.len(), 36);
    assert_eq!(case["case_id_display"], case_id[29..]);
    assert!(case["last_updated_at"].as_str().unwrap().ends_with('Z'));
    assert!(case["services_section"][0]["unique_id"].is_string());
    let cases = stored(&sb);
    assert_eq!(cases.len(), before + 1);
    assert!(
        cases
            .iter()
            .any(|c| c["id"] == id && c["name_first"] == "New")
    );
    let shown = send(
        &sb,
        &agent,
        &auth,
        "GET",
        &format!("/api/v2/cases/{id}"),
        None,
    );
    assert_eq!(shown.json()["data"]["case_id"], case_id);

    let with_id =
        json!({"data": {"id": "7b0a4ad0-0000-4000-8000-000000000001", "name_first": "Given"}});
    let created = send(&sb, &agent, &auth, "POST", "/api/v2/cases", Some(&with_id));
    assert_eq!(created.status, 200);
    assert_eq!(
        created.json()["data"]["id"],
        "7b0a4ad0-0000-4000-8000-000000000001"
    );
    let duplicate = send(&sb, &agent, &auth, "POST", "/api/v2/cases", Some(&with_id));
    assert_eq!(duplicate.status, 409);
    assert_eq!(
        duplicate.json(),
        json!({"errors": [{"code": 409, "message": "Conflict: A record with this id already exists",
                            "resource": "/api/v2/cases"}]})
    );
    assert_eq!(stored(&sb).len(), before + 2);

    let no_data = send(
        &sb,
        &agent,
        &auth,
        "POST",
        "/api/v2/cases",
        Some(&json!({"child": {}})),
    );
    assert_eq!(no_data.status, 422);
    assert_eq!(no_data.json()["errors"][0]["code"], 422);
}

#[test]
fn patch_merges_fields_and_subform_rows_and_deletes_marked_rows() {
    let (sb, agent) = start();
    let auth = login(&sb, &agent);
    let create = json!({"data": {"name_first": "Patch", "sex": "male", "services_section": [
        {"unique_id": "row-1", "service_type": "counselling", "service_implemented": "not_implemented"},
        {"unique_id": "row-2", "service_type": "education"}
    ]}});
    let created = send(&sb, &agent, &auth, "POST", "/api/v2/cases", Some(&create));
    let id = created.json()["data"]["id"].as_str().unwrap().to_string();
    let stamp = created.json()["data"]["last_updated_at"].clone();
    std::thread::sleep(Duration::from_millis(5));

    let patch = json!({"data": {"name_first": "Patched", "services_section": [
        {"unique_id": "row-1", "service_implemented": "implemented"},
        {"unique_id": "row-2", "_delete": true},
        {"unique_id": "row-3", "service_type": "medical_support"}
    ]}});
    let answer = send(
        &sb,
        &agent,
        &auth,
        "PATCH",
        &format!("/api/v2/cases/{id}"),
        Some(&patch),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let case = stored_case(&sb, &id);
    assert_eq!(case["name_first"], "Patched");
    assert_eq!(case["sex"], "male");
    assert_ne!(case["last_updated_at"], stamp);
    assert_eq!(
        case["services_section"],
        json!([
            {"unique_id": "row-1", "service_type": "counselling", "service_implemented": "implemented"},
            {"unique_id": "row-3", "service_type": "medical_support"}
        ])
    );
    assert_eq!(answer.json()["data"], case);

    let missing = send(
        &sb,
        &agent,
        &auth,
        "PATCH",
        "/api/v2/cases/no-such-case",
        Some(&patch),
    );
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json(),
        json!({"errors": [{"code": 404, "message": "Not Found", "resource": "/api/v2/cases/no-such-case"}]})
    );

    let invalid = json!({"data": {"age": 140, "sex": "boy", "date_of_birth": "13/06/2005", "name_first": "Kept?"}});
    let refused = send(
        &sb,
        &agent,
        &auth,
        "PATCH",
        &format!("/api/v2/cases/{id}"),
        Some(&invalid),
    );
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.json(),
        json!({"errors": [{"code": 422, "message": "Invalid Record JSON",
                           "resource": format!("/api/v2/cases/{id}"),
                           "detail": ["/age", "/sex", "/date_of_birth"]}]})
    );
    assert_no_values(&refused.body, &["140", "boy", "13/06/2005", "Kept?"]);
    let case = stored_case(&sb, &id);
    assert_eq!(
        case["name_first"], "Patched",
        "a refused PATCH changes nothing"
    );

    let bad_create = send(
        &sb,
        &agent,
        &auth,
        "POST",
        "/api/v2/cases",
        Some(&json!({"data": {"age": "seven"}})),
    );
    assert_eq!(bad_create.status, 422);
    assert_eq!(bad_create.json()["errors"][0]["detail"], json!(["/age"]));

    sb.reset();
    assert!(!stored(&sb).iter().any(|c| c["id"] == id.as_str()));
}
