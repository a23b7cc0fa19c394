#![allow(clippy::unwrap_used)]
//! ReqCheck, through real HTTPS requests.

mod support;

use sandbox::Sandbox;
use serde_json::{Value, json};
use support::{Answer, REQCHECK_AUTH, agent, post, post_empty, start};

fn url(sb: &Sandbox, endpoint: &str) -> String {
    format!("{}/reqcheck/{endpoint}", sb.url())
}

fn send(sb: &Sandbox, endpoint: &str, body: &Value) -> Answer {
    post(
        &agent(sb),
        &url(sb, endpoint),
        &[REQCHECK_AUTH, ("content-type", "application/json")],
        body.to_string().as_bytes(),
    )
}

fn patient(number: i64, first_name: &str) -> Value {
    json!({"patient_number": number, "first_name": first_name, "last_name": "Testperson",
           "dob": "2001-02-03", "hd_mpfile_updated_at": "2024-05-01 10:00:00"})
}

fn dose(number: i64, cvx: &str) -> Value {
    json!({"patient_number": number, "cvx_code": cvx, "date_administered": "2024-04-01",
           "hd_imfile_updated_at": "2024-05-01 10:00:00"})
}

#[test]
fn every_endpoint_wants_basic_auth() {
    let (sb, agent) = start();
    let wrong = ("authorization", "Basic cmVxY2hlY2s6d3Jvbmc="); // reqcheck:wrong
    for endpoint in ["heartbeat", "patient_data", "vaccine_dose_data"] {
        for headers in [&[][..], &[wrong][..]] {
            let answer = post(&agent, &url(&sb, endpoint), headers, b"{}");
            assert_eq!(answer.status, 401, "{endpoint}");
            assert_eq!(answer.body.trim_end(), "HTTP Basic: Access denied.");
            assert!(
                answer
                    .header("content-type")
                    .unwrap()
                    .starts_with("text/plain")
            );
        }
    }
    assert_eq!(sb.state("reqcheck")["imports"], json!([]));
}

#[test]
fn unknown_paths_and_methods_are_404() {
    let (sb, agent) = start();
    let answer = post_empty(&agent, &url(&sb, "nothing"), &[REQCHECK_AUTH]);
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json(), json!({"status": 404, "error": "Not Found"}));
    let get = agent.get(url(&sb, "heartbeat")).call().unwrap();
    assert_eq!(get.status().as_u16(), 404);
}

#[test]
fn heartbeat_is_null_until_both_datasets_arrived_then_the_earlier() {
    let (sb, agent) = start();
    let heartbeat = || post_empty(&agent, &url(&sb, "heartbeat"), &[REQCHECK_AUTH]).json();
    let null = json!({"last_update_date": null, "last_update_date_timestamp": null});
    assert_eq!(heartbeat(), null);
    assert_eq!(
        send(
            &sb,
            "patient_data",
            &json!({"patient_data": [patient(1, "A")]})
        )
        .status,
        201
    );
    assert_eq!(heartbeat(), null);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        send(
            &sb,
            "vaccine_dose_data",
            &json!({"vaccine_dose_data": [dose(1, "208")]})
        )
        .status,
        201
    );
    let beat = heartbeat();
    let state = sb.state("reqcheck");
    let patients_at = state["last_patient_import"].as_str().unwrap();
    assert_ne!(state["last_dose_import"], state["last_patient_import"]);
    assert_eq!(
        beat["last_update_date"], patients_at,
        "the earlier of the two"
    );
    let parsed = chrono::DateTime::parse_from_rfc3339(patients_at).unwrap();
    assert_eq!(beat["last_update_date_timestamp"], parsed.timestamp());
}

#[test]
fn valid_patients_are_stored_and_upserted_by_patient_number() {
    let sb = Sandbox::start().unwrap();
    let first = send(
        &sb,
        "patient_data",
        &json!({"patient_data": [patient(1, "Ann"), patient(2, "Bo")]}),
    );
    assert_eq!(first.status, 201);
    assert_eq!(
        first.json(),
        json!({"status": "success", "data_import_id": 1, "error_objects_ids": []})
    );
    let mut changed = patient(1, "Anna");
    changed["city"] = json!("Springfield");
    let second = send(&sb, "patient_data", &json!({"patient_data": [changed]}));
    assert_eq!(second.json()["data_import_id"], 2);
    let patients = sb.state("reqcheck")["patients"].clone();
    assert_eq!(patients.as_array().unwrap().len(), 2);
    assert_eq!(patients[0]["first_name"], "Anna");
    assert_eq!(patients[0]["city"], "Springfield");
    assert_eq!(patients[1]["first_name"], "Bo");
}

