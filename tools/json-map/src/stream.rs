//! Feeding records through the filter.
//!
//! Per-record mode runs in ordered parallel chunks: a reader thread cuts the
//! input into chunks of lines, worker threads (each with its own compiled
//! filter) parse, filter and serialise a chunk into bytes, and the calling
//! thread writes chunks strictly in input order. The channels are bounded,
//! so memory stays flat however long the input. A failing record stops its
//! chunk; since chunks are written in order, the first failure in input
//! order is the one reported and nothing after it is written.

use crate::args::{Mode, Options};
use crate::effects;
use crate::mapper::{Halt, Mapper, Settings, Stop, parse_line};
use crate::program::Program;
use common::error::Location;
use common::io::{AtomicFile, Input, Output, open_input};
use common::ndjson::LineReader;
use common::{Error, Result};
use jaq_json::Val;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

const CHUNK_LINES: usize = 4096;
const CHUNK_BYTES: usize = 1 << 20;
/// The stack of a thread that runs the filter. Records and results nest no
/// deeper than `common::ndjson::MAX_DEPTH`, but a filter can build deeper
/// values in between, which jaq compares, prints (`tojson`) and walks by
/// recursion. Only the pages used are ever allocated.
const EVAL_STACK: usize = 256 << 20;

pub fn run(options: Options) -> Result<()> {
    let settings = Settings {
        raw_output: options.raw_output,
        show_values: options.show_values,
    };
    match options.mode {
        Mode::PerRecord => run_parallel(options, settings),
        Mode::NullInput | Mode::Slurp => {
            let once = spawn("json-map-filter".to_string(), EVAL_STACK, move || {
                run_whole(&options, settings)
            })?;
            once.join()
                .map_err(|_| Error::software("the filter's thread panicked"))?
        }
    }
}

/// Run the filter once on null (--null-input) or on every record (--slurp).
fn run_whole(options: &Options, settings: Settings) -> Result<()> {
    if matches!(options.mode, Mode::NullInput) {
        return run_once(&options.program, settings, None, Val::Null);
    }
    let input = open_input(options.input.as_deref())?;
    let name = input.name.clone();
    let records = read_all(input)?;
    run_once(&options.program, settings, Some(&name), records)
}

/// Run the filter once (for --null-input and --slurp).
fn run_once(program: &Program, settings: Settings, file: Option<&str>, input: Val) -> Result<()> {
    let filter = program.compile()?;
    let mapper = Mapper::new(program, &filter, program.vars()?, settings, file);
    let mut buffer = Vec::new();
    let result = mapper.run(input, &mut buffer);
    let mut printed = Vec::new();
    effects::take_stderr(&mut printed);
    write_stderr(&printed);
    let halt = match result {
        Ok(()) => None,
        Err(Stop::Halted(halt)) => Some(halt),
        Err(Stop::Failed(e)) => {
            return Err(match file {
                Some(file) => Error::data_at(&Location::file(file), e.message()),
                None => e,
            });
        }
    };
    let mut out = Output::stdout();
    out.write_all(&buffer)
        .map_err(|e| Error::write("writing <stdout>", e))?;
    out.finish()?;
    halt.map_or(Ok(()), Halt::finish)
}

/// What the filter printed with `debug` or `stderr`.
fn write_stderr(bytes: &[u8]) {
    if !bytes.is_empty() {
        let _ = std::io::stderr().lock().write_all(bytes);
    }
}

/// Every record of the input as one array.
fn read_all(input: Input) -> Result<Val> {
    let name = input.name.clone();
    let mut reader = LineReader::new(input);
    let mut records = Vec::new();
    while let Some((line, bytes)) = reader.next_line()? {
        records.push(parse_line(bytes, &name, line)?);
    }
    Ok(Val::from_iter(records))
}

/// Lines of input with their line numbers, in one buffer.
struct Chunk {
    seq: u64,
    text: Vec<u8>,
    lines: Vec<(u64, usize, usize)>,
}

impl Chunk {
    fn new(seq: u64) -> Self {
        Chunk {
            seq,
            text: Vec::with_capacity(CHUNK_BYTES + 4096),
            lines: Vec::with_capacity(CHUNK_LINES),
        }
    }
}

