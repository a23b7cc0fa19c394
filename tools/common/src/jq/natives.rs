//! Natives for a few of jaq's standard definitions that filters call on
//! every record, each giving what the definition gives (outputs, errors,
//! and paths alike).
//!
//! jaq defines `null` as `[][0]`, `type` as a chain of comparisons and
//! `tonumber` through `fromjson` with two type tests; evaluating those
//! definitions costs microseconds per call, which on wide records adds up
//! to most of a filter's time. [`compile`](super::compile) drops the
//! definitions named in [`REPLACED`] and adds [`DEFS`] and [`funs`] instead.
//!
//! `tonumber` alone gives less than jaq's: jq 1.7's rule, one JSON number
//! literal and nothing else (leading zeros aside, as in jq), where jaq's
//! `fromjson` reads `"1 2"` as two numbers and `" 5 "` as one.

use super::{Data, Def};
use jaq_core::native::{Fun, bome, run, v};
use jaq_core::{Cv, Error, ValXs};
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
/// with the text branch native and strict; `.` stays a path for a number.
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

/// jq 1.7's `tonumber` on text: the whole string, with nothing trimmed,
/// must be one JSON number literal (leading zeros allowed, as jq allows
/// them), which keeps its digits as written;
/// anything else (`"48226-1234"`, `" 5"`, `"+5"`, `"nan"`) is an error, so
/// that one string never gives several numbers nor one JSON cannot hold.
fn tonumber_from_text(cv: Cv<'_, Data>) -> ValXs<'_, Val> {
    let number = cv
        .1
        .try_as_utf8_bytes_owned()
        .and_then(|text| number_literal(&text).ok_or_else(|| Error::str("cannot parse as number")));
    bome(number)
}

/// The number `text` stands for, if it is exactly one JSON number literal,
/// but for leading zeros, which jq takes and the number drops: the day
/// "05" is 5 (the flows' filters slice dates and zero-padded numbers).
fn number_literal(text: &[u8]) -> Option<Val> {
    let text = without_leading_zeros(text);
    if !is_json_number(&text) {
        return None;
    }
    match read::parse_single(&text) {
        Ok(number @ Val::Num(_)) => Some(number),
        _ => None,
    }
}

/// `text` with the zeros that lead its integer part dropped, one kept
/// before a point or the end: "007" is "7", "-00.5" "-0.5", "00" "0".
fn without_leading_zeros(text: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let (sign, unsigned) = match text.strip_prefix(b"-") {
        Some(unsigned) => (&b"-"[..], unsigned),
        None => (&b""[..], text),
    };
    let zeros = unsigned.iter().take_while(|&&b| b == b'0').count();
    let dropped = match unsigned.get(zeros) {
        Some(b) if b.is_ascii_digit() => zeros,
        _ => zeros.saturating_sub(1),
    };
    if dropped == 0 {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned([sign, &unsigned[dropped..]].concat())
    }
}

/// RFC 8259's `number`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(text: &[u8]) -> bool {
    let unsigned = text.strip_prefix(b"-").unwrap_or(text);
    let mut rest = match unsigned {
        [b'0', rest @ ..] => rest,
        [b'1'..=b'9', rest @ ..] => skip_digits(rest),
        _ => return false,
    };
    if let Some(fraction) = rest.strip_prefix(b".") {
        rest = match some_digits(fraction) {
            Some(after) => after,
            None => return false,
        };
    }
    if let [b'e' | b'E', exponent @ ..] = rest {
        let unsigned = exponent
            .strip_prefix(b"+")
            .or_else(|| exponent.strip_prefix(b"-"))
            .unwrap_or(exponent);
        rest = match some_digits(unsigned) {
            Some(after) => after,
            None => return false,
        };
    }
    rest.is_empty()
}

fn skip_digits(text: &[u8]) -> &[u8] {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    &text[digits..]
}

/// What follows one digit or more, or None if `text` starts with none.
fn some_digits(text: &[u8]) -> Option<&[u8]> {
    let after = skip_digits(text);
    (after.len() < text.len()).then_some(after)
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
          if isnumber_jaq then .
          elif (tojson | startswith("\"")) and (test("^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?$") | not)
          then error("cannot parse as number")
          else fromjson end;
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
        assert_eq!(numbers[15], json!([{"error": "cannot parse as number"}]));
        assert_eq!(numbers[20], json!([{"error": "cannot parse as number"}]));
    }

    /// `tonumber` on each string: the number it gives, as JSON text, or
    /// None for the error, "cannot parse as number".
    #[test]
    fn tonumber_takes_one_json_number_literal_and_nothing_else() {
        for (text, number) in [
            ("0", Some("0")),
            ("-0.0", Some("-0.0")),
            ("12", Some("12")),
            ("-876", Some("-876")),
            ("5.43", Some("5.43")),
            ("1.50", Some("1.50")),
            ("2.5e-7", Some("2.5e-7")),
            ("1E+2", Some("1E+2")),
            ("12345678901234567890123", Some("12345678901234567890123")),
            (
                "0.000000000000000000000000001",
                Some("0.000000000000000000000000001"),
            ),
            ("48226-1234", None),
            ("1960-05-21", None),
            ("1 2", None),
            ("+5.43", None),
            (" 5", None),
            ("5 ", None),
            ("5\n", None),
            ("\t5", None),
            ("", None),
            ("-", None),
            ("nan", None),
            ("NaN", None),
            ("infinite", None),
            ("Infinity", None),
            ("0x10", None),
            ("1e", None),
            ("1e+", None),
            ("1.", None),
            (".89", None),
            ("02139", Some("2139")),
            ("05", Some("5")),
            ("-007.50", Some("-7.50")),
            ("00", Some("0")),
            ("-00.5", Some("-0.5")),
            ("00x", None),
            ("0-1", None),
            ("1_000", None),
            ("[1]", None),
            ("\"3\"", None),
            ("12 # note", None),
            ("5x", None),
            ("\u{661}", None),
        ] {
            let input = Value::String(text.to_string());
            let filter = match Filter::compile("[tonumber | tojson]") {
                Ok(filter) => filter,
                Err(e) => panic!("{e}"),
            };
            let got = filter.run(&input).map_err(|e| e.message().to_string());
            let want = match number {
                Some(number) => Ok(vec![json!([number])]),
                None => Err("filter: filter error: cannot parse as number".to_string()),
            };
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn natives_are_paths_where_jaqs_definitions_are() {
        for name in ["null", "type", "isnumber"] {
            let native = outputs(&format!("path({name})"));
            assert_eq!(native, outputs(&format!("path({name}_jaq)")), "{name}");
            let native = outputs(&format!("{name} |= 1"));
            assert_eq!(native, outputs(&format!("{name}_jaq |= 1")), "{name}");
        }
        // On the inputs that are not strings (the first 8); on a string,
        // the definition's error("cannot parse as number") is a path error
        // of its own where the native gives jq's "invalid path expression".
        for filter in ["path(tonumber)", "tonumber |= 1"] {
            let native = outputs(filter);
            let jaq = outputs(&filter.replace("tonumber", "tonumber_jaq"));
            let first = |outputs: &Value| outputs.as_array().map(|a| a[..8].to_vec());
            assert_eq!(first(&native), first(&jaq), "{filter}");
        }
        assert_eq!(outputs("path(tonumber)")[3], json!([[]]));
    }
}
