#![allow(clippy::unwrap_used)]
//! The dhis2 stand-in through real HTTPS requests: auth, program metadata, the tracker
//! importer's parameters, validation, async jobs and reports.

mod support;

use std::time::{Duration, Instant};

use sandbox::Sandbox;
use serde_json::{Value, json};
use support::{Answer, assert_no_values, call, start};

const BASIC: (&str, &str) = ("authorization", "Basic YWRtaW46ZGlzdHJpY3Q="); // admin:district
const PAT: (&str, &str) = (
    "authorization",
    "ApiToken d2pat_sandbox0000000000000000000000",
);

fn url(sb: &Sandbox, path: &str) -> String {
    format!("{}/dhis2{path}", sb.url())
}

/// A complete, valid SIPCA event.
fn event(uid: &str, org_unit: &str) -> Value {
    json!({
        "event": uid,
        "program": "SIPCAprg001",
        "programStage": "SIPCAstg001",
        "orgUnit": org_unit,
        "status": "COMPLETED",
        "occurredAt": "2024-03-05",
        "completedAt": "2024-03-05",
        "dataValues": [
            {"dataElement": "SIPCAde0001", "value": "Assessor One"},
            {"dataElement": "SIPCAde0002", "value": "24"},
            {"dataElement": "SIPCAde0003", "value": "2024-01-15"},
            {"dataElement": "SIPCAde0004", "value": "true"},
            {"dataElement": "SIPCAde0005", "value": "PARTIAL"},
            {"dataElement": "SIPCAde0007", "value": "LOW"},
            {"dataElement": "SIPCAde0008", "value": 72.5}
        ]
    })
}

/// GET `url` with the one `authorization` header.
fn get(agent: &ureq::Agent, url: &str, auth: (&str, &str)) -> Answer {
    call(agent, "GET", url, &[auth], None)
}

fn tracker(sb: &Sandbox, agent: &ureq::Agent, query: &str, events: &[Value]) -> Answer {
    call(
        agent,
        "POST",
        &url(sb, &format!("/api/tracker?{query}")),
        &[BASIC],
        Some(&json!({ "events": events })),
    )
}

fn stored(sb: &Sandbox) -> Vec<Value> {
    sb.state("dhis2")["events"].as_array().cloned().unwrap()
}

