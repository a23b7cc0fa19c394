#![allow(clippy::unwrap_used)]
//! ReportStream, through real HTTPS requests, with client assertions signed here
//! by the test sender's private key.

mod support;

use ring::signature::RSA_PKCS1_SHA256;
use sandbox::Sandbox;
use sandbox::apis::reportstream::COLUMNS;
use serde_json::{Value, json};
use support::{Answer, agent, b64url, post, post_empty, rsa_key_pair, sign_jwt};

const PRIVATE_KEY: &str = include_str!("../../fixtures/sandbox/reportstream-sender.key.pem");
const ASSERTION_TYPE: &str = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";

fn sign(header: &Value, claims: &Value) -> String {
    let key = rsa_key_pair(PRIVATE_KEY.as_bytes());
    sign_jwt(&key, &RSA_PKCS1_SHA256, header, claims)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn good_header() -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": "simple_report.default"})
}

fn good_claims(sb: &Sandbox) -> Value {
    json!({"iss": "simple_report.default", "sub": "simple_report.default",
           "aud": format!("127.0.0.1:{}", sb.port()), "exp": now() + 300,
           "jti": uuid::Uuid::new_v4().to_string()})
}

fn token_url(sb: &Sandbox, scope: &str, grant: &str, assertion_type: &str, jwt: &str) -> String {
    format!(
        "{}/reportstream/api/token?scope={scope}&grant_type={grant}&client_assertion_type={assertion_type}&client_assertion={jwt}",
        sb.url()
    )
}

fn ask_token(sb: &Sandbox, jwt: &str) -> Answer {
    let url = token_url(
        sb,
        "simple_report.%2A.report",
        "client_credentials",
        ASSERTION_TYPE,
        jwt,
    );
    post_empty(&agent(sb), &url, &[])
}

fn token(sb: &Sandbox) -> String {
    let answer = ask_token(sb, &sign(&good_header(), &good_claims(sb)));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["access_token"].as_str().unwrap().to_string()
}

/// A valid row: the defaults, with some columns replaced.
fn row(result_id: &str, overrides: &[(&str, &str)]) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|column| {
            if let Some((_, v)) = overrides.iter().find(|(c, _)| c == column) {
                return v.to_string();
            }
            match *column {
                "Result_ID" => result_id,
                "Patient_race" => "2106-3",
                "Patient_DOB" => "19800102",
                "Patient_gender" => "F",
                "Patient_ethnicity" => "N",
                "Employed_in_healthcare" | "Resident_congregate_setting" => "N",
                "First_test" => "Y",
                "Symptomatic_for_disease" => "UNK",
                "Test_result_status" | "Order_result_status" | "Observation_result_status" => "F",
                "Test_result_code" => "260415000",
                "Specimen_collection_date_time" | "Test_date" => "20240101120000",
                "Date_result_released" => "20240101130000",
                "Order_test_date" => "20240101",
                "Illness_onset_date" => "",
                "Processing_mode_code" => "P",
                "Specimen_source_site_code" => "53342003",
                _ => "synthetic",
            }
            .to_string()
        })
        .collect()
}

fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.join(",") + "\n";
    for r in rows {
        out += &(r.join(",") + "\n");
    }
    out
}

fn submit(sb: &Sandbox, path_and_query: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    post(
        &agent(sb),
        &format!("{}/reportstream{path_and_query}", sb.url()),
        headers,
        body.as_bytes(),
    )
}

const KEY: (&str, &str) = ("x-functions-key", "rs-function-key");
const CLIENT: (&str, &str) = ("client", "simple_report");
const CSV: (&str, &str) = ("content-type", "text/csv");

#[test]
fn a_signed_assertion_gets_a_token_that_opens_reports() {
    let sb = Sandbox::start().unwrap();
    let answer = ask_token(&sb, &sign(&good_header(), &good_claims(&sb)));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "simple_report.*.report");
    let expires_at = body["expires_at_seconds"].as_i64().unwrap();
    assert!((expires_at - now() - 300).abs() <= 2);
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    let report = csv(COLUMNS, &[row("r1", &[])]);
    let answer = submit(
        &sb,
        "/api/reports",
        &[("authorization", &bearer), CLIENT, CSV],
        &report,
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(sb.received("reportstream")[0].body, b"");
}

