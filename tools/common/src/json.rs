//! Reading single values out of JSON answers.

use serde_json::Value;

/// A remote id as text: a string (not empty) as is, a number as its digits
/// (Box and the record APIs send strings; a number is taken too).
pub fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::id_text;
    use serde_json::json;

    #[test]
    fn an_id_is_a_string_or_a_number() {
        let cases = [
            (json!("Abc123"), Some("Abc123")),
            (json!(42), Some("42")),
            (json!(1.5), Some("1.5")),
            (json!(""), None),
            (json!(null), None),
            (json!(true), None),
            (json!(["1"]), None),
            (json!({"id": "1"}), None),
        ];
        for (value, want) in cases {
            assert_eq!(id_text(&value).as_deref(), want, "{value}");
        }
    }
}
