//! The per-event checks of the importer, with dhis2's E-codes; messages name ids,
//! never data values.

use serde_json::{Value, json};

use super::draft::Draft;
use super::event::Event;
use super::params::Strategy;
use crate::apis::support::{is_dhis2_uid, parse_date, parse_time};

fn error_report(code: &str, message: String, uid: &str) -> Value {
    json!({"message": message, "errorCode": code, "trackerType": "EVENT", "uid": uid})
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
pub fn check(draft: &Draft<'_>, strategy: Strategy, stored: Option<&Event>) -> Vec<Value> {
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
}
