//! The tracker importer (`POST /api/tracker`) for events: parameters, validation with
//! dhis2's E-codes, the commit by import strategy and atomic mode, and the import report.

use serde_json::{Map, Value, json};

use super::metadata::{DataElement, IdScheme, Metadata, Program, Stage};
use crate::apis::support::{dhis2_uid, is_dhis2_uid, parse_date, parse_time, scalar_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Create,
    Update,
    CreateAndUpdate,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportMode {
    Full,
    Errors,
    Warnings,
}

impl ReportMode {
    pub fn parse(s: Option<&str>) -> Result<ReportMode, String> {
        match s.unwrap_or("ERRORS") {
            "FULL" => Ok(ReportMode::Full),
            "ERRORS" => Ok(ReportMode::Errors),
            "WARNINGS" => Ok(ReportMode::Warnings),
            _ => Err(invalid_param("reportMode")),
        }
    }
}

/// The query parameters of `POST /api/tracker`.
#[derive(Debug)]
pub struct Params {
    pub asynchronous: bool,
    pub strategy: Strategy,
    pub validate_only: bool,
    pub atomic_all: bool,
    pub report_mode: ReportMode,
    program_scheme: IdScheme,
    stage_scheme: IdScheme,
    org_unit_scheme: IdScheme,
    data_element_scheme: IdScheme,
}

fn invalid_param(name: &str) -> String {
    format!("Value for parameter `{name}` is not valid.")
}

fn one_of<T: Copy>(
    value: Option<&str>,
    default: T,
    name: &str,
    choices: &[(&str, T)],
) -> Result<T, String> {
    match value {
        None => Ok(default),
        Some(v) => choices
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(v))
            .map(|(_, t)| *t)
            .ok_or_else(|| invalid_param(name)),
    }
}

impl Params {
    /// Reads the parameters, with dhis2's defaults; an unknown value is a 400.
    pub fn parse(query: impl Fn(&str) -> Option<String>) -> Result<Params, String> {
        let q = |name: &str| query(name);
        let scheme = |name: &str, default: &IdScheme| -> Result<IdScheme, String> {
            match q(name) {
                None => Ok(default.clone()),
                Some(v) => IdScheme::parse(&v).ok_or_else(|| invalid_param(name)),
            }
        };
        let id_scheme = scheme("idScheme", &IdScheme::Uid)?;
        Ok(Params {
            asynchronous: one_of(
                q("async").as_deref(),
                true,
                "async",
                &[("true", true), ("false", false)],
            )?,
            strategy: one_of(
                q("importStrategy").as_deref(),
                Strategy::CreateAndUpdate,
                "importStrategy",
                &[
                    ("CREATE", Strategy::Create),
                    ("UPDATE", Strategy::Update),
                    ("CREATE_AND_UPDATE", Strategy::CreateAndUpdate),
                    ("DELETE", Strategy::Delete),
                ],
            )?,
            validate_only: one_of(
                q("importMode").as_deref(),
                false,
                "importMode",
                &[("COMMIT", false), ("VALIDATE", true)],
            )?,
            atomic_all: one_of(
                q("atomicMode").as_deref(),
                true,
                "atomicMode",
                &[("ALL", true), ("OBJECT", false)],
            )?,
            report_mode: ReportMode::parse(q("reportMode").as_deref())?,
            program_scheme: scheme("programIdScheme", &id_scheme)?,
            stage_scheme: scheme("programStageIdScheme", &id_scheme)?,
            org_unit_scheme: scheme("orgUnitIdScheme", &id_scheme)?,
            data_element_scheme: scheme("dataElementIdScheme", &id_scheme)?,
        })
    }
}

/// A stored event, with metadata as uids.
#[derive(Debug, Clone)]
pub struct Event {
    pub uid: String,
    pub program: String,
    pub program_stage: String,
    pub org_unit: String,
    pub status: String,
    pub occurred_at: String,
    pub completed_at: Option<String>,
    pub data_values: Vec<(String, String)>,
}

impl Event {
    pub fn to_json(&self) -> Value {
        let values: Vec<Value> = self
            .data_values
            .iter()
            .map(|(de, v)| json!({"dataElement": de, "value": v}))
            .collect();
        json!({
            "event": self.uid,
            "program": self.program,
            "programStage": self.program_stage,
            "orgUnit": self.org_unit,
            "status": self.status,
            "occurredAt": self.occurred_at,
            "completedAt": self.completed_at,
            "dataValues": values,
        })
    }
}

/// Why a request is refused as a whole.
#[derive(Debug)]
pub enum Refusal {
    /// 400: a parameter or the body's shape.
    BadRequest(String),
    /// 422: metadata that does not exist.
    Unprocessable(String),
}

