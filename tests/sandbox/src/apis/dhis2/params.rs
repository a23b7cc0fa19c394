//! The parameters of `POST /api/tracker`, with dhis2's defaults.

use super::metadata::IdScheme;

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
    pub program_scheme: IdScheme,
    pub stage_scheme: IdScheme,
    pub org_unit_scheme: IdScheme,
    pub data_element_scheme: IdScheme,
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

#[cfg(test)]
mod tests {
    use super::*;

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
