//! Natives for a few of jaq's standard definitions that filters call on
//! every record, each giving what the definition gives (outputs, errors,
//! and paths alike).
//!
//! jaq defines `null` as `[][0]`, `type` as a chain of comparisons and
//! `tonumber` through `fromjson` with two type tests; evaluating those
//! definitions costs microseconds per call, which on wide records adds up
//! to most of a filter's time. [`compile`](super::compile) drops the
//! definitions named in [`REPLACED`] and adds [`DEFS`] and [`funs`] instead.

use super::{Data, Def};
use jaq_core::native::{Fun, bome, run, v};
use jaq_core::{Cv, Error, Exn, ValXs};
use jaq_json::{Val, read};

/// The standard definitions replaced, by name and number of arguments.
pub const REPLACED: [(&str, usize); 8] = [
    ("null", 0),
    ("type", 0),
    ("isboolean", 0),
    ("isnumber", 0),
    ("isstring", 0),
    ("isarray", 0),
    ("isobject", 0),
    ("tonumber", 0),
];

/// jaq's `tonumber` (`totype(isnumber; error("cannot parse as number"))`)
/// with the text branch native; `.` stays a path for a number.
const DEFS: &str = "def tonumber: if isnumber then . else tonumber_from_text end;";

/// [`DEFS`], parsed.
pub fn defs() -> impl Iterator<Item = Def> {
    jaq_core::load::parse(DEFS, |p| p.defs())
        .unwrap_or_default()
        .into_iter()
}

/// The natives that stand for [`REPLACED`].
pub fn funs() -> [Fun<Data>; 8] {
    [
        run(("null", v(0), |_| bome(Ok(Val::Null)))),
        run(("type", v(0), |cv| {
            bome(Ok(Val::utf8_str(type_name(&cv.1).as_bytes())))
        })),
        run(("isboolean", v(0), |cv| is(&cv.1, "boolean"))),
        run(("isnumber", v(0), |cv| is(&cv.1, "number"))),
        run(("isstring", v(0), |cv| is(&cv.1, "string"))),
        run(("isarray", v(0), |cv| is(&cv.1, "array"))),
        run(("isobject", v(0), |cv| is(&cv.1, "object"))),
        run(("tonumber_from_text", v(0), |cv| tonumber_from_text(cv))),
    ]
}

/// jq's name of a value's type. Byte strings are strings: jaq orders them
/// with text strings, which is what its `type` tests.
fn type_name(value: &Val) -> &'static str {
    match value {
        Val::Null => "null",
        Val::Bool(_) => "boolean",
        Val::Num(_) => "number",
        Val::TStr(_) | Val::BStr(_) => "string",
        Val::Arr(_) => "array",
        Val::Obj(_) => "object",
    }
}

fn is<'a>(value: &Val, name: &str) -> ValXs<'a, Val> {
    bome(Ok(Val::Bool(type_name(value) == name)))
}

/// `fromjson | if isnumber then . else error("cannot parse as number") end`,
/// with `fromjson`'s errors as jaq words them.
fn tonumber_from_text(cv: Cv<'_, Data>) -> ValXs<'_, Val> {
    let input = cv.1;
    let bytes = match input.try_as_utf8_bytes_owned() {
        Ok(bytes) => bytes,
        Err(e) => return bome(Err(e)),
    };
    // One number alone, the usual case: what `fromjson` gives too, without
    // its iterator over a shared copy of the text.
    if let Ok(number @ Val::Num(_)) = read::parse_single(&bytes) {
        return bome(Ok(number));
    }
    let parsed = jaq_json::bytes_valrs(bytes, move |text| {
        Box::new(read::parse_many(text).map(move |parsed| {
            parsed.map_err(|e| Error::str(format_args!("cannot parse {input} as JSON: {e}")))
        }))
    });
    Box::new(parsed.map(|parsed| match parsed {
        Ok(Val::Num(n)) => Ok(Val::Num(n)),
        Ok(_) => Err(Exn::from(Error::<Val>::str("cannot parse as number"))),
        Err(e) => Err(Exn::from(e)),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::Filter;
    use serde_json::{Value, json};

    /// The definitions replaced, as jaq's standard library words them,
    /// renamed so that they run beside the natives.
    const JAQ_DEFS: &str = r#"
        def null_jaq: [][0];
        def isboolean_jaq: . == true or . == false;
        def isnumber_jaq: . > true and . < "";
        def isstring_jaq: . >= "" and . < [];
        def isarray_jaq: . >= [] and . < {};
        def isobject_jaq: . >= {};
        def type_jaq:
            if . == null_jaq then "null"
          elif isboolean_jaq then "boolean"
          elif . < "" then "number"
          elif . < [] then "string"
          elif . < {} then "array"
          else "object" end;
        def tonumber_jaq:
          if isnumber_jaq then . else fromjson | if isnumber_jaq then . else error("cannot parse as number") end end;
        def inputs_jaq: null, true, false, 0, -1.5, 12345678901234567890123, nan, infinite,
          "", "a", "12", " 12 ", "1.50", "-0", "1e400", "1 2", "1 x", "x", "nan", "NaN", "[1]",
          "12 # note", "\"3\"", ("7" | tobytes), ("ab" | tobytes), [], [1], {}, {"a": 1};
    "#;

    fn outputs(filter: &str) -> Value {
        let text = format!("{JAQ_DEFS} [inputs_jaq | [try ({filter}) catch {{error: .}}]]");
        match Filter::compile(&text).and_then(|f| f.run(&Value::Null)) {
            Ok(mut out) if out.len() == 1 => out.remove(0),
            Ok(out) => panic!("{filter}: {} outputs", out.len()),
            Err(e) => panic!("{filter}: {e}"),
        }
    }

    #[test]
    fn natives_give_what_jaqs_definitions_give() {
        for name in [
            "null",
            "type",
            "isboolean",
            "isnumber",
            "isstring",
            "isarray",
            "isobject",
            "tonumber",
        ] {
            let native = outputs(name);
            assert_eq!(native, outputs(&format!("{name}_jaq")), "{name}");
            assert!(native.as_array().is_some_and(|a| a.len() == 29), "{name}");
        }
        // the cases that matter most, spelled out
        let types = outputs("type");
        assert_eq!(types[0], json!(["null"]));
        assert_eq!(types[23], json!(["string"]), "a byte string");
        let numbers = outputs("tonumber");
        let exact: Value = serde_json::from_str("[1.50]").unwrap_or_default();
        assert_eq!(numbers[12], exact, "digits kept");
        assert_eq!(numbers[15], json!([1, 2]));
        assert_eq!(numbers[20], json!([{"error": "cannot parse as number"}]));
    }

    #[test]
    fn natives_are_paths_where_jaqs_definitions_are() {
        for name in ["null", "type", "isnumber", "tonumber"] {
            let native = outputs(&format!("path({name})"));
            assert_eq!(native, outputs(&format!("path({name}_jaq)")), "{name}");
            let native = outputs(&format!("{name} |= 1"));
            assert_eq!(native, outputs(&format!("{name}_jaq |= 1")), "{name}");
        }
        assert_eq!(outputs("path(tonumber)")[3], json!([[]]));
    }
}