/// One event of the payload, read but not yet checked against the store.
struct Draft<'m> {
    index: usize,
    uid: String,
    uid_given: bool,
    program: Option<&'m Program>,
    stage: Option<&'m Stage>,
    org_unit: Option<String>,
    status: String,
    occurred_at: Option<String>,
    completed_at: Option<String>,
    /// Data element, its metadata, and the value (None: delete it).
    values: Vec<(&'m DataElement, Option<String>)>,
}

const EVENT_STATUSES: &[&str] = &[
    "ACTIVE",
    "COMPLETED",
    "VISITED",
    "SCHEDULE",
    "OVERDUE",
    "SKIPPED",
];

fn error_report(code: &str, message: String, uid: &str) -> Value {
    json!({"message": message, "errorCode": code, "trackerType": "EVENT", "uid": uid})
}

fn text_field<'a>(
    event: &'a Map<String, Value>,
    name: &str,
    index: usize,
) -> Result<Option<&'a str>, Refusal> {
    match event.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Refusal::BadRequest(format!(
            "JSON parse error: `{name}` of event {index} is not a string."
        ))),
    }
}

/// Reads the events and resolves their metadata; unknown metadata refuses the request.
fn read_drafts<'m>(
    meta: &'m Metadata,
    params: &Params,
    body: &Value,
) -> Result<Vec<Draft<'m>>, Refusal> {
    let Some(body) = body.as_object() else {
        return Err(Refusal::BadRequest(
            "JSON parse error: the body is not an object.".into(),
        ));
    };
    for other in ["trackedEntities", "enrollments", "relationships"] {
        if body
            .get(other)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            return Err(Refusal::BadRequest(format!(
                "This server holds an event program only: `{other}` cannot be imported."
            )));
        }
    }
    let events = match body.get("events") {
        None | Some(Value::Null) => &Vec::new(),
        Some(Value::Array(events)) => events,
        Some(_) => {
            return Err(Refusal::BadRequest(
                "JSON parse error: `events` is not an array.".into(),
            ));
        }
    };
    let mut drafts = Vec::with_capacity(events.len());
    for (index, event) in events.iter().enumerate() {
        let Some(event) = event.as_object() else {
            return Err(Refusal::BadRequest(format!(
                "JSON parse error: event {index} is not an object."
            )));
        };
        drafts.push(read_draft(meta, params, event, index)?);
    }
    Ok(drafts)
}

fn read_draft<'m>(
    meta: &'m Metadata,
    params: &Params,
    event: &Map<String, Value>,
    index: usize,
) -> Result<Draft<'m>, Refusal> {
    let given_uid = text_field(event, "event", index)?;
    let status = text_field(event, "status", index)?
        .unwrap_or("ACTIVE")
        .to_string();
    if !EVENT_STATUSES.contains(&status.as_str()) {
        return Err(Refusal::BadRequest(format!(
            "JSON parse error: `status` of event {index} is not one of {}.",
            EVENT_STATUSES.join(", ")
        )));
    }
    let mut times = [None, None];
    for (slot, name) in times.iter_mut().zip(["occurredAt", "completedAt"]) {
        if let Some(t) = text_field(event, name, index)? {
            if parse_time(t).is_none() {
                return Err(Refusal::BadRequest(format!(
                    "JSON parse error: `{name}` of event {index} is not a date."
                )));
            }
            *slot = Some(t.to_string());
        }
    }
    let [occurred_at, completed_at] = times;
    let mut draft = Draft {
        index,
        uid: given_uid.map_or_else(dhis2_uid, str::to_string),
        uid_given: given_uid.is_some(),
        program: None,
        stage: None,
        org_unit: None,
        status,
        occurred_at,
        completed_at,
        values: Vec::new(),
    };
    if params.strategy == Strategy::Delete {
        return Ok(draft);
    }
    if let Some(key) = text_field(event, "program", index)? {
        draft.program = Some(meta.program(&params.program_scheme, key).ok_or_else(|| {
            Refusal::Unprocessable(format!("Could not find Program: `{key}`, linked to Event."))
        })?);
    }
    if let Some(key) = text_field(event, "programStage", index)? {
        let (_, stage) = meta.stage(&params.stage_scheme, key).ok_or_else(|| {
            Refusal::Unprocessable(format!(
                "Could not find ProgramStage: `{key}`, linked to Event."
            ))
        })?;
        draft.stage = Some(stage);
    } else if let Some(program) = draft.program.filter(|p| p.program_stages.len() == 1) {
        // An event program's single stage may be left out.
        draft.stage = program.program_stages.first();
    }
    if let Some(key) = text_field(event, "orgUnit", index)? {
        let unit = meta.org_unit(&params.org_unit_scheme, key).ok_or_else(|| {
            Refusal::Unprocessable(format!(
                "Could not find OrganisationUnit: `{key}`, linked to Event."
            ))
        })?;
        draft.org_unit = Some(unit.id.clone());
    }
    let values = match event.get("dataValues") {
        None | Some(Value::Null) => &Vec::new(),
        Some(Value::Array(values)) => values,
        Some(_) => {
            return Err(Refusal::BadRequest(format!(
                "JSON parse error: `dataValues` of event {index} is not an array."
            )));
        }
    };
    for value in values {
        let shape_error = || {
            Refusal::BadRequest(format!(
                "JSON parse error: a data value of event {index} has no `dataElement`."
            ))
        };
        let key = value
            .get("dataElement")
            .and_then(Value::as_str)
            .ok_or_else(shape_error)?;
        let element = meta
            .data_element(&params.data_element_scheme, key)
            .ok_or_else(|| {
                Refusal::Unprocessable(format!("Could not find DataElement: `{key}`."))
            })?;
        let text = value
            .get("value")
            .and_then(scalar_text)
            .filter(|t| !t.is_empty());
        draft.values.push((element, text));
    }
    Ok(draft)
}

