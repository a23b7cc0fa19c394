//! The commit: read a sink's per-record result lines, then mark exactly
//! the delivered keys in the index.

use crate::diff::index_key;
use crate::hash::{Hash, parse_hex};
use crate::index::{Entry, Index, Stamp};
use common::io::Input;
use common::result::RecordResult;
use common::{Error, Result};
use serde::de::IgnoredAny;
use serde_json::Value;
use std::io::{BufRead, BufReader};

/// One result line, kept small until the lock is held.
#[derive(Debug)]
struct Outcome {
    key: Box<str>,
    ok: bool,
    deleted: bool,
    hash: Option<Hash>,
    remote_id: Option<Box<str>>,
}

/// Every result line of the input, read before the lock is taken.
#[derive(Debug)]
pub struct Results {
    name: String,
    outcomes: Vec<Outcome>,
    /// Lines that are not result lines: line number and what is wrong.
    bad: Vec<(u64, String)>,
    /// The line number of a last line cut short (no newline, not JSON).
    truncated: Option<u64>,
}

/// What a commit did, for the summary line.
#[derive(Debug, Default)]
pub struct Committed {
    pub delivered: u64,
    pub failed: u64,
    pub skipped: u64,
}

/// Read every result line. Problems with single lines are kept for after
/// the commit; only an unreadable input fails here.
pub fn read_results(input: Input) -> Result<Results> {
    let name = input.name;
    let mut reader = BufReader::with_capacity(256 * 1024, input.reader);
    let mut results = Results {
        name,
        outcomes: Vec::new(),
        bad: Vec::new(),
        truncated: None,
    };
    let mut buf = Vec::with_capacity(4096);
    let mut number = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(format!("reading {}", results.name), e))?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = buf.ends_with(b"\n");
        let mut line = buf.as_slice();
        if number == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if !complete && serde_json::from_slice::<IgnoredAny>(line).is_err() {
            // The sender was stopped while writing it: the record is sent again.
            results.truncated = Some(number);
            continue;
        }
        match parse_outcome(line) {
            Ok(outcome) => results.outcomes.push(outcome),
            Err(what) => results.bad.push((number, what)),
        }
    }
    Ok(results)
}

fn parse_outcome(line: &[u8]) -> Result<Outcome, String> {
    let result = RecordResult::parse(line)?;
    let key = match &result.key {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.len() > 1 => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) if !s.is_empty() => parts.push(s.clone()),
                    Value::Number(n) => parts.push(n.to_string()),
                    _ => return Err("_key is not a string or an array of strings".into()),
                }
            }
            index_key(parts)
        }
        _ => return Err("_key is not a string or an array of strings".into()),
    };
    let deleted = match result.op.as_deref() {
        None | Some("new" | "changed") => false,
        Some("deleted") => true,
        Some(_) => return Err("_op is not new, changed or deleted".into()),
    };
    let hash = match &result.hash {
        None => None,
        Some(text) => Some(parse_hex(text).ok_or("_hash is not 64 hex digits")?),
    };
    Ok(Outcome {
        key: key.into_boxed_str(),
        ok: result.ok,
        deleted,
        hash,
        remote_id: result.effective_remote_id().map(Into::into),
    })
}

impl Results {
    /// Apply the results to the index, in input order.
    pub fn apply(&self, index: &mut Index, now: Stamp) -> Committed {
        let mut done = Committed {
            skipped: self.bad.len() as u64 + u64::from(self.truncated.is_some()),
            ..Committed::default()
        };
        for outcome in &self.outcomes {
            let entry = index.entries.get_mut(&outcome.key);
            match (entry, outcome.ok) {
                (Some(entry), true) => {
                    entry.commit_ok(
                        outcome.hash,
                        outcome.remote_id.as_deref(),
                        outcome.deleted,
                        now,
                    );
                }
                (None, true) => {
                    let mut entry = Entry::default();
                    entry.commit_ok(
                        outcome.hash,
                        outcome.remote_id.as_deref(),
                        outcome.deleted,
                        now,
                    );
                    index.entries.insert(outcome.key.clone(), entry);
                }
                (Some(entry), false) if outcome.deleted && entry.deleted() => {
                    entry.unmark_deleted(now);
                }
                (_, false) => {}
            }
            if outcome.ok {
                done.delivered += 1;
            } else {
                done.failed += 1;
            }
        }
        done
    }

    /// Whether there is anything to apply.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// The warning for a last line cut short, if there was one.
    pub fn truncated_warning(&self) -> Option<String> {
        self.truncated.map(|line| {
            format!(
                "{}: line {line} is cut short (no newline, not JSON), as when the sender is stopped while writing; not committed, so its record is sent again",
                self.name
            )
        })
    }

    /// Exit 65 naming the lines that are not result lines, if any;
    /// `summary` says what was committed.
    pub fn bad_lines_error(&self, summary: &str) -> Option<Error> {
        const SHOWN: usize = 5;
        if self.bad.is_empty() {
            return None;
        }
        let mut text: Vec<String> = self
            .bad
            .iter()
            .take(SHOWN)
            .map(|(line, what)| format!("line {line}: {what}"))
            .collect();
        if self.bad.len() > SHOWN {
            text.push(format!("and {} more", self.bad.len() - SHOWN));
        }
        Some(Error::data(format!(
            "{}: {}; these lines are not result lines (a JSON object with _key and ok); the other lines were committed ({summary})",
            self.name,
            text.join("; ")
        )))
    }
}