#[test]
fn the_audience_may_be_the_host_with_or_without_port_and_a_list() {
    let sb = Sandbox::start().unwrap();
    for aud in [
        json!(format!("127.0.0.1:{}", sb.port())),
        json!("127.0.0.1"),
        json!(["x", "127.0.0.1"]),
    ] {
        let mut claims = good_claims(&sb);
        claims["aud"] = aud.clone();
        assert_eq!(
            ask_token(&sb, &sign(&good_header(), &claims)).status,
            200,
            "{aud}"
        );
    }
}

#[test]
fn bad_assertions_and_parameters_are_401() {
    let sb = Sandbox::start().unwrap();
    let claims_with = |name: &str, value: Value| {
        let mut claims = good_claims(&sb);
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value;
        }
        sign(&good_header(), &claims)
    };
    let mut tampered = sign(&good_header(), &good_claims(&sb));
    let claims_start = tampered.find('.').unwrap() + 1;
    let mut forged = good_claims(&sb);
    forged["sub"] = json!("someone_else.default");
    tampered.replace_range(
        claims_start..tampered.rfind('.').unwrap(),
        &b64url(forged.to_string().as_bytes()),
    );
    let none_alg = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","kid":"simple_report.default"}"#),
        b64url(good_claims(&sb).to_string().as_bytes())
    );
    let cases = [
        ("tampered claims", tampered),
        ("alg none", none_alg),
        (
            "wrong kid",
            sign(
                &json!({"alg": "RS256", "kid": "other.default"}),
                &good_claims(&sb),
            ),
        ),
        ("wrong iss", claims_with("iss", json!("other.default"))),
        ("wrong sub", claims_with("sub", json!("other.default"))),
        (
            "wrong aud",
            claims_with("aud", json!("reportstream.example.org")),
        ),
        ("expired", claims_with("exp", json!(now() - 120))),
        ("exp too far ahead", claims_with("exp", json!(now() + 3600))),
        ("no exp", claims_with("exp", Value::Null)),
        ("no jti", claims_with("jti", Value::Null)),
        ("not a jwt", "abc".to_string()),
    ];
    for (name, jwt) in cases {
        let answer = ask_token(&sb, &jwt);
        assert_eq!(answer.status, 401, "{name}");
        assert!(
            !answer.body.contains(&jwt),
            "{name}: the assertion is not echoed"
        );
    }
    let jwt = sign(&good_header(), &good_claims(&sb));
    let agent = agent(&sb);
    let bad_params = [
        token_url(
            &sb,
            "other.%2A.report",
            "client_credentials",
            ASSERTION_TYPE,
            &jwt,
        ),
        token_url(
            &sb,
            "simple_report.%2A.report",
            "password",
            ASSERTION_TYPE,
            &jwt,
        ),
        token_url(
            &sb,
            "simple_report.%2A.report",
            "client_credentials",
            "saml",
            &jwt,
        ),
        format!(
            "{}/reportstream/api/token?scope=simple_report.%2A.report&grant_type=client_credentials&client_assertion_type={ASSERTION_TYPE}",
            sb.url()
        ),
    ];
    for url in bad_params {
        assert_eq!(post_empty(&agent, &url, &[]).status, 401, "{url}");
    }
    // None of those used the jti: it still works once, then is a replay.
    assert_eq!(ask_token(&sb, &jwt).status, 200);
    assert_eq!(ask_token(&sb, &jwt).status, 401, "replayed jti");
    assert_eq!(sb.state("reportstream")["tokens_issued"], 1);
}

#[test]
fn reports_need_a_token_or_the_function_key() {
    let sb = Sandbox::start().unwrap();
    let report = csv(COLUMNS, &[row("r1", &[])]);
    let refused: [&[(&str, &str)]; 4] = [
        &[CLIENT, CSV],
        &[("x-functions-key", "wrong"), CLIENT, CSV],
        &[("authorization", "Bearer not-issued"), CLIENT, CSV],
        &[("authorization", "Basic cnM6cnM="), CLIENT, CSV],
    ];
    for headers in refused {
        assert_eq!(
            submit(&sb, "/api/reports", headers, &report).status,
            401,
            "{headers:?}"
        );
    }
    let bearer = format!("bearer {}", token(&sb));
    assert_eq!(
        submit(
            &sb,
            "/api/reports",
            &[("authorization", &bearer), CLIENT, CSV],
            &report
        )
        .status,
        201
    );
    assert_eq!(
        submit(&sb, "/api/reports", &[KEY, CLIENT, CSV], &report).status,
        201
    );
    assert_eq!(
        submit(
            &sb,
            "/api/waters",
            &[KEY, ("client", "simple_report.default"), CSV],
            &report
        )
        .status,
        201
    );
    let reports = sb.state("reportstream")["reports"].clone();
    assert_eq!(reports.as_array().unwrap().len(), 3);
    assert_eq!(reports[2]["endpoint"], "waters");
}

