//! The CSV report: header against the sender's column list, per-row code checks.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

/// The sender's export, in order (APIS.md).
pub const COLUMNS: &[&str] = &[
    "Patient_last_name",
    "Patient_first_name",
    "Patient_middle_name",
    "Patient_suffix",
    "Patient_race",
    "Patient_DOB",
    "Patient_gender",
    "Patient_ethnicity",
    "Patient_street",
    "Patient_street_2",
    "Patient_city",
    "Patient_county",
    "Patient_state",
    "Patient_zip_code",
    "Patient_country",
    "Patient_phone_number",
    "Patient_email",
    "Patient_ID",
    "Patient_role",
    "Patient_tribal_affiliation",
    "Patient_preferred_language",
    "Employed_in_healthcare",
    "Resident_congregate_setting",
    "Result_ID",
    "Corrected_result_ID",
    "Test_correction_reason",
    "Test_result_status",
    "Order_result_status",
    "Observation_result_status",
    "Test_result_code",
    "Specimen_collection_date_time",
    "Ordering_provider_ID",
    "First_test",
    "Symptomatic_for_disease",
    "Illness_onset_date",
    "Testing_lab_name",
    "Testing_lab_CLIA",
    "Testing_lab_state",
    "Testing_lab_street",
    "Testing_lab_street_2",
    "Testing_lab_zip_code",
    "Testing_lab_county",
    "Testing_lab_phone_number",
    "Testing_lab_city",
    "Processing_mode_code",
    "Ordering_facility_city",
    "Ordering_facility_county",
    "Ordering_facility_name",
    "Organization_name",
    "Ordering_facility_phone_number",
    "Ordering_facility_email",
    "Ordering_facility_state",
    "Ordering_facility_street",
    "Ordering_facility_street_2",
    "Ordering_facility_zip_code",
    "Ordering_provider_last_name",
    "Ordering_provider_first_name",
    "Ordering_provider_street",
    "Ordering_provider_street_2",
    "Ordering_provider_city",
    "Ordering_provider_state",
    "Ordering_provider_zip_code",
    "Ordering_provider_county",
    "Ordering_provider_phone_number",
    "Ordered_test_code",
    "Specimen_source_site_code",
    "Specimen_type_code",
    "Instrument_ID",
    "Device_ID",
    "Test_date",
    "Date_result_released",
    "Order_test_date",
    "Site_of_care",
];

const BOOLEAN: &[&str] = &["Y", "N", "UNK"];
const STATUS: &[&str] = &["F", "C", "W"];

/// Columns whose non-empty values must be one of a list of codes.
const CODED: &[(&str, &[&str])] = &[
    ("Patient_ethnicity", &["H", "N", "U"]),
    ("Patient_gender", &["M", "F", "O", "A", "U", "N"]),
    (
        "Patient_race",
        &[
            "1002-5", "2028-9", "2054-5", "2076-8", "2106-3", "2131-1", "UNK", "ASKU",
        ],
    ),
    ("Test_result_code", &["260373001", "260415000", "419984006"]),
    ("Test_result_status", STATUS),
    ("Order_result_status", STATUS),
    ("Observation_result_status", STATUS),
    ("Employed_in_healthcare", BOOLEAN),
    ("Resident_congregate_setting", BOOLEAN),
    ("First_test", BOOLEAN),
    ("Symptomatic_for_disease", BOOLEAN),
    ("Processing_mode_code", &["P"]),
];

/// yyyyMMdd only.
const DATES: &[&str] = &["Patient_DOB", "Illness_onset_date"];
/// yyyyMMddHHmmss (yyyyMMdd also passes: older senders wrote dates there).
const DATETIMES: &[&str] = &[
    "Specimen_collection_date_time",
    "Test_date",
    "Date_result_released",
    "Order_test_date",
];

struct Warning {
    field: &'static str,
    message: String,
    indices: Vec<usize>,
    tracking_ids: Vec<String>,
}

/// A report that parsed: its item count, tracking ids and per-item warnings.
#[derive(Debug)]
pub(super) struct Checked {
    pub item_count: usize,
    pub tracking_ids: Vec<String>,
    pub warnings: Vec<Value>,
}

