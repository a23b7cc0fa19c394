#![allow(clippy::unwrap_used)]
//! The OSCaR v1 stand-in through real HTTPS requests: sign-in headers, the three headers
//! sent back, clients since a date, upsert and update_links.

mod support;

use sandbox::Sandbox;
use serde_json::{Value, json};
use support::{call, start};

fn url(sb: &Sandbox, path: &str) -> String {
    format!("{}/oscar{path}", sb.url())
}

/// POST `credentials` to the sign-in endpoint.
fn post_sign_in(sb: &Sandbox, agent: &ureq::Agent, credentials: &Value) -> support::Answer {
    call(
        agent,
        "POST",
        &url(sb, "/api/v1/admin_auth/sign_in"),
        &[],
        Some(credentials),
    )
}

fn good_credentials() -> Value {
    json!({"email": "oscar@example.org", "password": "oscar-secret"})
}

/// Signs in; returns the access-token, client and uid headers to send back.
fn sign_in(sb: &Sandbox, agent: &ureq::Agent) -> Vec<(String, String)> {
    let answer = post_sign_in(sb, agent, &good_credentials());
    assert_eq!(answer.status, 200);
    ["access-token", "client", "uid"]
        .iter()
        .map(|n| (n.to_string(), answer.header(n).unwrap().to_string()))
        .collect()
}