/// Why a value does not fit its value type (dhis2's reason keys, never the value).
fn value_type_problem(value_type: &str, v: &str) -> Option<&'static str> {
    let integer = || v.parse::<i64>().ok();
    let number = || v.parse::<f64>().ok().filter(|n| n.is_finite());
    let bad = match value_type {
        "INTEGER" => integer().is_none(),
        "INTEGER_POSITIVE" => integer().is_none_or(|n| n <= 0),
        "INTEGER_ZERO_OR_POSITIVE" => integer().is_none_or(|n| n < 0),
        "INTEGER_NEGATIVE" => integer().is_none_or(|n| n >= 0),
        "NUMBER" => number().is_none(),
        "PERCENTAGE" => number().is_none_or(|n| !(0.0..=100.0).contains(&n)),
        "DATE" => parse_date(v).is_none(),
        "DATETIME" => parse_time(v).is_none(),
        "BOOLEAN" => !matches!(v, "true" | "false"),
        "TRUE_ONLY" => v != "true",
        "TEXT" => v.chars().count() > 50_000,
        _ => false,
    };
    let reason = match value_type {
        "INTEGER" => "value_not_integer",
        "INTEGER_POSITIVE" => "value_not_positive_integer",
        "INTEGER_ZERO_OR_POSITIVE" => "value_not_zero_or_positive_integer",
        "INTEGER_NEGATIVE" => "value_not_negative_integer",
        "NUMBER" => "value_not_numeric",
        "PERCENTAGE" => "value_not_percentage",
        "DATE" => "value_not_valid_date",
        "DATETIME" => "value_not_valid_datetime",
        "BOOLEAN" => "value_not_bool",
        "TRUE_ONLY" => "value_not_true_only",
        _ => "value_length_greater_than_max_length",
    };
    bad.then_some(reason)
}