/// Report-scope errors (the answer is 400), or the checked report.
pub(super) fn check_csv(body: &[u8]) -> Result<Checked, Vec<Value>> {
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(_) => {
            return Err(vec![report_error(
                None,
                "The CSV header is not readable UTF-8 CSV",
            )]);
        }
    };
    let mut errors = Vec::new();
    for (i, name) in header.iter().enumerate() {
        if !COLUMNS.contains(&name) {
            errors.push(report_error(
                Some(name),
                &format!("Unexpected column '{name}'"),
            ));
        } else if header.iter().take(i).any(|n| n == name) {
            errors.push(report_error(
                Some(name),
                &format!("Duplicate column '{name}'"),
            ));
        }
    }
    for name in COLUMNS.iter().filter(|c| !header.iter().any(|h| h == **c)) {
        errors.push(report_error(
            Some(name),
            &format!("Missing column '{name}'"),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let position = |name: &str| header.iter().position(|h| h == name);
    let mut tracking_ids = Vec::new();
    // One warning per (field, message), in order of first appearance, listing its items.
    let mut grouped: Vec<Warning> = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let index = row + 1;
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                return Err(vec![report_error(
                    None,
                    &format!("Row {index} is not valid CSV or has the wrong number of fields"),
                )]);
            }
        };
        let value = |name: &str| position(name).and_then(|p| record.get(p)).unwrap_or("");
        let tracking_id = value("Result_ID").to_string();
        let mut problems: Vec<(&str, String)> = Vec::new();
        if tracking_id.is_empty() {
            problems.push((
                "Result_ID",
                "Result_ID is missing; it is the item's tracking id".into(),
            ));
        }
        for (field, codes) in CODED {
            let v = value(field);
            if !v.is_empty() && !codes.contains(&v) {
                problems.push((field, format!("{field} is not one of {}", codes.join(", "))));
            }
        }
        for field in DATES {
            let v = value(field);
            if !v.is_empty() && !is_date(v) {
                problems.push((
                    field,
                    format!("{field} is not a date in the format yyyyMMdd"),
                ));
            }
        }
        for field in DATETIMES {
            let v = value(field);
            if !v.is_empty() && !is_datetime(v) && !is_date(v) {
                problems.push((
                    field,
                    format!("{field} is not a date and time in the format yyyyMMddHHmmss"),
                ));
            }
        }
        for (field, message) in problems {
            let at = match grouped
                .iter()
                .position(|w| w.field == field && w.message == message)
            {
                Some(at) => at,
                None => {
                    grouped.push(Warning {
                        field,
                        message,
                        indices: Vec::new(),
                        tracking_ids: Vec::new(),
                    });
                    grouped.len() - 1
                }
            };
            grouped[at].indices.push(index);
            grouped[at].tracking_ids.push(tracking_id.clone());
        }
        tracking_ids.push(tracking_id);
    }
    if tracking_ids.is_empty() {
        return Err(vec![report_error(
            None,
            "The report has no items: only a header row",
        )]);
    }
    let warnings = grouped
        .into_iter()
        .map(|w| {
            json!({"scope": "item", "indices": w.indices, "trackingIds": w.tracking_ids,
                   "field": w.field, "message": w.message})
        })
        .collect();
    Ok(Checked {
        item_count: tracking_ids.len(),
        tracking_ids,
        warnings,
    })
}

/// HL7 v2 (one MSH segment per message) or FHIR NDJSON (one bundle per line): counted, not checked.
pub(super) fn count_items(content_type: &str, body: &[u8]) -> usize {
    let text = String::from_utf8_lossy(body);
    if content_type == "application/hl7-v2" {
        text.split(['\r', '\n'])
            .filter(|l| l.starts_with("MSH"))
            .count()
    } else {
        text.lines().filter(|l| !l.trim().is_empty()).count()
    }
}

pub(super) fn report_error(field: Option<&str>, message: &str) -> Value {
    json!({"scope": "report", "indices": [], "trackingIds": [], "field": field, "message": message})
}

fn is_date(v: &str) -> bool {
    v.len() == 8 && NaiveDate::parse_from_str(v, "%Y%m%d").is_ok()
}

fn is_datetime(v: &str) -> bool {
    v.len() == 14 && NaiveDateTime::parse_from_str(v, "%Y%m%d%H%M%S").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_73_distinct_columns() {
        assert_eq!(COLUMNS.len(), 73);
        let mut sorted = COLUMNS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 73);
    }

    #[test]
    fn dates_and_datetimes() {
        assert!(is_date("20240229"));
        assert!(!is_date("20230229"));
        assert!(!is_date("2024-02-29"));
        assert!(is_datetime("20240229235959"));
        assert!(!is_datetime("20240229246000"));
    }
}