fn codes(report: &Value) -> Vec<(String, String)> {
    report["validationReport"]["errorReports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["trackerType"], "EVENT");
            (
                e["uid"].as_str().unwrap().to_string(),
                e["errorCode"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn basic_auth_and_the_personal_access_token_are_accepted_and_nothing_else() {
    let (sb, agent) = start();
    let program = url(&sb, "/api/programs/SIPCAprg001");
    for auth in [BASIC, PAT] {
        assert_eq!(get(&agent, &program, auth).status, 200);
    }
    for headers in [
        vec![],
        vec![("authorization", "Basic YWRtaW46d3Jvbmc=")], // admin:wrong
        vec![("authorization", "ApiToken d2pat_wrong")],
        vec![(
            "authorization",
            "Bearer d2pat_sandbox0000000000000000000000",
        )],
    ] {
        let answer = call(&agent, "GET", &program, &headers, None);
        assert_eq!(answer.status, 401);
        assert_eq!(
            answer.json(),
            json!({"httpStatus": "Unauthorized", "httpStatusCode": 401, "status": "ERROR",
                   "message": "Unauthorized"})
        );
    }
}

#[test]
fn program_metadata_honours_fields() {
    let (sb, agent) = start();
    let fields = "programStages[id,name,programStageDataElements[compulsory,dataElement[name,valueType,id,optionSet[name,id,valueType,options[name,code]]]]]";
    let answer = get(
        &agent,
        &url(&sb, &format!("/api/programs/SIPCAprg001?fields={fields}")),
        BASIC,
    );
    assert_eq!(answer.status, 200);
    let program = answer.json();
    assert_eq!(program.as_object().unwrap().len(), 1, "only programStages");
    let stage = &program["programStages"][0];
    assert_eq!(stage["id"], "SIPCAstg001");
    let elements = stage["programStageDataElements"].as_array().unwrap();
    assert_eq!(elements.len(), 10);
    let hygiene = &elements[4];
    assert_eq!(hygiene["compulsory"], true);
    assert_eq!(
        hygiene["dataElement"],
        json!({"name": "SIPCA Hand hygiene stations functional", "valueType": "TEXT",
               "id": "SIPCAde0005", "optionSet": {"name": "Yes / No / Partial", "id": "SIPCAos0001",
               "valueType": "TEXT", "options": [{"name": "Yes", "code": "YES"},
               {"name": "No", "code": "NO"}, {"name": "Partial", "code": "PARTIAL"}]}})
    );
    let types: Vec<&str> = elements
        .iter()
        .map(|e| e["dataElement"]["valueType"].as_str().unwrap())
        .collect();
    for t in [
        "TEXT",
        "INTEGER_ZERO_OR_POSITIVE",
        "DATE",
        "BOOLEAN",
        "PERCENTAGE",
    ] {
        assert!(types.contains(&t), "{t}");
    }

    let whole = get(&agent, &url(&sb, "/api/programs/SIPCAprg001.json"), PAT).json();
    assert_eq!(whole["organisationUnits"].as_array().unwrap().len(), 3);

    let missing = get(&agent, &url(&sb, "/api/programs/NoSuchProg1"), BASIC);
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json(),
        json!({"httpStatus": "Not Found", "httpStatusCode": 404, "status": "ERROR",
               "message": "Program with id NoSuchProg1 could not be found."})
    );
}

#[test]
fn an_async_import_is_a_job_that_must_be_polled_to_its_report() {
    let (sb, agent) = start();
    let added = tracker(
        &sb,
        &agent,
        "importStrategy=CREATE_AND_UPDATE",
        &[
            event("EvtAsync001", "OrgUnitA001"),
            event("EvtAsync002", "OrgUnitB001"),
        ],
    );
    assert_eq!(added.status, 200);
    let added = added.json();
    assert_eq!(added["httpStatus"], "OK");
    assert_eq!(added["message"], "Tracker job added");
    let id = added["response"]["id"].as_str().unwrap().to_string();
    let location = added["response"]["location"].as_str().unwrap().to_string();
    assert_eq!(location, url(&sb, &format!("/api/tracker/jobs/{id}")));

    let report_url = format!("{location}/report");
    assert_eq!(get(&agent, &report_url, BASIC).status, 404);
    let first = get(&agent, &location, BASIC).json();
    assert_eq!(first.as_array().unwrap().len(), 1);
    assert_eq!(first[0]["completed"], false);
    assert_eq!(first[0]["category"], "TRACKER_IMPORT_JOB");

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut polls = 1;
    loop {
        std::thread::sleep(Duration::from_millis(100));
        polls += 1;
        let notes = get(&agent, &location, PAT).json();
        if notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["completed"] == true)
        {
            assert_eq!(notes[0]["completed"], true, "newest first");
            break;
        }
        assert!(Instant::now() < deadline, "the job never completed");
    }
    assert!(polls >= 3, "completed after {polls} polls");

    let report = get(&agent, &report_url, BASIC);
    assert_eq!(report.status, 200);
    let report = report.json();
    assert_eq!(report["status"], "OK");
    assert_eq!(
        report["stats"],
        json!({"created": 2, "updated": 0, "deleted": 0, "ignored": 0, "total": 2})
    );
    assert_eq!(report["validationReport"]["errorReports"], json!([]));
    assert!(report.get("timingsStats").is_none());
    let objects = &report["bundleReport"]["typeReportMap"]["EVENT"]["objectReports"];
    assert_eq!(objects[1]["uid"], "EvtAsync002");
    let full = get(&agent, &format!("{report_url}?reportMode=FULL"), BASIC).json();
    assert!(full["timingsStats"].is_object());

    let events = stored(&sb);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event"], "EvtAsync001");
    assert_eq!(events[0]["orgUnit"], "OrgUnitA001");
    assert_eq!(events[0]["status"], "COMPLETED");
    assert_eq!(
        events[0]["dataValues"][6],
        json!({"dataElement": "SIPCAde0008", "value": "72.5"})
    );
    let paths: Vec<String> = sb
        .received("dhis2")
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths
            .iter()
            .filter(|p| **p == format!("/dhis2/api/tracker/jobs/{id}"))
            .count(),
        polls
    );

    for path in [
        format!("/api/tracker/jobs/{}", "NoSuchJob01"),
        "/api/tracker/jobs/NoSuchJob01/report".into(),
    ] {
        let answer = get(&agent, &url(&sb, &path), BASIC);
        assert_eq!(answer.status, 404);
        assert_eq!(answer.json()["httpStatusCode"], 404);
    }
}

#[test]
fn per_event_problems_are_error_reports_with_dhis2_codes_and_no_values() {
    let (sb, agent) = start();
    let mut bad_uid = event("9notAUid", "OrgUnitA001");
    bad_uid["event"] = "9notAUid".into();
    let mut bad_option = event("EvtBadOpt01", "OrgUnitA001");
    bad_option["dataValues"][4]["value"] = "sometimes".into();
    let mut bad_integer = event("EvtBadInt01", "OrgUnitB001");
    bad_integer["dataValues"][1]["value"] = "twenty-four".into();
    let mut no_date = event("EvtNoDate01", "OrgUnitC001");
    no_date.as_object_mut().unwrap().remove("occurredAt");
    let mut missing_compulsory = event("EvtNoComp01", "OrgUnitC001");
    missing_compulsory["dataValues"]
        .as_array_mut()
        .unwrap()
        .remove(3);
    let mut scheduled = event("EvtSched001", "OrgUnitC001");
    scheduled["status"] = "SCHEDULE".into();
    let payload = [
        event("EvtGood0001", "OrgUnitA001"),
        bad_uid,
        bad_option,
        bad_integer,
        no_date,
        missing_compulsory,
        scheduled,
    ];
    let answer = tracker(&sb, &agent, "async=false&atomicMode=OBJECT", &payload);
    assert_eq!(answer.status, 409);
    assert_no_values(&answer.body, &["sometimes", "twenty-four", "Assessor One"]);
    let report = answer.json();
    assert_eq!(report["status"], "ERROR");
    let mut found = codes(&report);
    found.sort();
    let mut want: Vec<(String, String)> = [
        ("9notAUid", "E1048"),
        ("EvtBadOpt01", "E1125"),
        ("EvtBadInt01", "E1302"),
        ("EvtNoDate01", "E1031"),
        ("EvtNoComp01", "E1303"),
        ("EvtSched001", "E1318"),
    ]
    .iter()
    .map(|(u, c)| (u.to_string(), c.to_string()))
    .collect();
    want.sort();
    assert_eq!(found, want);
    assert_eq!(
        report["stats"],
        json!({"created": 1, "updated": 0, "deleted": 0, "ignored": 6, "total": 7})
    );
    let events = stored(&sb);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "EvtGood0001");

    // atomicMode=ALL (the default): one bad event and nothing is stored.
    let mut bad = event("EvtBadInt02", "OrgUnitA001");
    bad["dataValues"][2]["value"] = "15/01/2024".into();
    let answer = tracker(
        &sb,
        &agent,
        "async=false",
        &[event("EvtGood0002", "OrgUnitB001"), bad],
    );
    assert_eq!(answer.status, 409);
    let report = answer.json();
    assert_eq!(
        codes(&report),
        [("EvtBadInt02".to_string(), "E1302".to_string())]
    );
    assert_eq!(report["stats"]["ignored"], 2);
    assert_eq!(stored(&sb).len(), 1);
}