/// The per-event checks; returns the error reports of this event.
fn check(draft: &Draft<'_>, strategy: Strategy, stored: Option<&Event>) -> Vec<Value> {
    let uid = draft.uid.as_str();
    let exists = stored.is_some();
    let mut errors = Vec::new();
    if draft.uid_given && !is_dhis2_uid(uid) {
        errors.push(error_report(
            "E1048",
            "Object: `Event` has an invalid uid format.".into(),
            uid,
        ));
        return errors;
    }
    if strategy == Strategy::Delete {
        if !exists {
            errors.push(error_report(
                "E1032",
                format!("Event: `{uid}` do not exist."),
                uid,
            ));
        }
        return errors;
    }
    match (strategy, exists) {
        (Strategy::Create, true) => {
            errors.push(error_report(
                "E1030",
                format!("Event: `{uid}` already exists."),
                uid,
            ));
        }
        (Strategy::Update, false) => {
            errors.push(error_report(
                "E1032",
                format!("Event: `{uid}` do not exist."),
                uid,
            ));
        }
        _ => {}
    }
    let Some(program) = draft.program else {
        errors.push(error_report(
            "E1123",
            "Missing required event property: `program`.".into(),
            uid,
        ));
        return errors;
    };
    let pid = program.identity.id.as_str();
    let Some(stage) = draft.stage else {
        errors.push(error_report(
            "E1123",
            "Missing required event property: `programStage`.".into(),
            uid,
        ));
        return errors;
    };
    let sid = stage.identity.id.as_str();
    if !program.program_stages.iter().any(|s| s.identity.id == sid) {
        errors.push(error_report(
            "E1089",
            format!("Event: `{uid}` references ProgramStage `{sid}` which do not belong to Program `{pid}`."),
            uid,
        ));
    }
    match &draft.org_unit {
        None => errors.push(error_report(
            "E1123",
            "Missing required event property: `orgUnit`.".into(),
            uid,
        )),
        Some(ou) if !program.has_org_unit(ou) => errors.push(error_report(
            "E1029",
            format!("Event OrganisationUnit: `{ou}` and Program: `{pid}`, do not match."),
            uid,
        )),
        Some(_) => {}
    }
    if !matches!(draft.status.as_str(), "ACTIVE" | "COMPLETED") {
        errors.push(error_report(
            "E1318",
            format!(
                "Status `{}` is not applicable for single events.",
                draft.status
            ),
            uid,
        ));
    }
    if draft.occurred_at.is_none() {
        errors.push(error_report(
            "E1031",
            "Event occurredAt date is missing.".into(),
            uid,
        ));
    }
    if draft.status == "ACTIVE" && draft.completed_at.is_some() {
        errors.push(error_report(
            "E1051",
            format!("Event: `{uid}` completedAt must be null when status is `ACTIVE`."),
            uid,
        ));
    }
    for (element, value) in &draft.values {
        let de = element.identity.id.as_str();
        if stage.element(de).is_none() {
            errors.push(error_report(
                "E1305",
                format!("DataElement `{de}` is not part of ProgramStage `{sid}`."),
                uid,
            ));
            continue;
        }
        let Some(value) = value else { continue };
        if let Some(set) = &element.option_set {
            if !set.has_code(value) {
                errors.push(error_report(
                    "E1125",
                    format!(
                        "Value is not a valid option code in OptionSet `{}`.",
                        set.id
                    ),
                    uid,
                ));
            }
        } else if let Some(reason) = value_type_problem(&element.value_type, value) {
            errors.push(error_report(
                "E1302",
                format!("DataElement `{de}` is not valid: `{reason}`."),
                uid,
            ));
        }
    }
    if draft.status == "COMPLETED" {
        for e in stage
            .program_stage_data_elements
            .iter()
            .filter(|e| e.compulsory)
        {
            let de = e.data_element.identity.id.as_str();
            let sent = draft.values.iter().find(|(d, _)| d.identity.id == de);
            let present = match sent {
                Some((_, value)) => value.is_some(),
                None => stored.is_some_and(|e| e.data_values.iter().any(|(d, _)| d == de)),
            };
            if !present {
                errors.push(error_report(
                    "E1303",
                    format!("Mandatory DataElement `{de}` is not present."),
                    uid,
                ));
            }
        }
    }
    errors
}

/// Counts per outcome, as dhis2 reports them.
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    created: usize,
    updated: usize,
    deleted: usize,
    ignored: usize,
}

impl Stats {
    fn to_json(self) -> Value {
        json!({
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "ignored": self.ignored,
            "total": self.created + self.updated + self.deleted + self.ignored,
        })
    }
}

/// Validates and (unless told to only validate) applies one import to `events`; returns
/// the full import report (see `shape_report`), or why the request is refused as a whole.
pub fn import(
    meta: &Metadata,
    events: &mut Vec<Event>,
    params: &Params,
    body: &Value,
) -> Result<Value, Refusal> {
    let drafts = read_drafts(meta, params, body)?;
    let mut errors = Vec::new();
    let mut valid = Vec::new();
    for draft in &drafts {
        let stored = events.iter().find(|e| e.uid == draft.uid);
        let found = check(draft, params.strategy, stored);
        if found.is_empty() {
            valid.push(draft);
        }
        errors.extend(found);
    }
    let commit = !params.validate_only && (errors.is_empty() || !params.atomic_all);
    let mut stats = Stats::default();
    let mut object_reports = Vec::new();
    if commit {
        for draft in &valid {
            let position = events.iter().position(|e| e.uid == draft.uid);
            match (params.strategy, position) {
                (Strategy::Delete, Some(i)) => {
                    events.remove(i);
                    stats.deleted += 1;
                }
                (_, Some(i)) => {
                    apply(&mut events[i], draft);
                    stats.updated += 1;
                }
                (_, None) => {
                    events.push(new_event(draft));
                    stats.created += 1;
                }
            }
            object_reports.push(json!({
                "trackerType": "EVENT", "uid": draft.uid, "index": draft.index, "errorReports": []
            }));
        }
    }
    stats.ignored = drafts.len() - (stats.created + stats.updated + stats.deleted);
    let status = if errors.is_empty() { "OK" } else { "ERROR" };
    let mut report = json!({
        "status": status,
        "validationReport": {"errorReports": errors, "warningReports": []},
        "stats": stats.to_json(),
        "bundleReport": {
            "status": status,
            "typeReportMap": {"EVENT": {
                "trackerType": "EVENT", "stats": stats.to_json(), "objectReports": object_reports
            }},
            "stats": stats.to_json(),
        },
        "message": if errors.is_empty() { Value::Null } else { "Import completed with errors".into() },
    });
    report["timingsStats"] = json!({"timers": {
        "preheat": "0.001 sec.", "validation": "0.001 sec.", "commit": "0.001 sec.",
        "totalImport": "0.003 sec."
    }});
    Ok(report)
}