/// A chunk's output, and the records of it that failed.
struct Mapped {
    seq: u64,
    out: Vec<u8>,
    /// What `debug` and `stderr` printed.
    stderr: Vec<u8>,
    records: u64,
    failures: Vec<Failure>,
    /// The record that called `halt` or `halt_error`, the chunk's last.
    halt: Option<Halt>,
}

struct Failure {
    message: String,
    line_text: Vec<u8>,
}

fn run_parallel(options: Options, settings: Settings) -> Result<()> {
    let input = open_input(options.input.as_deref())?;
    let name: Arc<str> = input.name.clone().into();
    let mut rejects = options
        .rejects
        .as_deref()
        .map(AtomicFile::create)
        .transpose()?;
    let keep_going = options.keep_going;
    let program = Arc::new(options.program);
    let workers = options.threads;

    let stop = Arc::new(AtomicBool::new(false));
    let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(workers * 2);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let (mapped_tx, mapped_rx) = sync_channel::<Result<Mapped>>(workers * 2);
    for i in 0..workers {
        let job = Worker {
            program: Arc::clone(&program),
            settings,
            keep_going,
            file: Arc::clone(&name),
            chunks: Arc::clone(&chunk_rx),
            results: mapped_tx.clone(),
            stop: Arc::clone(&stop),
        };
        spawn(format!("json-map-worker-{i}"), EVAL_STACK, move || {
            job.run()
        })?;
    }
    // Only the workers hold these now: when they are gone the reader stops.
    drop(chunk_rx);
    drop(mapped_tx);
    let reader = {
        let stop = Arc::clone(&stop);
        spawn("json-map-reader".to_string(), READER_STACK, move || {
            read_chunks(input, chunk_tx, stop)
        })?
    };

    let mut out = Output::stdout();
    let written = write_in_order(mapped_rx, &mut out, rejects.as_mut(), keep_going, &name);
    let summary = match written {
        Ok(summary) => summary,
        Err(e) => {
            // Not joined: the reader may be waiting on a slow stdin.
            stop.store(true, Ordering::Relaxed);
            return Err(e);
        }
    };
    if summary.halt.is_some() {
        // The filter stopped the run: read no more (nor wait for the reader).
        stop.store(true, Ordering::Relaxed);
    } else {
        reader
            .join()
            .map_err(|_| Error::software("the input reader thread panicked"))??;
    }
    out.finish()?;
    if let Some(rejects) = rejects {
        rejects.commit()?;
    }
    let failed = (summary.failed > 0).then(|| {
        let saved = match &options.rejects {
            Some(path) => format!(" and were written to {}", path.display()),
            None => String::new(),
        };
        Error::data(format!(
            "{name}: {} of {} records failed (reported above){saved}; the other records were written",
            summary.failed, summary.records
        ))
    });
    match (summary.halt, failed) {
        (None, None) => Ok(()),
        (None, Some(failed)) => Err(failed),
        (Some(halt), None) => halt.finish(),
        // Both are said; the filter's own exit code wins unless it is 0.
        (Some(halt), Some(failed)) => match halt.finish() {
            Ok(()) => Err(failed),
            Err(halted) => {
                common::cli::warn("json-map", failed.message());
                Err(halted)
            }
        },
    }
}

/// The reader's stack: it only cuts lines (std's default).
const READER_STACK: usize = 2 << 20;

fn spawn<T: Send + 'static>(
    name: String,
    stack: usize,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<std::thread::JoinHandle<T>> {
    std::thread::Builder::new()
        .name(name)
        .stack_size(stack)
        .spawn(job)
        .map_err(|e| Error::software(format!("cannot start a thread: {e}")))
}

/// Cut the input into chunks of lines, numbered in order.
fn read_chunks(input: Input, chunks: SyncSender<Chunk>, stop: Arc<AtomicBool>) -> Result<()> {
    let mut reader = LineReader::new(input);
    let mut chunk = Chunk::new(0);
    while let Some((line, bytes)) = reader.next_line()? {
        let start = chunk.text.len();
        chunk.text.extend_from_slice(bytes);
        chunk.lines.push((line, start, chunk.text.len()));
        if chunk.lines.len() >= CHUNK_LINES || chunk.text.len() >= CHUNK_BYTES {
            let next = Chunk::new(chunk.seq + 1);
            if chunks.send(std::mem::replace(&mut chunk, next)).is_err()
                || stop.load(Ordering::Relaxed)
            {
                return Ok(());
            }
        }
    }
    if !chunk.lines.is_empty() {
        let _ = chunks.send(chunk);
    }
    Ok(())
}