#[test]
fn invalid_patients_are_a_partial_failure_with_stored_error_objects() {
    let sb = Sandbox::start().unwrap();
    let mut unknown = patient(3, "Cy");
    unknown["favourite_colour"] = json!("SecretBlue");
    let mut missing = patient(4, "Di");
    missing.as_object_mut().unwrap().remove("dob");
    let body = json!({"patient_data": [
        patient(1, "Ann"), unknown, missing, patient(0, "Zero"), patient(-5, "Neg"),
        "not an object", {"patient_number": "abc", "first_name": "E", "last_name": "F",
                          "dob": "2000-01-01", "hd_mpfile_updated_at": "x"}, patient(6, "Ok"),
    ]});
    let answer = send(&sb, "patient_data", &body);
    assert_eq!(answer.status, 201);
    let answer = answer.json();
    assert_eq!(answer["status"], "partial_failure");
    assert_eq!(answer["error_objects_ids"], json!([1, 2, 3, 4, 5, 6]));
    let state = sb.state("reqcheck");
    let errors = state["error_objects"].as_array().unwrap();
    let summary: Vec<(u64, Value, Value)> = errors
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["patient_number"].clone(),
                e["field"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, json!(3), json!("favourite_colour")),
            (2, json!(4), json!("dob")),
            (3, json!(null), json!("patient_number")),
            (4, json!(null), json!("patient_number")),
            (5, json!(null), json!(null)),
            (6, json!(null), json!("patient_number")),
        ]
    );
    assert!(
        errors
            .iter()
            .all(|e| e["id"].is_u64() && e["data_import_id"] == 1)
    );
    let text = state["error_objects"].to_string();
    assert!(
        !text.contains("SecretBlue") && !text.contains("Cy"),
        "no values: {text}"
    );
    let numbers: Vec<&Value> = state["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["patient_number"])
        .collect();
    assert_eq!(numbers, [&json!(1), &json!(6)]);
}

#[test]
fn a_patients_doses_are_replaced_on_each_import() {
    let sb = Sandbox::start().unwrap();
    let first = json!({"vaccine_dose_data": [dose(1, "208"), dose(1, "207"), dose(2, "140")]});
    assert_eq!(
        send(&sb, "vaccine_dose_data", &first).json()["status"],
        "success"
    );
    let mut bad = dose(1, "999");
    bad["lot_secret"] = json!("LOT-X");
    let second = json!({"vaccine_dose_data": [dose(1, "213"), bad, {"patient_number": 2}]});
    let answer = send(&sb, "vaccine_dose_data", &second).json();
    assert_eq!(answer["status"], "partial_failure");
    assert_eq!(answer["data_import_id"], 2);
    assert_eq!(answer["error_objects_ids"], json!([1, 2]));
    let state = sb.state("reqcheck");
    let doses: Vec<(i64, &str)> = state["vaccine_doses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["patient_number"].as_i64().unwrap(),
                d["cvx_code"].as_str().unwrap(),
            )
        })
        .collect();
    // Patient 1: only this import's valid dose; patient 2: no valid dose sent, the old one stays.
    assert_eq!(doses, [(1, "213"), (2, "140")]);
    assert_eq!(state["error_objects"][0]["field"], "lot_secret");
    assert_eq!(state["error_objects"][1]["field"], "cvx_code");
    assert_eq!(state["error_objects"][1]["dataset"], "vaccine_dose_data");
}

#[test]
fn a_missing_key_is_400_for_both_datasets() {
    let (sb, agent) = start();
    for dataset in ["patient_data", "vaccine_dose_data"] {
        let expected = json!({"status": format!("{dataset} key missing")});
        let other = if dataset == "patient_data" {
            "vaccine_dose_data"
        } else {
            "patient_data"
        };
        let bodies = [
            json!({}).to_string(),
            json!({other: []}).to_string(),
            json!({dataset: "not a list"}).to_string(),
            json!([{dataset: []}]).to_string(),
            "not json".to_string(),
            String::new(),
        ];
        for body in bodies {
            let answer = post(
                &agent,
                &url(&sb, dataset),
                &[REQCHECK_AUTH],
                body.as_bytes(),
            );
            assert_eq!(answer.status, 400, "{dataset}: {body}");
            assert_eq!(answer.json(), expected);
        }
    }
    assert_eq!(sb.state("reqcheck")["imports"], json!([]));
    let empty = send(&sb, "patient_data", &json!({"patient_data": []}));
    assert_eq!(empty.json()["status"], "success");
}