/// The report as `reportMode` asks for it: timings only in FULL.
pub fn shape_report(report: &Value, mode: ReportMode) -> Value {
    let mut out = report.clone();
    if let (false, Some(map)) = (mode == ReportMode::Full, out.as_object_mut()) {
        map.remove("timingsStats");
    }
    out
}

fn new_event(draft: &Draft<'_>) -> Event {
    Event {
        uid: draft.uid.clone(),
        program: draft
            .program
            .map(|p| p.identity.id.clone())
            .unwrap_or_default(),
        program_stage: draft
            .stage
            .map(|s| s.identity.id.clone())
            .unwrap_or_default(),
        org_unit: draft.org_unit.clone().unwrap_or_default(),
        status: draft.status.clone(),
        occurred_at: draft.occurred_at.clone().unwrap_or_default(),
        completed_at: draft.completed_at.clone(),
        data_values: draft
            .values
            .iter()
            .filter_map(|(d, v)| Some((d.identity.id.clone(), v.clone()?)))
            .collect(),
    }
}

/// An update replaces the event's fields and merges its data values; an empty value
/// deletes that data value.
fn apply(event: &mut Event, draft: &Draft<'_>) {
    let fresh = new_event(draft);
    event.program = fresh.program;
    event.program_stage = fresh.program_stage;
    event.org_unit = fresh.org_unit;
    event.status = fresh.status;
    event.occurred_at = fresh.occurred_at;
    event.completed_at = fresh.completed_at;
    for (element, value) in &draft.values {
        let de = &element.identity.id;
        let slot = event.data_values.iter().position(|(d, _)| d == de);
        match (slot, value) {
            (Some(i), Some(v)) => event.data_values[i].1 = v.clone(),
            (Some(i), None) => {
                event.data_values.remove(i);
            }
            (None, Some(v)) => event.data_values.push((de.clone(), v.clone())),
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_types_name_the_reason_not_the_value() {
        assert_eq!(value_type_problem("INTEGER", "12"), None);
        assert_eq!(
            value_type_problem("INTEGER", "1.5"),
            Some("value_not_integer")
        );
        assert_eq!(value_type_problem("INTEGER_ZERO_OR_POSITIVE", "0"), None);
        assert_eq!(
            value_type_problem("INTEGER_ZERO_OR_POSITIVE", "-1"),
            Some("value_not_zero_or_positive_integer")
        );
        assert_eq!(value_type_problem("PERCENTAGE", "100"), None);
        assert_eq!(
            value_type_problem("PERCENTAGE", "101"),
            Some("value_not_percentage")
        );
        assert_eq!(value_type_problem("DATE", "2024-02-29"), None);
        assert_eq!(
            value_type_problem("DATE", "2023-02-29"),
            Some("value_not_valid_date")
        );
        assert_eq!(value_type_problem("BOOLEAN", "false"), None);
        assert_eq!(value_type_problem("BOOLEAN", "yes"), Some("value_not_bool"));
        assert_eq!(
            value_type_problem("TRUE_ONLY", "false"),
            Some("value_not_true_only")
        );
        assert_eq!(value_type_problem("LONG_TEXT", "anything"), None);
    }

    #[test]
    fn parameters_default_like_dhis2() {
        let p = Params::parse(|_| None).expect("defaults");
        assert!(p.asynchronous && p.atomic_all && !p.validate_only);
        assert_eq!(p.strategy, Strategy::CreateAndUpdate);
        assert_eq!(p.report_mode, ReportMode::Errors);
        let bad = Params::parse(|n| (n == "importStrategy").then(|| "MERGE".to_string()));
        assert!(bad.is_err());
        let bad = Params::parse(|n| (n == "orgUnitIdScheme").then(|| "ATTRIBUTE:x".to_string()));
        assert!(bad.is_err());
    }
}