#[test]
fn import_strategies_create_update_and_delete() {
    let (sb, agent) = start();
    let ok = tracker(
        &sb,
        &agent,
        "async=false&importStrategy=CREATE",
        &[event("EvtStrat001", "OrgUnitA001")],
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["stats"]["created"], 1);

    let again = tracker(
        &sb,
        &agent,
        "async=false&importStrategy=CREATE",
        &[event("EvtStrat001", "OrgUnitA001")],
    );
    assert_eq!(again.status, 409);
    assert_eq!(
        codes(&again.json()),
        [("EvtStrat001".to_string(), "E1030".to_string())]
    );

    let missing = tracker(
        &sb,
        &agent,
        "async=false&importStrategy=UPDATE",
        &[event("EvtStrat404", "OrgUnitA001")],
    );
    assert_eq!(
        codes(&missing.json()),
        [("EvtStrat404".to_string(), "E1032".to_string())]
    );

    // UPDATE: fields replaced, data values merged, an empty value deletes one.
    let mut change = event("EvtStrat001", "OrgUnitB001");
    change["dataValues"] = json!([
        {"dataElement": "SIPCAde0002", "value": "30"},
        {"dataElement": "SIPCAde0001", "value": ""}
    ]);
    let updated = tracker(&sb, &agent, "async=false&importStrategy=UPDATE", &[change]);
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.json()["stats"]["updated"], 1);
    let events = stored(&sb);
    assert_eq!(events[0]["orgUnit"], "OrgUnitB001");
    let values = events[0]["dataValues"].as_array().unwrap();
    assert_eq!(values.len(), 6);
    assert!(values.contains(&json!({"dataElement": "SIPCAde0002", "value": "30"})));
    assert!(!values.iter().any(|v| v["dataElement"] == "SIPCAde0001"));

    // CREATE_AND_UPDATE: one of each.
    let both = tracker(
        &sb,
        &agent,
        "async=false",
        &[
            event("EvtStrat001", "OrgUnitA001"),
            event("EvtStrat002", "OrgUnitC001"),
        ],
    );
    let stats = &both.json()["stats"];
    assert_eq!(
        (stats["created"].as_u64(), stats["updated"].as_u64()),
        (Some(1), Some(1))
    );

    let gone = tracker(
        &sb,
        &agent,
        "async=false&importStrategy=DELETE",
        &[json!({"event": "EvtStrat001"})],
    );
    assert_eq!(gone.json()["stats"]["deleted"], 1);
    assert_eq!(stored(&sb).len(), 1);
    let gone_again = tracker(
        &sb,
        &agent,
        "async=false&importStrategy=DELETE",
        &[json!({"event": "EvtStrat001"})],
    );
    assert_eq!(
        codes(&gone_again.json()),
        [("EvtStrat001".to_string(), "E1032".to_string())]
    );
}

