//! Reading the events of an import: shapes, and metadata resolved by id scheme.

use serde_json::{Map, Value};

use super::metadata::{DataElement, Metadata, Program, Stage};
use super::params::{Params, Strategy};
use crate::apis::support::{dhis2_uid, parse_time, scalar_text};

/// Why a request is refused as a whole.
#[derive(Debug)]
pub enum Refusal {
    /// 400: a parameter or the body's shape.
    BadRequest(String),
    /// 422: metadata that does not exist.
    Unprocessable(String),
}

/// One event of the payload, read but not yet checked against the store.
pub struct Draft<'m> {
    pub index: usize,
    pub uid: String,
    pub uid_given: bool,
    pub program: Option<&'m Program>,
    pub stage: Option<&'m Stage>,
    pub org_unit: Option<String>,
    pub status: String,
    pub occurred_at: Option<String>,
    pub completed_at: Option<String>,
    /// Data element, its metadata, and the value (None: delete it).
    pub values: Vec<(&'m DataElement, Option<String>)>,
}

const EVENT_STATUSES: &[&str] = &[
    "ACTIVE",
    "COMPLETED",
    "VISITED",
    "SCHEDULE",
    "OVERDUE",
    "SKIPPED",
];

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
pub fn read_drafts<'m>(
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
