//! The commit: read a sink's per-record result lines, then mark exactly
//! the delivered keys in the index.

use crate::hash::{Hash, parse_hex};
use crate::index::{Entry, Index, Stamp};
use crate::key::{Key, Lookup, index_key};
use common::io::Input;
use common::result::RecordResult;
use common::{Error, Result};
use serde::de::IgnoredAny;
use serde_json::Value;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, Write};

/// One result line as the commit needs it.
#[derive(Debug)]
struct Outcome {
    key: String,
    ok: bool,
    deleted: bool,
    hash: Option<Hash>,
    remote_id: Option<String>,
}

/// Every result line of the input, read before the lock is taken. The
/// outcomes wait in a private temporary file, so that memory holds only
/// the index once it is loaded.
pub struct Results {
    name: String,
    /// Taken by [`Results::apply`].
    spill: Option<BufWriter<File>>,
    count: u64,
    /// Lines that are not result lines: line number and what is wrong.
    bad: Vec<(u64, String)>,
    /// The line number of a last line cut short (no newline, not JSON).
    truncated: Option<u64>,
}

impl std::fmt::Debug for Results {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Results")
            .field("name", &self.name)
            .field("count", &self.count)
            .finish()
    }
}

/// What a commit did, for the summary line.
#[derive(Debug, Default)]
pub struct Committed {
    pub delivered: u64,
    pub failed: u64,
    pub skipped: u64,
}

const SPILL: &str = "a temporary file in $TMPDIR";
const OK: u8 = 1;
const DELETED: u8 = 1 << 1;
const HAS_HASH: u8 = 1 << 2;
const HAS_ID: u8 = 1 << 3;

/// Read every result line. Problems with single lines are kept for after
/// the commit; only an unreadable input fails here.
pub fn read_results(input: Input) -> Result<Results> {
    let name = input.name;
    let mut reader = BufReader::with_capacity(256 * 1024, input.reader);
    let spill =
        tempfile::tempfile().map_err(|e| Error::write(format!("cannot create {SPILL}"), e))?;
    let mut results = Results {
        name,
        spill: Some(BufWriter::with_capacity(256 * 1024, spill)),
        count: 0,
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
            Ok(outcome) => results.push(&outcome)?,
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
        key,
        // A dry run delivered nothing.
        ok: result.delivered(),
        deleted,
        hash,
        remote_id: result.effective_remote_id().map(Into::into),
    })
}

impl Results {
    /// Keep one outcome: flags, key, hash and remote id.
    fn push(&mut self, outcome: &Outcome) -> Result<()> {
        let mut flags = 0;
        for (on, flag) in [
            (outcome.ok, OK),
            (outcome.deleted, DELETED),
            (outcome.hash.is_some(), HAS_HASH),
            (outcome.remote_id.is_some(), HAS_ID),
        ] {
            if on {
                flags |= flag;
            }
        }
        let Some(out) = &mut self.spill else {
            return Err(Error::software("results kept after they were applied"));
        };
        let mut write = || -> io::Result<()> {
            out.write_all(&[flags])?;
            write_text(out, &outcome.key)?;
            if let Some(hash) = &outcome.hash {
                out.write_all(hash)?;
            }
            if let Some(id) = &outcome.remote_id {
                write_text(out, id)?;
            }
            Ok(())
        };
        write().map_err(|e| Error::write(format!("writing {SPILL}"), e))?;
        self.count += 1;
        Ok(())
    }

    /// Apply the results to the index, in input order.
    pub fn apply(&mut self, index: &mut Index, now: Stamp) -> Result<Committed> {
        let mut done = Committed {
            skipped: self.bad.len() as u64 + u64::from(self.truncated.is_some()),
            ..Committed::default()
        };
        let Some(spill) = self.spill.take() else {
            return Err(Error::software("results applied twice"));
        };
        let mut file = spill
            .into_inner()
            .map_err(|e| Error::write(format!("writing {SPILL}"), e.into_error()))?;
        file.rewind()
            .map_err(|e| Error::io(format!("reading {SPILL}"), e))?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        for _ in 0..self.count {
            let outcome =
                read_outcome(&mut reader).map_err(|e| Error::io(format!("reading {SPILL}"), e))?;
            let entry = index.entries.get_mut(&Lookup(&outcome.key));
            let id = outcome.remote_id.as_deref();
            match (entry, outcome.ok) {
                (Some(entry), true) => entry.commit_ok(outcome.hash, id, outcome.deleted, now),
                (None, true) => {
                    let mut entry = Entry::default();
                    entry.commit_ok(outcome.hash, id, outcome.deleted, now);
                    index.entries.insert(Key::new(&outcome.key), entry);
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
        Ok(done)
    }

    /// Whether there is anything to apply.
    pub fn is_empty(&self) -> bool {
        self.count == 0
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

fn write_text(out: &mut impl Write, text: &str) -> io::Result<()> {
    let len = u32::try_from(text.len()).map_err(|_| io::Error::other("a key longer than 4 GB"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(text.as_bytes())
}

fn read_text(reader: &mut impl Read) -> io::Result<String> {
    let mut len = [0u8; 4];
    reader.read_exact(&mut len)?;
    let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
    reader.read_exact(&mut bytes)?;
    String::from_utf8(bytes).map_err(io::Error::other)
}

fn read_outcome(reader: &mut impl Read) -> io::Result<Outcome> {
    let mut flags = [0u8; 1];
    reader.read_exact(&mut flags)?;
    let flags = flags[0];
    let key = read_text(reader)?;
    let hash = if flags & HAS_HASH != 0 {
        let mut hash = [0u8; 32];
        reader.read_exact(&mut hash)?;
        Some(hash)
    } else {
        None
    };
    let remote_id = if flags & HAS_ID != 0 {
        Some(read_text(reader)?)
    } else {
        None
    };
    Ok(Outcome {
        key,
        ok: flags & OK != 0,
        deleted: flags & DELETED != 0,
        hash,
        remote_id,
    })
}
