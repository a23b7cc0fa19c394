//! Primero's case records: list filters, paging and field selection, the PATCH merge of
//! subform rows, and the validation rules the sandbox enforces.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use crate::apis::support::{parse_date, parse_time, scalar_text};

/// Query parameters that are not filters.
const RESERVED: &[&str] = &[
    "page",
    "per",
    "fields",
    "remote",
    "order",
    "order_by",
    "query",
    "id_search",
    "locale",
];

pub const DEFAULT_PER: usize = 20;
pub const MAX_PER: usize = 1000;

/// `sex` must be one of these (or null).
pub const SEXES: &[&str] = &["male", "female", "other", "unknown"];

/// Top-level fields that hold subform rows (arrays of objects with `unique_id`).
pub const SUBFORMS: &[&str] = &["services_section", "transitions", "family_details_section"];

/// The fields `fields=short` selects.
const SHORT_FIELDS: &[&str] = &[
    "id",
    "case_id",
    "case_id_display",
    "name",
    "name_first",
    "name_last",
    "sex",
    "age",
    "registration_date",
    "owned_by",
    "status",
    "last_updated_at",
];

/// One filter of a list request.
#[derive(Debug, PartialEq)]
enum Filter {
    /// `field=a,b`: the value (or one element of an array value) is one of these.
    OneOf(Vec<String>),
    /// `field=lo..hi`, `field=lo..`, `field=..hi`: inclusive, as numbers or as times.
    Range(Option<String>, Option<String>),
}

fn parse_filter(raw: &str) -> Filter {
    match raw.split_once("..") {
        Some((lo, hi)) => Filter::Range(
            Some(lo.trim().to_string()).filter(|s| !s.is_empty()),
            Some(hi.trim().to_string()).filter(|s| !s.is_empty()),
        ),
        None => Filter::OneOf(raw.split(',').map(|s| s.trim().to_string()).collect()),
    }
}

/// Orders two texts as numbers when both are numbers, as times when both are times,
/// else as text.
fn compare_text(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    if let (Some(x), Some(y)) = (parse_time(a), parse_time(b)) {
        return x.cmp(&y);
    }
    a.cmp(b)
}

impl Filter {
    fn matches(&self, value: Option<&Value>) -> bool {
        let texts: Vec<String> = match value {
            Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
            Some(v) => scalar_text(v).into_iter().collect(),
            None => Vec::new(),
        };
        texts.iter().any(|t| match self {
            Filter::OneOf(choices) => choices.iter().any(|c| c == t),
            Filter::Range(lo, hi) => {
                lo.as_deref()
                    .is_none_or(|lo| compare_text(t, lo) != Ordering::Less)
                    && hi
                        .as_deref()
                        .is_none_or(|hi| compare_text(t, hi) != Ordering::Greater)
            }
        })
    }
}

/// What a list request asks for.
#[derive(Debug)]
pub struct ListQuery {
    filters: Vec<(String, Filter)>,
    pub page: usize,
    pub per: usize,
    fields: Option<Vec<String>>,
    order_by: String,
    descending: bool,
}

