//! The load: every record in one transaction (or each in its own with
//! --each-commit), a savepoint around each so that every failing record is
//! found in one run, and the result lines written once the outcome is final.

use crate::TOOL;
use crate::args::{Mode, Options};
use crate::input::{Loaded, Record, SPOOL};
use crate::store::{Bind, ROW_SAVEPOINT, RowFailure, Store};
use crate::table::{Plan, Table};
use common::io::Output;
use common::result::RecordResult;
use common::{Error, Exit, Result, cli};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek};

pub fn load(
    options: &Options,
    plan: &mut Plan,
    table: &Table,
    loaded: Loaded,
    store: &mut dyn Store,
) -> Result<()> {
    let total = loaded.count;
    // A dry run keeps everything in one transaction, to roll it back.
    let one_transaction = !options.each_commit || options.dry_run;
    let mut results = Results::new(!one_transaction)?;
    if one_transaction {
        store.begin()?;
    }
    let run = apply_all(options, plan, table, loaded, store, &mut results);
    let failed = match run {
        Ok(failed) => failed,
        Err(e) => {
            if one_transaction {
                // The error already says what failed; the server rolls back anyway on disconnect.
                let _ = store.batch("ROLLBACK");
            }
            // Rows committed one by one keep their result lines; the others get none.
            results.abandon()?;
            return Err(e);
        }
    };
    let done = options.mode.done();
    let rows = |n: u64| common::text::count(n, "row", "rows");
    if one_transaction {
        if options.dry_run || failed > 0 {
            store.batch("ROLLBACK")?;
            let why = (failed > 0 && !options.each_commit).then_some(ROLLED_BACK);
            results.finish(why)?;
        } else {
            match store.batch("COMMIT") {
                Ok(()) => results.finish(None)?,
                Err(e) if e.exit() == Exit::Data => {
                    // A deferred constraint: the engine rolled everything back.
                    results.finish(Some("rolled back: the commit failed"))?;
                    return Err(e.context(format!(
                        "{}: the commit failed, nothing was applied",
                        table.display
                    )));
                }
                Err(e) => return Err(e),
            }
        }
    } else {
        results.finish(None)?;
    }
    let table = &table.display;
    let dry = if options.dry_run { " (dry run)" } else { "" };
    if failed == 0 {
        if options.dry_run {
            cli::info(
                TOOL,
                format!(
                    "{table}: dry run: {} would be {done}; rolled back",
                    rows(total)
                ),
            );
        } else {
            cli::info(TOOL, format!("{table}: {} {done}", rows(total)));
        }
        return Ok(());
    }
    let failing = format!("{table}: {failed} of {} failed (listed above)", rows(total));
    Err(Error::data(if options.each_commit {
        let verb = if options.dry_run {
            "would have been"
        } else {
            "were"
        };
        format!(
            "{failing}; the other {} {verb} {done}{dry}",
            rows(total - failed)
        )
    } else {
        format!("{failing}; nothing was applied, the transaction was rolled back{dry}")
    }))
}

/// The error of a record that was fine, when another one failed.
const ROLLED_BACK: &str = "rolled back: another row failed";

/// Apply every record; the number that failed.
fn apply_all(
    options: &Options,
    plan: &mut Plan,
    table: &Table,
    loaded: Loaded,
    store: &mut dyn Store,
    results: &mut Results,
) -> Result<u64> {
    let own_transactions = options.each_commit && !options.dry_run;
    let mut failed = 0;
    for record in loaded.records()? {
        let record = record?;
        if own_transactions {
            store.begin()?;
        }
        let mut failure = apply(plan, table, store, &record)?;
        if own_transactions {
            if failure.is_some() {
                store.batch("ROLLBACK")?;
            } else if let Err(e) = store.batch("COMMIT") {
                if e.exit() != Exit::Data {
                    return Err(e);
                }
                failure = Some(RowFailure::new(Vec::new(), "the commit failed"));
            }
        }
        if let Some(f) = &failure {
            failed += 1;
            let columns = if f.columns.is_empty() {
                table.display.clone()
            } else {
                f.columns.join(",")
            };
            cli::info(TOOL, format!("Row {}: {columns}: {}", record.row, f.reason));
        }
        results.push(&result_for(&record, failure.as_ref(), options.dry_run))?;
    }
    Ok(failed)
}