#[test]
fn an_accepted_report_has_the_full_answer_shape() {
    let sb = Sandbox::start().unwrap();
    let report = csv(COLUMNS, &[row("r1", &[]), row("r2", &[])]);
    let answer = submit(
        &sb,
        "/api/reports?option=SkipInvalidItems",
        &[KEY, CLIENT, CSV, ("x-api-version", "2021-09-21")],
        &report,
    );
    assert_eq!(answer.status, 201);
    let body = answer.json();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "submissionId",
            "overallStatus",
            "timestamp",
            "reportItemCount",
            "destinations",
            "destinationCount",
            "errorCount",
            "warningCount",
            "errors",
            "warnings"
        ]
    );
    assert!(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok());
    assert_eq!(body["submissionId"], 1);
    assert_eq!(body["overallStatus"], "Received");
    assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok());
    assert_eq!(body["reportItemCount"], 2);
    assert_eq!(body["destinationCount"], 1);
    let destination = &body["destinations"][0];
    for key in ["organization_id", "service", "itemCount", "sending_at"] {
        assert!(destination.get(key).is_some(), "{key}");
    }
    assert_eq!(destination["itemCount"], 2);
    assert_eq!(
        (body["errorCount"].clone(), body["warningCount"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(
        (body["errors"].clone(), body["warnings"].clone()),
        (json!([]), json!([]))
    );
    let state = sb.state("reportstream");
    let stored = &state["reports"][0];
    assert_eq!(stored["id"], body["id"]);
    assert_eq!(stored["itemCount"], 2);
    assert_eq!(stored["trackingIds"], json!(["r1", "r2"]));
    assert_eq!(stored["option"], "SkipInvalidItems");
}

#[test]
fn bad_codes_become_item_warnings_named_by_field_without_values() {
    let sb = Sandbox::start().unwrap();
    let cases: &[(&str, &str)] = &[
        ("Patient_ethnicity", "hispanic"),
        ("Patient_gender", "female"),
        ("Patient_race", "white"),
        ("Test_result_code", "POSITIVE"),
        ("Test_result_status", "final"),
        ("Order_result_status", "X"),
        ("Observation_result_status", "Z"),
        ("Employed_in_healthcare", "yes"),
        ("First_test", "true"),
        ("Patient_DOB", "1980-01-02"),
        ("Illness_onset_date", "20241332"),
        ("Specimen_collection_date_time", "2024-01-01T12:00"),
        ("Date_result_released", "202401011300"),
        ("Processing_mode_code", "T"),
    ];
    let mut rows = vec![row("ok-1", &[])];
    for (i, (field, value)) in cases.iter().enumerate() {
        rows.push(row(&format!("bad-{i}"), &[(field, value)]));
    }
    // A second row with the same bad gender joins the same warning.
    rows.push(row("bad-gender-2", &[("Patient_gender", "female")]));
    let answer = submit(
        &sb,
        "/api/reports",
        &[KEY, CLIENT, CSV],
        &csv(COLUMNS, &rows),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["reportItemCount"], rows.len());
    let warnings = body["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), cases.len());
    assert_eq!(body["warningCount"], cases.len());
    for (i, (field, value)) in cases.iter().enumerate() {
        let w = warnings
            .iter()
            .find(|w| w["field"] == *field)
            .unwrap_or_else(|| panic!("{field}"));
        assert_eq!(w["scope"], "item");
        let message = w["message"].as_str().unwrap();
        assert!(message.contains(field), "{message}");
        assert!(!message.contains(value), "{message} names no value");
        assert_eq!(w["indices"][0], i + 2, "{field}: 1-based row index");
        assert_eq!(w["trackingIds"][0], format!("bad-{i}"));
    }
    let gender = warnings
        .iter()
        .find(|w| w["field"] == "Patient_gender")
        .unwrap();
    assert_eq!(gender["indices"], json!([3, cases.len() + 2]));
    assert_eq!(gender["trackingIds"], json!(["bad-1", "bad-gender-2"]));
}

#[test]
fn a_bad_header_is_a_report_error_400() {
    let sb = Sandbox::start().unwrap();
    let mut unknown: Vec<&str> = COLUMNS.to_vec();
    unknown.push("Shoe_size");
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| *c != "Patient_gender")
        .collect();
    let mut rows_unknown = row("r1", &[]);
    rows_unknown.push("42".into());
    let rows_missing: Vec<String> = COLUMNS
        .iter()
        .zip(row("r1", &[]))
        .filter(|(c, _)| **c != "Patient_gender")
        .map(|(_, v)| v)
        .collect();
    for (header, rows, field, word) in [
        (unknown, rows_unknown, "Shoe_size", "Unexpected"),
        (missing, rows_missing, "Patient_gender", "Missing"),
    ] {
        let answer = submit(
            &sb,
            "/api/reports",
            &[KEY, CLIENT, CSV],
            &csv(&header, &[rows]),
        );
        assert_eq!(answer.status, 400, "{field}");
        let body = answer.json();
        assert_eq!(body["overallStatus"], "Error");
        assert_eq!(body["errorCount"], 1);
        assert_eq!(body["reportItemCount"], 0);
        assert_eq!(body["errors"][0]["scope"], "report");
        assert_eq!(body["errors"][0]["field"], field);
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(word)
        );
    }
    assert_eq!(sb.state("reportstream")["reports"], json!([]));
}

#[test]
fn an_empty_report_is_400() {
    let sb = Sandbox::start().unwrap();
    for body in [csv(COLUMNS, &[]), String::new()] {
        let answer = submit(&sb, "/api/reports", &[KEY, CLIENT, CSV], &body);
        assert_eq!(answer.status, 400);
        assert_eq!(answer.json()["errors"][0]["scope"], "report");
    }
}

#[test]
fn client_option_and_content_type_are_checked() {
    let sb = Sandbox::start().unwrap();
    let report = csv(COLUMNS, &[row("r1", &[])]);
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        ("/api/reports", &[KEY, CSV], "client"),
        (
            "/api/reports",
            &[KEY, ("client", "other_org"), CSV],
            "client",
        ),
        ("/api/reports?option=Bogus", &[KEY, CLIENT, CSV], "option"),
        (
            "/api/reports",
            &[KEY, CLIENT, ("content-type", "application/json")],
            "content-type",
        ),
    ];
    for (path, headers, field) in cases {
        let answer = submit(&sb, path, headers, &report);
        assert_eq!(answer.status, 400, "{field}");
        let error = &answer.json()["errors"][0];
        assert_eq!(error["scope"], "parameter");
        assert_eq!(error["field"], field);
    }
    // Each format it takes, counted by its items.
    let hl7 = "MSH|^~\\&|a\rPID|1\rMSH|^~\\&|b\rPID|2\r";
    let fhir = "{\"resourceType\":\"Bundle\"}\n{\"resourceType\":\"Bundle\"}\n{\"resourceType\":\"Bundle\"}\n";
    for (content_type, body, items) in [
        ("application/hl7-v2", hl7, 2),
        ("application/fhir+ndjson", fhir, 3),
        ("text/csv; charset=utf-8", report.as_str(), 1),
    ] {
        let headers = [KEY, CLIENT, ("content-type", content_type)];
        let answer = submit(&sb, "/api/reports", &headers, body);
        assert_eq!(answer.status, 201, "{content_type}: {}", answer.body);
        assert_eq!(answer.json()["reportItemCount"], items, "{content_type}");
    }
}

#[test]
fn unknown_paths_are_404() {
    let sb = Sandbox::start().unwrap();
    assert_eq!(submit(&sb, "/api/nothing", &[KEY], "").status, 404);
    let get = agent(&sb)
        .get(format!("{}/reportstream/api/reports", sb.url()))
        .call()
        .unwrap();
    assert_eq!(get.status().as_u16(), 404);
}
