//! ReqCheck: heartbeat, patient_data and vaccine_dose_data, all POST with Basic auth.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::control::lock;
use crate::http::{Api, Request, Response};

pub const USER: &str = "reqcheck";
pub const PASSWORD: &str = "reqcheck-secret";

const PATIENT_REQUIRED: &[&str] = &[
    "patient_number",
    "first_name",
    "last_name",
    "dob",
    "hd_mpfile_updated_at",
];
const PATIENT_OPTIONAL: &[&str] = &[
    "email",
    "address",
    "address2",
    "city",
    "state",
    "zip_code",
    "cell_phone",
    "home_phone",
    "race",
    "ethnicity",
    "gender",
    "family_number",
    "notes",
];
const DOSE_REQUIRED: &[&str] = &[
    "patient_number",
    "cvx_code",
    "date_administered",
    "hd_imfile_updated_at",
];
const DOSE_OPTIONAL: &[&str] = &[
    "vaccine_code",
    "hd_description",
    "history_flag",
    "provider_code",
    "dosage",
    "mvx_code",
    "lot_number",
    "expiration_date",
    "hd_encounter_id",
    "vfc_code",
    "vfc_description",
    "given_by",
    "injection_site",
    "comments",
];

#[derive(Debug, Default)]
struct Store {
    patients: BTreeMap<u64, Map<String, Value>>,
    doses: BTreeMap<u64, Vec<Map<String, Value>>>,
    imports: Vec<Value>,
    error_objects: Vec<Value>,
    last_patient_import: Option<DateTime<Utc>>,
    last_dose_import: Option<DateTime<Utc>>,
}

/// The ReqCheck stand-in; starts empty.
#[derive(Debug, Default)]
pub struct ReqCheck {
    store: Mutex<Store>,
}

impl ReqCheck {
    pub fn new() -> ReqCheck {
        ReqCheck::default()
    }

    fn heartbeat(&self) -> Response {
        let store = lock(&self.store);
        let last = match (store.last_patient_import, store.last_dose_import) {
            (Some(p), Some(d)) => Some(p.min(d)),
            _ => None,
        };
        Response::json(
            200,
            &json!({
                "last_update_date": last.map(iso),
                "last_update_date_timestamp": last.map(|t| t.timestamp()),
            }),
        )
    }

    fn import(&self, req: &Request, dataset: &'static str) -> Response {
        let records = match req.json() {
            Ok(Value::Object(mut body)) => match body.remove(dataset) {
                Some(Value::Array(records)) => records,
                _ => return key_missing(dataset),
            },
            _ => return key_missing(dataset),
        };
        let (required, optional) = match dataset {
            "patient_data" => (PATIENT_REQUIRED, PATIENT_OPTIONAL),
            _ => (DOSE_REQUIRED, DOSE_OPTIONAL),
        };
        let mut store = lock(&self.store);
        let data_import_id = store.imports.len() as u64 + 1;
        let mut error_ids = Vec::new();
        let mut doses_by_patient: BTreeMap<u64, Vec<Map<String, Value>>> = BTreeMap::new();
        for (index, record) in records.into_iter().enumerate() {
            match validate(&record, required, optional) {
                Ok((number, fields)) if dataset == "patient_data" => {
                    // Upsert by patient number: the fields sent overwrite the stored ones.
                    store.patients.entry(number).or_default().extend(fields);
                }
                Ok((number, fields)) => doses_by_patient.entry(number).or_default().push(fields),
                Err((field, message)) => {
                    let id = store.error_objects.len() as u64 + 1;
                    let number = record.get("patient_number").and_then(patient_number);
                    store.error_objects.push(json!({
                        "id": id, "data_import_id": data_import_id, "dataset": dataset,
                        "index": index, "patient_number": number, "field": field, "message": message,
                    }));
                    error_ids.push(id);
                }
            }
        }
        let stored = doses_by_patient.len();
        store.doses.extend(doses_by_patient);
        let now = Utc::now();
        if dataset == "patient_data" {
            store.last_patient_import = Some(now);
        } else {
            store.last_dose_import = Some(now);
        }
        let status = if error_ids.is_empty() {
            "success"
        } else {
            "partial_failure"
        };
        store.imports.push(json!({
            "data_import_id": data_import_id, "dataset": dataset, "status": status,
            "error_objects_ids": error_ids, "at": iso(now),
            "patients_with_doses_replaced": (dataset == "vaccine_dose_data").then_some(stored),
        }));
        Response::json(
            201,
            &json!({"status": status, "data_import_id": data_import_id, "error_objects_ids": error_ids}),
        )
    }
}

impl Api for ReqCheck {
    fn name(&self) -> &'static str {
        "reqcheck"
    }

    fn handle(&self, req: &Request) -> Response {
        let endpoint = match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/heartbeat") => "heartbeat",
            ("POST", "/patient_data") => "patient_data",
            ("POST", "/vaccine_dose_data") => "vaccine_dose_data",
            _ => return Response::json(404, &json!({"status": 404, "error": "Not Found"})),
        };
        if req.basic_auth() != Some((USER.to_string(), PASSWORD.to_string())) {
            return Response::text(401, "HTTP Basic: Access denied.\n")
                .with_header("www-authenticate", "Basic realm=\"Application\"");
        }
        match endpoint {
            "heartbeat" => self.heartbeat(),
            dataset @ ("patient_data" | "vaccine_dose_data") => self.import(req, dataset),
            _ => unreachable!("endpoint names come from the match above"),
        }
    }

    fn state(&self) -> Value {
        let store = lock(&self.store);
        let doses: Vec<&Map<String, Value>> = store.doses.values().flatten().collect();
        json!({
            "patients": store.patients.values().collect::<Vec<_>>(),
            "vaccine_doses": doses,
            "imports": store.imports,
            "error_objects": store.error_objects,
            "last_patient_import": store.last_patient_import.map(iso),
            "last_dose_import": store.last_dose_import.map(iso),
        })
    }

    fn reset(&self) {
        *lock(&self.store) = Store::default();
    }
}

fn key_missing(dataset: &str) -> Response {
    Response::json(400, &json!({"status": format!("{dataset} key missing")}))
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A positive patient number, as a JSON integer or a string of digits.
fn patient_number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| *n > 0)
}

/// The field at fault (None: the whole record) and why.
type RecordError = (Option<String>, String);

/// The record's patient number and fields, or the first field at fault and why.
fn validate(
    record: &Value,
    required: &[&str],
    optional: &[&str],
) -> Result<(u64, Map<String, Value>), RecordError> {
    let Value::Object(fields) = record else {
        return Err((None, "the record is not an object".into()));
    };
    if let Some(key) = fields
        .keys()
        .find(|k| !required.contains(&k.as_str()) && !optional.contains(&k.as_str()))
    {
        return Err((Some(key.clone()), format!("unknown attribute '{key}'")));
    }
    for name in required {
        let blank = match fields.get(*name) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        };
        if blank {
            return Err((Some(name.to_string()), format!("{name} can't be blank")));
        }
    }
    let number = fields
        .get("patient_number")
        .and_then(patient_number)
        .ok_or_else(|| {
            (
                Some("patient_number".to_string()),
                "patient_number must be greater than 0".to_string(),
            )
        })?;
    Ok((number, fields.clone()))
}