/// One record, inside its savepoint: None when it was applied.
fn apply(
    plan: &mut Plan,
    table: &Table,
    store: &mut dyn Store,
    record: &Record,
) -> Result<Option<RowFailure>> {
    let column = |plan: &Plan, field: usize| table.columns[plan.field_columns[field]].name.clone();
    for &k in &plan.key_fields {
        match record.value(k) {
            None => {
                return Ok(Some(RowFailure::new(
                    vec![column(plan, k)],
                    "the record has no such field, and it is part of the key",
                )));
            }
            Some(v) if v.is_empty() => {
                return Ok(Some(RowFailure::new(
                    vec![column(plan, k)],
                    "the key is empty",
                )));
            }
            Some(_) => {}
        }
    }
    let present: Vec<usize> = (0..plan.field_columns.len())
        .filter(|&f| record.value(f).is_some())
        .collect();
    let Some(statement) = plan.statement(&present, table) else {
        return Ok(Some(RowFailure::new(
            Vec::new(),
            "nothing to update: the record has no field besides the key",
        )));
    };
    let binds: Vec<Bind<'_>> = statement
        .params
        .iter()
        .map(|&f| (plan.field_columns[f], record.value(f)))
        .collect();
    store.batch(&format!("SAVEPOINT {ROW_SAVEPOINT}"))?;
    let failure = match store.execute(&statement.sql, &binds)? {
        Err(failure) => Some(failure),
        Ok(matched) if plan.mode == Mode::Update && matched != 1 => {
            let key: Vec<String> = plan.key_fields.iter().map(|&k| column(plan, k)).collect();
            Some(RowFailure::new(
                key,
                if matched == 0 {
                    "no row has this key".to_string()
                } else {
                    format!("the key matches {matched} rows, not one")
                },
            ))
        }
        Ok(_) => None,
    };
    if failure.is_some() {
        store.batch(&format!("ROLLBACK TO SAVEPOINT {ROW_SAVEPOINT}"))?;
    }
    store.batch(&format!("RELEASE SAVEPOINT {ROW_SAVEPOINT}"))?;
    Ok(failure)
}

fn result_for(record: &Record, failure: Option<&RowFailure>, dry_run: bool) -> RecordResult {
    RecordResult {
        key: record.key.clone(),
        op: record.op.clone(),
        hash: record.hash.clone(),
        known_remote_id: record.remote_id.clone(),
        ok: failure.is_none(),
        error: failure.map(|f| {
            if f.columns.is_empty() {
                f.reason.clone()
            } else {
                format!("{}: {}", f.columns.join(","), f.reason)
            }
        }),
        dry_run,
        ..RecordResult::default()
    }
}

/// Result lines: written at once when each record commits on its own, else
/// kept in a private temporary file until the transaction has ended, so
/// that no ok line is written for a row that was not committed.
enum Results {
    Now(Output),
    Later(BufWriter<File>),
}

impl Results {
    fn new(now: bool) -> Result<Results> {
        if now {
            return Ok(Results::Now(Output::stdout()));
        }
        let file =
            tempfile::tempfile().map_err(|e| Error::write(format!("cannot create {SPOOL}"), e))?;
        Ok(Results::Later(BufWriter::with_capacity(256 * 1024, file)))
    }

    fn push(&mut self, result: &RecordResult) -> Result<()> {
        match self {
            Results::Now(out) => result
                .write_to(out)
                .map_err(|e| Error::write("writing <stdout>", e)),
            Results::Later(spool) => result
                .write_to(spool)
                .map_err(|e| Error::write(format!("writing {SPOOL}"), e)),
        }
    }

    /// After an error that stops the run: the lines of rows already
    /// committed are flushed, kept lines are dropped (nothing was committed).
    fn abandon(self) -> Result<()> {
        match self {
            Results::Now(out) => out.finish(),
            Results::Later(_) => Ok(()),
        }
    }

    /// Write the kept lines to stdout; with `rolled_back`, every record that
    /// was fine is marked failed with that reason.
    fn finish(self, rolled_back: Option<&str>) -> Result<()> {
        let spool = match self {
            Results::Now(out) => return out.finish(),
            Results::Later(spool) => spool,
        };
        let mut file = spool
            .into_inner()
            .map_err(|e| Error::write(format!("writing {SPOOL}"), e.into_error()))?;
        file.rewind()
            .map_err(|e| Error::io(format!("reading {SPOOL}"), e))?;
        let mut out = Output::stdout();
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| Error::io(format!("reading {SPOOL}"), e))?;
            let mut result: RecordResult = serde_json::from_str(&line).map_err(|_| {
                Error::software(format!("{SPOOL} holds a line db-load cannot read"))
            })?;
            if let Some(why) = rolled_back
                && result.ok
            {
                result.ok = false;
                result.error = Some(why.to_string());
            }
            result
                .write_to(&mut out)
                .map_err(|e| Error::write("writing <stdout>", e))?;
        }
        out.finish()
    }
}
