//! The tracker importer (`POST /api/tracker`) for events: the commit by import strategy
//! and atomic mode, and the import report.

use serde_json::{Value, json};

use super::checks::check;
use super::draft::{Draft, Refusal, read_drafts};
use super::event::Event;
use super::metadata::Metadata;
use super::params::{Params, ReportMode, Strategy};

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