impl ListQuery {
    pub fn parse(query: &[(String, String)]) -> ListQuery {
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let number = |name: &str| get(name).and_then(|v| v.trim().parse::<usize>().ok());
        let fields = get("fields").filter(|f| !f.is_empty()).map(|f| {
            if f == "short" {
                SHORT_FIELDS.iter().map(|s| s.to_string()).collect()
            } else {
                f.split(',').map(|s| s.trim().to_string()).collect()
            }
        });
        ListQuery {
            filters: query
                .iter()
                .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), parse_filter(v)))
                .collect(),
            page: number("page").unwrap_or(1).max(1),
            per: number("per").unwrap_or(DEFAULT_PER).clamp(1, MAX_PER),
            fields,
            order_by: get("order_by").unwrap_or("created_at").to_string(),
            descending: get("order") != Some("asc"),
        }
    }

    /// The page of matching cases and the total that matched.
    pub fn run(&self, cases: &[Map<String, Value>]) -> (Vec<Value>, usize) {
        let mut hits: Vec<&Map<String, Value>> = cases
            .iter()
            .filter(|c| self.filters.iter().all(|(k, f)| f.matches(c.get(k))))
            .collect();
        hits.sort_by(|a, b| {
            let key = |c: &Map<String, Value>| c.get(&self.order_by).and_then(scalar_text);
            let order = match (key(a), key(b)) {
                (Some(x), Some(y)) => compare_text(&x, &y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            let order = if self.descending {
                order.reverse()
            } else {
                order
            };
            order.then_with(|| scalar_text(&a["id"]).cmp(&scalar_text(&b["id"])))
        });
        let total = hits.len();
        let page = hits
            .into_iter()
            .skip((self.page - 1).saturating_mul(self.per))
            .take(self.per)
            .map(|c| self.select(c))
            .collect();
        (page, total)
    }

    fn select(&self, case: &Map<String, Value>) -> Value {
        match &self.fields {
            None => Value::Object(case.clone()),
            Some(fields) => {
                let mut out = Map::new();
                out.insert("id".into(), case.get("id").cloned().unwrap_or(Value::Null));
                for f in fields {
                    if let Some(v) = case.get(f) {
                        out.insert(f.clone(), v.clone());
                    }
                }
                Value::Object(out)
            }
        }
    }
}

/// The JSON pointers of the fields that break the rules (see tests/sandbox/README.md);
/// empty when the data is valid.
pub fn invalid_fields(data: &Map<String, Value>) -> Vec<String> {
    let mut bad = Vec::new();
    for (key, value) in data {
        if value.is_null() {
            continue;
        }
        let ok = match key.as_str() {
            "id" | "case_id" => value.is_string(),
            "age" => value.as_u64().is_some_and(|a| a <= 130),
            "sex" => value.as_str().is_some_and(|s| SEXES.contains(&s)),
            k if k == "date_of_birth" || k.ends_with("_date") => {
                value.as_str().and_then(parse_date).is_some()
            }
            k if SUBFORMS.contains(&k) => value
                .as_array()
                .is_some_and(|rows| rows.iter().all(Value::is_object)),
            _ => true,
        };
        if !ok {
            bad.push(format!("/{key}"));
        }
    }
    bad
}

fn is_deleted(row: &Value) -> bool {
    row.get("_delete").and_then(Value::as_bool) == Some(true)
}

fn unique_id(row: &Value) -> Option<&str> {
    row.get("unique_id").and_then(Value::as_str)
}

/// New subform rows: rows marked `_delete` are dropped, the others get a `unique_id`.
pub fn fresh_rows(rows: &[Value]) -> Vec<Value> {
    rows.iter()
        .filter(|r| !is_deleted(r))
        .map(|r| {
            let mut r = r.clone();
            if let Some(map) = r.as_object_mut() {
                map.remove("_delete");
                if !map.get("unique_id").is_some_and(Value::is_string) {
                    map.insert("unique_id".into(), uuid::Uuid::new_v4().to_string().into());
                }
            }
            r
        })
        .collect()
}

/// Merges an update into a case: plain fields are replaced; subform rows are matched by
/// `unique_id` and merged, new rows appended, rows with `_delete: true` removed.
pub fn merge(case: &mut Map<String, Value>, update: &Map<String, Value>) {
    for (key, value) in update {
        if key == "id" {
            continue;
        }
        let rows_in = value
            .as_array()
            .filter(|rows| rows.iter().all(Value::is_object));
        let existing = case.get_mut(key).and_then(Value::as_array_mut);
        match (rows_in, existing) {
            (Some(rows), Some(current)) if !rows.is_empty() => {
                for row in rows {
                    let position = unique_id(row)
                        .and_then(|id| current.iter().position(|c| unique_id(c) == Some(id)));
                    match (position, is_deleted(row)) {
                        (Some(i), true) => {
                            current.remove(i);
                        }
                        (None, true) => {}
                        (Some(i), false) => {
                            if let (Some(target), Some(source)) =
                                (current[i].as_object_mut(), row.as_object())
                            {
                                for (k, v) in source {
                                    target.insert(k.clone(), v.clone());
                                }
                            }
                        }
                        (None, false) => current.extend(fresh_rows(std::slice::from_ref(row))),
                    }
                }
            }
            (Some(rows), _) => {
                case.insert(key.clone(), Value::Array(fresh_rows(rows)));
            }
            (None, _) => {
                case.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Primero's error list: `{"errors":[{"code","message","resource"[,"detail"]}]}`.
pub fn errors(code: u16, message: &str, resource: &str, detail: Option<Value>) -> Value {
    let mut error = json!({"code": code, "message": message, "resource": resource});
    if let Some(detail) = detail {
        error["detail"] = detail;
    }
    json!({"errors": [error]})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn filters_read_lists_and_ranges() {
        assert_eq!(
            parse_filter("a,b"),
            Filter::OneOf(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            parse_filter("5..9"),
            Filter::Range(Some("5".into()), Some("9".into()))
        );
        assert_eq!(
            parse_filter("2023-08-24T00:00:00Z.."),
            Filter::Range(Some("2023-08-24T00:00:00Z".into()), None)
        );
        assert!(parse_filter("5..9").matches(Some(&json!(9))));
        assert!(!parse_filter("5..9").matches(Some(&json!(10))));
        assert!(parse_filter("..2023-08-24").matches(Some(&json!("2023-08-23T23:59:59.000Z"))));
        assert!(
            !parse_filter("2023-08-24T00:00:00Z..").matches(Some(&json!("2023-08-23T10:00:00Z")))
        );
        assert!(parse_filter("female,other").matches(Some(&json!("other"))));
        assert!(parse_filter("true").matches(Some(&json!(true))));
        assert!(parse_filter("g2").matches(Some(&json!(["g1", "g2"]))));
        assert!(!parse_filter("x").matches(None));
    }

    #[test]
    fn merge_updates_appends_and_deletes_rows() {
        let mut c = case(json!({"id": "1", "name_first": "A", "services_section": [
            {"unique_id": "s1", "service_type": "x"},
            {"unique_id": "s2", "service_type": "y"}
        ]}));
        merge(
            &mut c,
            &case(
                json!({"id": "other", "name_first": "B", "services_section": [
                    {"unique_id": "s1", "service_type": "z"},
                    {"unique_id": "s2", "_delete": true},
                    {"unique_id": "s3", "service_type": "w"},
                    {"service_type": "v"}
                ]}),
            ),
        );
        assert_eq!(c["id"], "1");
        assert_eq!(c["name_first"], "B");
        let rows = c["services_section"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], json!({"unique_id": "s1", "service_type": "z"}));
        assert_eq!(rows[1], json!({"unique_id": "s3", "service_type": "w"}));
        assert!(rows[2]["unique_id"].is_string());
    }

    #[test]
    fn validation_names_the_fields_not_the_values() {
        let bad = case(
            json!({"age": 131, "sex": "M", "date_of_birth": "2005/06/13",
                              "registration_date": "2020-02-30", "services_section": {},
                              "name_first": "ok", "oscar_number": null}),
        );
        assert_eq!(
            invalid_fields(&bad),
            vec![
                "/age",
                "/sex",
                "/date_of_birth",
                "/registration_date",
                "/services_section"
            ]
        );
        let good = case(json!({"age": 0, "sex": "female", "date_of_birth": "2005-06-13"}));
        assert!(invalid_fields(&good).is_empty());
    }
}
