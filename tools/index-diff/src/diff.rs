//! The diff: read every record, decide its op against the index, spill
//! the output to a private temporary file, write the index, release the
//! lock, then copy the output to stdout.

use crate::args::{DiffOptions, Format, OnDuplicate};
use crate::hash::{Hash, push_hex};
use crate::index::{Entry, Index, Seen, Stamp, now_stamp};
use crate::key::{Key, Lookup};
use crate::read::{self, Decider};
use crate::{TOOL, count, mint};
use common::io::{Input, Output};
use common::ndjson::write_json_string;
use common::{Error, Result, cli};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};

/// What the diff found, for the summary line.
#[derive(Debug, Default)]
pub struct Counts {
    pub records: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub duplicates: u64,
}

/// The output, spilled while reading: lines, and the input row of each.
struct Spill {
    file: BufWriter<File>,
    rows: Vec<u64>,
    /// Rows whose record a later one with the same key replaced.
    superseded: HashSet<u64>,
}

/// Decides ops and writes output lines while the input is read.
struct Differ<'a> {
    options: &'a DiffOptions,
    index: &'a mut Index,
    spill: Spill,
    now: Stamp,
    file: String,
    show_values: bool,
    /// The index must be written: ids minted, baselines recorded.
    dirty: bool,
    records: u64,
    duplicates: u64,
    line: Vec<u8>,
    /// Where the next record's entry probably is.
    next: usize,
}

/// The result of reading the input, before anything is written.
pub struct Diffed {
    spill: Spill,
    pub dirty: bool,
    pub counts: Counts,
}

impl std::fmt::Debug for Diffed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Diffed")
            .field("dirty", &self.dirty)
            .finish()
    }
}

/// Read the whole input and decide every op. Nothing reaches stdout and
/// the index file is not touched: on any error, nothing has happened.
pub fn diff(
    options: &DiffOptions,
    index: &mut Index,
    input: Input,
    show_values: bool,
) -> Result<Diffed> {
    let spill_file = tempfile::tempfile()
        .map_err(|e| Error::write("cannot create a temporary file in $TMPDIR", e))?;
    let file = input.name.clone();
    let mut differ = Differ {
        options,
        spill: Spill {
            file: BufWriter::with_capacity(256 * 1024, spill_file),
            rows: Vec::new(),
            superseded: HashSet::new(),
        },
        now: now_stamp(),
        file,
        show_values,
        dirty: !index.existed,
        index,
        records: 0,
        duplicates: 0,
        line: Vec::with_capacity(256),
        next: 0,
    };
    read::read_all(options, input, &mut differ)?;
    differ.finish()
}

impl Decider for Differ<'_> {
    type Decision = (Seen, Option<String>);

    fn decide(&mut self, row: u64, key: &str, hash: Hash) -> Result<Option<Self::Decision>> {
        self.decide_op(key, hash, row)
    }

    fn emit(
        &mut self,
        row: u64,
        key: &str,
        hash: Hash,
        decision: Self::Decision,
        fields: &[u8],
    ) -> Result<()> {
        self.spill_line(row, key, fields, decision, &hash)
    }
}