#[test]
fn validate_mode_stores_nothing_and_a_missing_uid_is_generated() {
    let (sb, agent) = start();
    let answer = tracker(
        &sb,
        &agent,
        "async=false&importMode=VALIDATE",
        &[event("EvtValid001", "OrgUnitA001")],
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["status"], "OK");
    assert!(stored(&sb).is_empty());

    let mut anonymous = event("x", "OrgUnitA001");
    anonymous.as_object_mut().unwrap().remove("event");
    let answer = tracker(&sb, &agent, "async=false&reportMode=FULL", &[anonymous]);
    let report = answer.json();
    assert!(report["timingsStats"].is_object());
    let uid = report["bundleReport"]["typeReportMap"]["EVENT"]["objectReports"][0]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(uid.len(), 11);
    assert_eq!(stored(&sb)[0]["event"], uid);
}

#[test]
fn unknown_metadata_is_a_422_and_bad_parameters_a_400() {
    let (sb, agent) = start();
    for (field, value) in [
        ("program", "NoSuchProg1"),
        ("programStage", "NoSuchStag1"),
        ("orgUnit", "NoSuchUnit1"),
    ] {
        let mut e = event("EvtMeta0001", "OrgUnitA001");
        e[field] = value.into();
        let answer = tracker(&sb, &agent, "", &[e]);
        assert_eq!(answer.status, 422, "{field}");
        let body = answer.json();
        assert_eq!(body["httpStatus"], "Unprocessable Entity");
        assert_eq!(body["status"], "ERROR");
        assert!(body["message"].as_str().unwrap().contains(value));
    }
    let mut e = event("EvtMeta0001", "OrgUnitA001");
    e["dataValues"][0]["dataElement"] = "NoSuchDE001".into();
    assert_eq!(tracker(&sb, &agent, "async=false", &[e]).status, 422);
    assert!(stored(&sb).is_empty());
    assert!(sb.state("dhis2")["jobs"].as_array().unwrap().is_empty());

    for query in [
        "importStrategy=MERGE",
        "async=maybe",
        "atomicMode=NONE",
        "idScheme=ATTRIBUTE:x",
    ] {
        let answer = tracker(&sb, &agent, query, &[event("EvtParam001", "OrgUnitA001")]);
        assert_eq!(answer.status, 400, "{query}");
        assert_eq!(answer.json()["httpStatus"], "Bad Request");
    }
    let mut e = event("EvtParam001", "OrgUnitA001");
    e["status"] = "DONE".into();
    assert_eq!(tracker(&sb, &agent, "", &[e]).status, 400);
    let not_json = call(
        &agent,
        "POST",
        &url(&sb, "/api/tracker"),
        &[BASIC, ("content-type", "text/plain")],
        None,
    );
    assert_eq!(not_json.status, 415);
}

#[test]
fn id_schemes_resolve_codes_and_attributes_to_uids() {
    let (sb, agent) = start();
    let mut by_code = event("EvtScheme01", "FAC_B");
    by_code["program"] = "SIPCA".into();
    by_code["programStage"] = "SIPCA_STAGE".into();
    for v in by_code["dataValues"].as_array_mut().unwrap() {
        let n: usize = v["dataElement"].as_str().unwrap()[7..].parse().unwrap();
        let code = [
            "",
            "SIPCA_ASSESSOR",
            "SIPCA_BEDS",
            "SIPCA_LAST_TRAINING",
            "SIPCA_FOCAL_PERSON",
            "SIPCA_HAND_HYGIENE",
            "",
            "SIPCA_PPE_STOCK",
            "SIPCA_SCORE",
        ][n];
        v["dataElement"] = code.into();
    }
    let answer = tracker(&sb, &agent, "async=false&idScheme=CODE", &[by_code]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let by_attribute = event("EvtScheme02", "facility_c");
    let answer = tracker(
        &sb,
        &agent,
        "async=false&orgUnitIdScheme=ATTRIBUTE:AttrKoboFac",
        &[by_attribute],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let events = stored(&sb);
    assert_eq!(events[0]["program"], "SIPCAprg001");
    assert_eq!(events[0]["orgUnit"], "OrgUnitB001");
    assert_eq!(events[0]["dataValues"][0]["dataElement"], "SIPCAde0001");
    assert_eq!(events[1]["orgUnit"], "OrgUnitC001");

    sb.reset();
    assert!(stored(&sb).is_empty());
}