fn send(
    sb: &Sandbox,
    agent: &ureq::Agent,
    auth: &[(String, String)],
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> support::Answer {
    let headers: Vec<(&str, &str)> = auth.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    call(agent, method, &url(sb, path), &headers, body)
}

/// POST a client to the upsert endpoint.
fn post_client(
    sb: &Sandbox,
    agent: &ureq::Agent,
    auth: &[(String, String)],
    client: &Value,
) -> support::Answer {
    send(
        sb,
        agent,
        auth,
        "POST",
        "/api/v1/organizations/clients/upsert/",
        Some(client),
    )
}

fn clients(sb: &Sandbox) -> Vec<Value> {
    sb.state("oscar")["clients"].as_array().cloned().unwrap()
}

fn global_ids(answer: &Value) -> Vec<String> {
    answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["global_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sign_in_answers_with_the_devise_token_headers() {
    let (sb, agent) = start();
    let answer = post_sign_in(&sb, &agent, &good_credentials());
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-token").unwrap().len(), 22);
    assert_eq!(answer.header("client").unwrap().len(), 22);
    assert_eq!(answer.header("uid"), Some("oscar@example.org"));
    assert_eq!(answer.header("token-type"), Some("Bearer"));
    let expiry: i64 = answer.header("expiry").unwrap().parse().unwrap();
    assert!(expiry > chrono::Utc::now().timestamp());
    assert_eq!(answer.json()["data"]["email"], "oscar@example.org");

    for bad in [
        json!({"email": "oscar@example.org", "password": "wrong"}),
        json!({"email": "other@example.org", "password": "oscar-secret"}),
    ] {
        let refused = post_sign_in(&sb, &agent, &bad);
        assert_eq!(refused.status, 401);
        assert_eq!(
            refused.json(),
            json!({"success": false, "errors": ["Invalid login credentials. Please try again."]})
        );
        assert!(refused.header("access-token").is_none());
    }
}

#[test]
fn every_other_endpoint_needs_the_three_headers_back() {
    let (sb, agent) = start();
    let auth = sign_in(&sb, &agent);
    let before = sb.state("oscar");
    let path = "/api/v1/organizations/clients";
    assert_eq!(send(&sb, &agent, &auth, "GET", path, None).status, 200);
    for missing in 0..3 {
        let partial: Vec<(String, String)> = auth
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != missing)
            .map(|(_, h)| h.clone())
            .collect();
        let answer = send(&sb, &agent, &partial, "GET", path, None);
        assert_eq!(answer.status, 401, "without {}", auth[missing].0);
        assert_eq!(
            answer.json(),
            json!({"errors": ["You need to sign in or sign up before continuing."]})
        );
    }
    let mut wrong = auth.clone();
    wrong[0].1 = "AAAAAAAAAAAAAAAAAAAAAA".into();
    assert_eq!(send(&sb, &agent, &wrong, "GET", path, None).status, 401);
    let upsert = json!({"organization": {"external_id": "x", "organization_name": "cif"}});
    assert_eq!(post_client(&sb, &agent, &wrong, &upsert).status, 401);
    let links =
        json!({"data": [{"external_id": "x", "external_id_display": "x", "global_id": "y"}]});
    assert_eq!(
        send(
            &sb,
            &agent,
            &[],
            "PUT",
            "/api/v1/organizations/clients/update_links/",
            Some(&links)
        )
        .status,
        401
    );
    assert_eq!(sb.state("oscar"), before, "refused requests change nothing");
}

#[test]
fn clients_since_a_quoted_date_follow_oscars_query() {
    let (sb, agent) = start();
    let auth = sign_in(&sb, &agent);
    let all = clients(&sb);
    let since = "2023-09-01T00:00:00+00:00";
    let answer = send(
        &sb,
        &agent,
        &auth,
        "GET",
        "/api/v1/organizations/clients?since_date=%272023-09-01%2000:00:00%27&referred_external=true",
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    let got = global_ids(&body);
    // Created since then (referred or not), or updated since then and referred.
    let want: Vec<&Value> = all
        .iter()
        .filter(|c| {
            c["created_at"].as_str().unwrap() >= since
                || (c["updated_at"].as_str().unwrap() >= since && c["is_referred"] == true)
        })
        .collect();
    assert_eq!(got.len(), want.len());
    assert!(!got.is_empty());
    assert!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["is_referred"] == false)
    );
    for c in &want {
        assert!(got.contains(&c["global_id"].as_str().unwrap().to_string()));
    }
    assert!(
        body["data"][0].get("updated_at").is_none(),
        "timestamps stay internal"
    );
    let received = sb.received("oscar");
    assert_eq!(
        received.last().unwrap().query,
        "since_date=%272023-09-01%2000:00:00%27&referred_external=true"
    );

    let later = send(
        &sb,
        &agent,
        &auth,
        "GET",
        "/api/v1/organizations/clients?since_date=%272099-01-01%2000:00:00%27",
        None,
    );
    assert_eq!(later.json(), json!({"data": []}));
    let everything = send(
        &sb,
        &agent,
        &auth,
        "GET",
        "/api/v1/organizations/clients",
        None,
    );
    assert_eq!(global_ids(&everything.json()).len(), all.len());
    let bad = send(
        &sb,
        &agent,
        &auth,
        "GET",
        "/api/v1/organizations/clients?since_date=%27yesterday%27",
        None,
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn upsert_creates_then_updates_by_external_id_or_global_id() {
    let (sb, agent) = start();
    let auth = sign_in(&sb, &agent);
    let before = clients(&sb).len();
    let referral = json!({"organization": {
        "external_id": "aac935f2-0000-4000-8000-000000000001", "external_id_display": "0000001",
        "given_name": "Upsert", "family_name": "Synthetic", "gender": "female",
        "date_of_birth": "2015-01-01", "organization_name": "cif", "organization_id": "cif",
        "is_referred": true, "services": [{"uuid": "00b7078c-f989-4d23-af5c-4712232aab6c", "name": "Community social work"}],
        "transaction_id": "tx-1"
    }});
    let created = post_client(&sb, &agent, &auth, &referral);
    assert_eq!(created.status, 200, "{}", created.body);
    let created = created.json();
    assert_eq!(
        created["external_id"],
        "aac935f2-0000-4000-8000-000000000001"
    );
    assert_eq!(created["message"], "Record saved.");
    let global_id = created["global_id"].as_str().unwrap().to_string();
    assert_eq!(global_id.len(), 26);
    assert_eq!(clients(&sb).len(), before + 1);

    // Again by external id: the same client, updated.
    let mut again = referral.clone();
    again["organization"]["given_name"] = "Renamed".into();
    let updated = send(
        &sb,
        &agent,
        &auth,
        "POST",
        "/api/v1/organizations/clients/upsert",
        Some(&again),
    )
    .json();
    assert_eq!(updated["global_id"], global_id.as_str());
    // By global id, with a new external id.
    let by_global = json!({"organization": {"global_id": global_id, "external_id": "other-external",
                                            "organization_name": "cif", "family_name": "Changed"}});
    let answer = post_client(&sb, &agent, &auth, &by_global).json();
    assert_eq!(answer["external_id"], "other-external");
    let all = clients(&sb);
    assert_eq!(all.len(), before + 1);
    let client = all
        .iter()
        .find(|c| c["global_id"] == global_id.as_str())
        .unwrap();
    assert_eq!(client["given_name"], "Renamed");
    assert_eq!(client["family_name"], "Changed");
    assert_eq!(client["services"][0]["name"], "Community social work");
    assert!(client.get("transaction_id").is_none());

    // Just upserted: it comes back in the list since today.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let since = send(
        &sb,
        &agent,
        &auth,
        "GET",
        &format!(
            "/api/v1/organizations/clients?since_date=%27{today}%2000:00:00%27&referred_external=true"
        ),
        None,
    );
    assert_eq!(global_ids(&since.json()), [global_id]);

    let no_org_name = json!({"organization": {"external_id": "e-2"}});
    let refused = post_client(&sb, &agent, &auth, &no_org_name);
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.json(),
        json!({"data": {"message": "Record error. Please check OSCaR logs for details."}})
    );
    let bad_date = json!({"organization": {"external_id": "e-3", "organization_name": "cif", "date_of_birth": "01/02/2015"}});
    let refused = post_client(&sb, &agent, &auth, &bad_date);
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.json(),
        json!({"external_id": "e-3", "message": "Record error. Please check OSCaR logs for details."})
    );
    assert!(!refused.body.contains("01/02/2015"));
    assert_eq!(clients(&sb).len(), before + 1);
}