struct Worker {
    program: Arc<Program>,
    settings: Settings,
    keep_going: bool,
    file: Arc<str>,
    chunks: Arc<Mutex<Receiver<Chunk>>>,
    results: SyncSender<Result<Mapped>>,
    stop: Arc<AtomicBool>,
}

impl Worker {
    fn run(self) {
        let prepared = self
            .program
            .compile()
            .and_then(|filter| Ok((filter, self.program.vars()?)));
        let (filter, vars) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => {
                let _ = self.results.send(Err(e));
                return;
            }
        };
        let mapper = Mapper::new(
            &self.program,
            &filter,
            vars,
            self.settings,
            Some(&self.file),
        );
        loop {
            let chunk = match self.chunks.lock() {
                Ok(chunks) => chunks.recv(),
                Err(_) => return,
            };
            let Ok(chunk) = chunk else { return };
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            let mapped = self.map_chunk(&mapper, &chunk);
            if self.results.send(Ok(mapped)).is_err() {
                return;
            }
        }
    }

    fn map_chunk(&self, mapper: &Mapper<'_>, chunk: &Chunk) -> Mapped {
        let mut out = Vec::with_capacity(chunk.text.len() + chunk.text.len() / 4);
        let mut failures = Vec::new();
        let mut records = 0;
        let mut halt = None;
        for &(line, start, end) in &chunk.lines {
            let bytes = &chunk.text[start..end];
            records += 1;
            match mapper.map_line(&self.file, line, bytes, &mut out) {
                Ok(()) => {}
                Err(Stop::Failed(e)) => {
                    failures.push(Failure {
                        message: e.message().to_string(),
                        line_text: bytes.to_vec(),
                    });
                    if !self.keep_going {
                        break;
                    }
                }
                Err(Stop::Halted(halted)) => {
                    halt = Some(halted);
                    break;
                }
            }
        }
        let mut stderr = Vec::new();
        effects::take_stderr(&mut stderr);
        Mapped {
            seq: chunk.seq,
            out,
            stderr,
            records,
            failures,
            halt,
        }
    }
}

struct Summary {
    records: u64,
    failed: u64,
    /// The filter called `halt` or `halt_error`; later records are not read.
    halt: Option<Halt>,
}

/// Write chunks in input order; report failures in that order too.
fn write_in_order(
    mapped: Receiver<Result<Mapped>>,
    out: &mut Output,
    mut rejects: Option<&mut AtomicFile>,
    keep_going: bool,
    name: &str,
) -> Result<Summary> {
    let mut pending = BTreeMap::new();
    let mut next = 0;
    let mut summary = Summary {
        records: 0,
        failed: 0,
        halt: None,
    };
    for result in mapped {
        let chunk = result?;
        pending.insert(chunk.seq, chunk);
        while let Some(chunk) = pending.remove(&next) {
            next += 1;
            write_stderr(&chunk.stderr);
            // Flushed per chunk: if a later record runs the filter out of
            // stack, the process ends at once and what is buffered is lost.
            out.write_all(&chunk.out)
                .and_then(|()| out.flush())
                .map_err(|e| Error::write("writing <stdout>", e))?;
            summary.records += chunk.records;
            for failure in chunk.failures {
                if !keep_going {
                    return Err(Error::data(failure.message));
                }
                summary.failed += 1;
                common::cli::warn("json-map", &failure.message);
                if let Some(rejects) = rejects.as_deref_mut() {
                    rejects
                        .write_all(&failure.line_text)
                        .and_then(|()| rejects.write_all(b"\n"))
                        .map_err(|e| Error::write(format!("writing rejects for {name}"), e))?;
                }
            }
            if chunk.halt.is_some() {
                summary.halt = chunk.halt;
                return Ok(summary);
            }
        }
    }
    if !pending.is_empty() {
        return Err(Error::software("a worker thread stopped before its chunk"));
    }
    Ok(summary)
}
