//! The seeded dhis2 metadata (the SIPCA event program and its org units), lookups by id
//! scheme, and the `fields=` filter of the metadata API.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

const SEED: &str = include_str!("../../../../fixtures/sandbox/dhis2-metadata.json");

/// How a request names metadata: `idScheme` and its per-type variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdScheme {
    Uid,
    Code,
    Name,
    Attribute(String),
}

impl IdScheme {
    /// "UID", "CODE", "NAME" or "ATTRIBUTE:{uid}" (keywords in any case).
    pub fn parse(s: &str) -> Option<IdScheme> {
        let upper = s.to_ascii_uppercase();
        match upper.as_str() {
            "UID" | "ID" => Some(IdScheme::Uid),
            "CODE" => Some(IdScheme::Code),
            "NAME" => Some(IdScheme::Name),
            _ => {
                let attribute = s.get(10..).filter(|_| upper.starts_with("ATTRIBUTE:"))?;
                super::super::support::is_dhis2_uid(attribute)
                    .then(|| IdScheme::Attribute(attribute.to_string()))
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct AttributeRef {
    id: String,
}

#[derive(Debug, Deserialize)]
struct AttributeValue {
    attribute: AttributeRef,
    value: String,
}

/// The identifying part every metadata object has.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub id: String,
    #[serde(default)]
    code: Option<String>,
    name: String,
    #[serde(default)]
    attribute_values: Vec<AttributeValue>,
}

impl Identity {
    fn matches(&self, scheme: &IdScheme, key: &str) -> bool {
        match scheme {
            IdScheme::Uid => self.id == key,
            IdScheme::Code => self.code.as_deref() == Some(key),
            IdScheme::Name => self.name == key,
            IdScheme::Attribute(attr) => self
                .attribute_values
                .iter()
                .any(|a| a.attribute.id == *attr && a.value == key),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionSet {
    pub id: String,
    options: Vec<OptionEntry>,
}

#[derive(Debug, Deserialize)]
struct OptionEntry {
    code: String,
}

impl OptionSet {
    pub fn has_code(&self, code: &str) -> bool {
        self.options.iter().any(|o| o.code == code)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataElement {
    #[serde(flatten)]
    pub identity: Identity,
    pub value_type: String,
    #[serde(default)]
    pub option_set: Option<OptionSet>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageElement {
    pub compulsory: bool,
    pub data_element: DataElement,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    #[serde(flatten)]
    pub identity: Identity,
    pub program_stage_data_elements: Vec<StageElement>,
}

impl Stage {
    pub fn element(&self, id: &str) -> Option<&StageElement> {
        self.program_stage_data_elements
            .iter()
            .find(|e| e.data_element.identity.id == id)
    }
}

#[derive(Debug, Deserialize)]
struct IdRef {
    id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Program {
    #[serde(flatten)]
    pub identity: Identity,
    organisation_units: Vec<IdRef>,
    pub program_stages: Vec<Stage>,
}

impl Program {
    pub fn has_org_unit(&self, id: &str) -> bool {
        self.organisation_units.iter().any(|o| o.id == id)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parsed {
    programs: Vec<Program>,
    organisation_units: Vec<Identity>,
}

/// Everything the importer and the metadata endpoint know.
#[derive(Debug)]
pub struct Metadata {
    pub programs: Vec<Program>,
    pub org_units: Vec<Identity>,
    /// The programs as JSON, for `GET /api/programs/{id}`.
    raw_programs: Vec<Value>,
}

/// The seed, parsed once per process.
pub fn seed() -> &'static Metadata {
    static METADATA: OnceLock<Metadata> = OnceLock::new();
    METADATA.get_or_init(|| {
        let parsed: Parsed = serde_json::from_str(SEED).expect("the dhis2 seed is valid JSON");
        let raw: Value = serde_json::from_str(SEED).expect("the dhis2 seed is valid JSON");
        let raw_programs = raw["programs"].as_array().cloned().unwrap_or_default();
        Metadata {
            programs: parsed.programs,
            org_units: parsed.organisation_units,
            raw_programs,
        }
    })
}

impl Metadata {
    pub fn program(&self, scheme: &IdScheme, key: &str) -> Option<&Program> {
        self.programs
            .iter()
            .find(|p| p.identity.matches(scheme, key))
    }

    /// A stage of any program, with the program that holds it.
    pub fn stage(&self, scheme: &IdScheme, key: &str) -> Option<(&Program, &Stage)> {
        self.programs.iter().find_map(|p| {
            p.program_stages
                .iter()
                .find(|s| s.identity.matches(scheme, key))
                .map(|s| (p, s))
        })
    }

    pub fn org_unit(&self, scheme: &IdScheme, key: &str) -> Option<&Identity> {
        self.org_units.iter().find(|o| o.matches(scheme, key))
    }

    /// A data element of any stage.
    pub fn data_element(&self, scheme: &IdScheme, key: &str) -> Option<&DataElement> {
        self.programs
            .iter()
            .flat_map(|p| &p.program_stages)
            .flat_map(|s| &s.program_stage_data_elements)
            .map(|e| &e.data_element)
            .find(|d| d.identity.matches(scheme, key))
    }

    pub fn raw_program(&self, id: &str) -> Option<&Value> {
        self.raw_programs.iter().find(|p| p["id"] == id)
    }
}

/// One node of a `fields=` expression: `name` or `name[children]`.
#[derive(Debug, PartialEq)]
pub struct Field {
    name: String,
    children: Option<Vec<Field>>,
}

/// Parses `id,name,programStages[id,programStageDataElements[compulsory]]`. Transformers
/// (`name~rename(x)`) and exclusions (`!name`) are read and ignored, as the sandbox keeps
/// its answers simple.
pub fn parse_fields(s: &str) -> Vec<Field> {
    let mut chars = s.chars().peekable();
    parse_field_list(&mut chars)
}

fn parse_field_list(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut name = String::new();
    let mut children = None;
    let mut depth_in_parens = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '(' => depth_in_parens += 1,
            ')' => depth_in_parens = depth_in_parens.saturating_sub(1),
            _ if depth_in_parens > 0 => {}
            '[' => children = Some(parse_field_list(chars)),
            ']' => break,
            ',' => push_field(&mut fields, &mut name, &mut children),
            c if c.is_whitespace() => {}
            c => name.push(c),
        }
    }
    push_field(&mut fields, &mut name, &mut children);
    fields
}

fn push_field(fields: &mut Vec<Field>, name: &mut String, children: &mut Option<Vec<Field>>) {
    let raw = std::mem::take(name);
    let kept = raw.split('~').next().unwrap_or("").to_string();
    let children = children.take();
    if !kept.is_empty() && !kept.starts_with('!') {
        fields.push(Field {
            name: kept,
            children,
        });
    }
}

/// Keeps what `fields` asks for: `*` or a `:preset` keeps every key at that level.
pub fn filter_fields(value: &Value, fields: &[Field]) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| filter_fields(v, fields)).collect())
        }
        Value::Object(map) => {
            let all = fields
                .iter()
                .any(|f| f.name == "*" || f.name.starts_with(':'));
            let mut out = Map::new();
            if all {
                for (k, v) in map {
                    let nested = fields.iter().find(|f| f.name == *k);
                    out.insert(k.clone(), filter_child(v, nested));
                }
            } else {
                for f in fields {
                    if let Some(v) = map.get(&f.name) {
                        out.insert(f.name.clone(), filter_child(v, Some(f)));
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn filter_child(value: &Value, field: Option<&Field>) -> Value {
    match field.and_then(|f| f.children.as_deref()) {
        Some(children) => filter_fields(value, children),
        None => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_seed_program_has_one_stage_and_three_org_units() {
        let m = seed();
        let p = m.program(&IdScheme::Uid, "SIPCAprg001").expect("program");
        assert_eq!(p.program_stages.len(), 1);
        assert_eq!(m.org_units.len(), 3);
        assert!(m.org_units.iter().all(|o| p.has_org_unit(&o.id)));
        assert!(m.org_unit(&IdScheme::Code, "FAC_B").is_some());
        let by_attr = IdScheme::parse("ATTRIBUTE:AttrKoboFac").expect("scheme");
        assert_eq!(
            m.org_unit(&by_attr, "facility_c").map(|o| o.id.as_str()),
            Some("OrgUnitC001")
        );
        for id in p.program_stages[0]
            .program_stage_data_elements
            .iter()
            .map(|e| &e.data_element.identity.id)
        {
            assert!(crate::apis::support::is_dhis2_uid(id), "{id}");
        }
    }

    #[test]
    fn fields_keep_the_nested_selection() {
        let v = json!({"id": "p", "name": "P", "programStages": [
            {"id": "s", "name": "S", "sortOrder": 1, "programStageDataElements": [
                {"compulsory": true, "sortOrder": 2, "dataElement": {"id": "d", "name": "D", "code": "C"}}
            ]}
        ]});
        let fields = parse_fields(
            "programStages[id,name,programStageDataElements[compulsory,dataElement[name,id]]]",
        );
        assert_eq!(
            filter_fields(&v, &fields),
            json!({"programStages": [{"id": "s", "name": "S", "programStageDataElements": [
                {"compulsory": true, "dataElement": {"name": "D", "id": "d"}}
            ]}]})
        );
        assert_eq!(filter_fields(&v, &parse_fields("*")), v);
        assert_eq!(
            filter_fields(&v, &parse_fields("id,name~rename(title),!code,missing")),
            json!({"id": "p", "name": "P"})
        );
    }
}