impl Differ<'_> {
    /// Decide a record's op and update its index entry; the op and remote
    /// id when the record is to be emitted.
    fn decide_op(
        &mut self,
        key: &str,
        hash: Hash,
        row: u64,
    ) -> Result<Option<(Seen, Option<String>)>> {
        self.records += 1;
        let emit = self.options.emit;
        let entries = &mut self.index.entries;
        // Records mostly come in the order of the index (which kept the
        // order they came in before): try the entry after the last one
        // found before a lookup in the hash table.
        let position = match entries.get_index(self.next) {
            Some((known, _)) if known.as_bytes() == key.as_bytes() => Some(self.next),
            _ => entries.get_index_of(&Lookup(key)),
        };
        let entry = match position {
            Some(i) => {
                self.next = i + 1;
                &mut entries[i]
            }
            None => {
                let minted = match self.options.mint {
                    Some(kind) if emit.new => Some(mint::mint(kind)),
                    _ => None,
                };
                let entry = match minted {
                    Some(id) => {
                        self.dirty = true;
                        Entry::pending(Some(id), self.now)
                    }
                    None => Entry::this_run_only(),
                };
                let (i, _) = entries.insert_full(Key::new(key), entry);
                self.next = i + 1;
                &mut entries[i]
            }
        };
        if entry.row != 0 {
            let earlier = entry.row;
            match self.options.on_duplicate {
                OnDuplicate::Error => {
                    let shown = if self.show_values {
                        format!(" ({key})")
                    } else {
                        String::new()
                    };
                    let units = match self.options.from {
                        Format::Ndjson => "lines",
                        Format::Csv => "rows",
                    };
                    return Err(Error::data(format!(
                        "{}: {units} {earlier} and {row} have the same key{shown} in column {}; nothing was emitted (--on-duplicate last keeps the last)",
                        self.file,
                        self.options.key.join(",")
                    )));
                }
                OnDuplicate::Last => {
                    self.spill.superseded.insert(earlier);
                    self.duplicates += 1;
                }
            }
        }
        let op = if entry.transient() || !entry.delivered() {
            Seen::New
        } else if entry.deleted() {
            Seen::Changed
        } else {
            match entry.delivered_hash() {
                None => {
                    entry.set_baseline(hash, self.now);
                    self.dirty = true;
                    Seen::Unchanged
                }
                Some(known) if *known == hash => Seen::Unchanged,
                Some(_) => Seen::Changed,
            }
        };
        entry.mark_seen(op, row);
        let emitted = match op {
            Seen::New => emit.new,
            Seen::Changed => emit.changed,
            Seen::Unchanged => false,
        };
        if !emitted {
            return Ok(None);
        }
        if op == Seen::New && entry.remote_id().is_none() && !entry.transient() {
            // A pending key without an id (as SIPCA may hold): mint it now.
            if let Some(kind) = self.options.mint {
                entry.set_remote_id(mint::mint(kind), self.now);
                self.dirty = true;
            }
        }
        Ok(Some((op, entry.remote_id().map(str::to_string))))
    }

    /// Spill an output line: the record's fields, then index-diff's.
    fn spill_line(
        &mut self,
        row: u64,
        key: &str,
        fields: &[u8],
        (op, remote_id): (Seen, Option<String>),
        hash: &Hash,
    ) -> Result<()> {
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(b"\"_key\":");
        if self.options.key.len() > 1 {
            // index_key made it a JSON array already.
            line.extend_from_slice(key.as_bytes());
        } else {
            write_json_string(line, key.as_bytes());
        }
        line.extend_from_slice(match op {
            Seen::New => b",\"_op\":\"new\"",
            _ => b",\"_op\":\"changed\"",
        });
        line.extend_from_slice(b",\"_remote_id\":");
        match &remote_id {
            Some(id) => write_json_string(line, id.as_bytes()),
            None => line.extend_from_slice(b"null"),
        }
        line.extend_from_slice(b",\"_hash\":\"");
        push_hex(line, hash);
        line.extend_from_slice(b"\"}\n");
        self.spill
            .file
            .write_all(fields)
            .and_then(|()| self.spill.file.write_all(line))
            .map_err(|e| Error::write("writing a temporary file in $TMPDIR", e))?;
        self.spill.rows.push(row);
        Ok(())
    }

    /// After the input: refuse an empty snapshot, mark deleted keys, count.
    fn finish(self) -> Result<Diffed> {
        let Differ {
            options,
            index,
            spill,
            now,
            file,
            mut dirty,
            records,
            duplicates,
            ..
        } = self;
        if records == 0 && options.emit.deleted && !options.allow_empty && index.has_live_keys() {
            return Err(Error::data(format!(
                "{file}: the input has no records; with --emit deleted that would mark every key of the index deleted (give --allow-empty if that is meant)"
            )));
        }
        let mut counts = Counts {
            records,
            duplicates,
            ..Counts::default()
        };
        for entry in index.entries.values_mut() {
            match entry.seen() {
                Some(Seen::New) => counts.new += 1,
                Some(Seen::Changed) => counts.changed += 1,
                Some(Seen::Unchanged) => counts.unchanged += 1,
                None if options.emit.deleted && !entry.transient() && !entry.deleted() => {
                    entry.mark_deleted_now(now);
                    counts.deleted += 1;
                    dirty = true;
                }
                None => {}
            }
        }
        Ok(Diffed {
            spill,
            dirty,
            counts,
        })
    }
}

impl Diffed {
    /// Warn about deleted keys, then copy the spilled output and the
    /// deleted records to stdout.
    pub fn write_output(self, index: &Index, composite: bool) -> Result<()> {
        for (key, _) in index.entries.iter().filter(|(_, e)| e.deleted_now()) {
            cli::warn(
                TOOL,
                format!(
                    "key {key} is gone from the input; marked deleted in the index (remove it remotely)"
                ),
            );
        }
        let Spill {
            file,
            rows,
            superseded,
        } = self.spill;
        let mut file = file
            .into_inner()
            .map_err(|e| Error::write("writing a temporary file in $TMPDIR", e.into_error()))?;
        file.rewind()
            .map_err(|e| Error::io("reading a temporary file in $TMPDIR", e))?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let mut out = Output::stdout();
        let write_error = |e| Error::write("writing <stdout>", e);
        let mut line = Vec::with_capacity(4096);
        for row in rows {
            line.clear();
            reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io("reading a temporary file in $TMPDIR", e))?;
            if !superseded.contains(&row) {
                out.write_all(&line).map_err(write_error)?;
            }
        }
        for (key, entry) in index.entries.iter().filter(|(_, e)| e.deleted_now()) {
            line.clear();
            line.extend_from_slice(b"{\"_key\":");
            push_key(&mut line, key.as_str(), composite);
            line.extend_from_slice(b",\"_op\":\"deleted\",\"_remote_id\":");
            match entry.remote_id() {
                Some(id) => write_json_string(&mut line, id.as_bytes()),
                None => line.extend_from_slice(b"null"),
            }
            line.extend_from_slice(b"}\n");
            out.write_all(&line).map_err(write_error)?;
        }
        out.finish()
    }
}

impl Counts {
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{}: {} new, {} changed, {} unchanged, {} deleted",
            count(self.records, "record", "records"),
            self.new,
            self.changed,
            self.unchanged,
            self.deleted
        );
        if self.duplicates > 0 {
            text.push_str(&format!(
                " ({} replaced by a later one with the same key)",
                count(self.duplicates, "record", "records")
            ));
        }
        text
    }
}

/// Append a key as `_key`: a string, or for a composite key the array its
/// index key is (a key that is not such an array stays a string).
fn push_key(out: &mut Vec<u8>, key: &str, composite: bool) {
    if composite && serde_json::from_str::<Vec<String>>(key).is_ok() {
        out.extend_from_slice(key.as_bytes());
    } else {
        write_json_string(out, key.as_bytes());
    }
}