#[test]
fn update_links_sets_external_ids_and_lists_unknown_global_ids() {
    let (sb, agent) = start();
    let auth = sign_in(&sb, &agent);
    let target = clients(&sb)
        .into_iter()
        .find(|c| c["external_id"] == "")
        .unwrap();
    let gid = target["global_id"].as_str().unwrap().to_string();
    let links = json!({"data": [{"external_id": "5f6130b0-0000-4000-8000-000000000009",
                                 "external_id_display": "0000009", "global_id": gid}]});
    let answer = send(
        &sb,
        &agent,
        &auth,
        "PUT",
        "/api/v1/organizations/clients/update_links/",
        Some(&links),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"data": {"message": "Record saved."}}));
    let client = clients(&sb)
        .into_iter()
        .find(|c| c["global_id"] == gid.as_str())
        .unwrap();
    assert_eq!(
        client["external_id"],
        "5f6130b0-0000-4000-8000-000000000009"
    );
    assert_eq!(client["external_id_display"], "0000009");
    assert_ne!(client["updated_at"], target["updated_at"]);

    let mixed = json!({"data": [
        {"external_id": "e-known", "external_id_display": "known", "global_id": gid},
        {"external_id": "e-unknown", "external_id_display": "unknown", "global_id": "01NOSUCHCLIENT000000000000"}
    ]});
    let answer = send(
        &sb,
        &agent,
        &auth,
        "PUT",
        "/api/v1/organizations/clients/update_links",
        Some(&mixed),
    );
    assert_eq!(answer.status, 422);
    assert_eq!(
        answer.json()["data"]["errors"],
        json!([{"index": 1, "global_id": "01NOSUCHCLIENT000000000000", "message": "Record not found."}])
    );
    let client = clients(&sb)
        .into_iter()
        .find(|c| c["global_id"] == gid.as_str())
        .unwrap();
    assert_eq!(
        client["external_id"], "e-known",
        "the known link is still saved"
    );

    let empty = send(
        &sb,
        &agent,
        &auth,
        "PUT",
        "/api/v1/organizations/clients/update_links/",
        Some(&json!({"data": []})),
    );
    assert_eq!(empty.status, 422);

    sb.reset();
    let client = clients(&sb)
        .into_iter()
        .find(|c| c["global_id"] == gid.as_str())
        .unwrap();
    assert_eq!(client["external_id"], "");
}
