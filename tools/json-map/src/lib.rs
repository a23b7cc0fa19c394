//! json-map: transform NDJSON records with a jq filter (jaq), with lookup
//! tables from files.
#![forbid(unsafe_code)]

mod args;
mod effects;
mod lookup;
mod mapper;
mod program;
mod stream;
mod supervise;

use clap::{ArgMatches, Command, CommandFactory, FromArgMatches};
use common::doc::{Example, ToolDoc};
use common::{Error, Exit, Result};

pub use args::Args;
pub use supervise::run_in_child;

// jaq allocates and frees many small values per record on every worker
// thread; mimalloc's thread-local heaps make that several times cheaper
// than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub const DOC: ToolDoc = ToolDoc {
    name: "json-map",
    description: &[
        "The filter language is jq's, run by jaq with its standard library: paths, \
         object construction, `//`, `select`, `map`, `reduce`, string functions, regular \
         expressions (test, match, capture, sub, gsub), dates (strftime, strptime, todate, \
         fromdate, now), formats (@base64, @csv, @tsv, @json, @uri, @html, @sh), `env` and \
         `$ENV`. `input`, `inputs`, `include` and `import` are not available; use --slurp \
         or --lookup instead.",
        "Input is NDJSON: one JSON value per line; blank lines are skipped, a BOM and CR \
         line ends are accepted. Lines must be strict JSON. Output is one compact JSON line \
         per result, in input order. Object keys keep their order and numbers keep their \
         digits: 12345678901234567890123 and 1.50 come out as they went in.",
        "Arrays and objects nest at most 128 levels deep, the limit of every tool (a \
         record's object is level 1): a deeper input line, or a result the filter built \
         deeper, fails its record with exit 65 like any bad record. The same limit holds \
         for --lookup JSON files (65 naming the file and line) and --argjson values (64). \
         With --slurp the array that holds the records is a level too, so a record 128 \
         levels deep is read but the array itself cannot be written whole. `tonumber` takes a \
         string only when the whole of it, with nothing trimmed, is one JSON number \
         (leading zeros allowed, as in jq 1.7): \"48226-1234\", \" 5\", \"+5.43\" and \"nan\" \
         fail their record instead of giving several numbers or one JSON cannot hold.",
        "Inside the filter values may nest deeper, but jaq walks them by recursion: a \
         filter that runs out of stack (a recursion without end such as `def f: [f]; f`, \
         or a value built hundreds of thousands of levels deep and then printed, compared \
         or dropped) ends the run at once with exit 65 and one line on stderr, with \
         --keep-going too: no later record is mapped and nothing of that record or after \
         it is written. Results are written in order a chunk at a time, so the results of \
         some records just before it may be missing (with --slurp and --null-input, all \
         of them), and if stdout is a pipe its last line may be cut short. To make this \
         safe, json-map runs the filter in a child process of itself (marked by \
         JSON_MAP_CHILD in its environment, which `env` and `$ENV` leave out) that shares \
         its stdin and stdout; the child's stderr lines pass through as they are, and \
         the child ends when json-map is killed.",
        "Records are processed in parallel chunks on all CPUs and written in input order. \
         Without --keep-going the first record that fails (bad JSON or a filter error) \
         stops the run with exit 65 after the results of the records before it were \
         written. With --keep-going each failing record is reported on stderr (file, line, \
         kind of error), written to --rejects FILE if given, and skipped; the run goes on \
         and exits 65 at the end if any record failed, so that cron notices while the good \
         records are still delivered.",
        "Error messages name the file and line and describe the error by the types \
         involved (`cannot index a string with a string`), never by the values, which may \
         be patient data. A message written in the filter, such as error(\"unknown \
         facility\"), is shown as written. --show-values shows jaq's full messages.",
        "`debug`, `debug(msg)` and `stderr` print, for each call, one line on stderr naming \
         the file, line and type of the value but not the value (`json-map: debug: in.ndjson: \
         line 3: a string (value hidden; --show-values shows it)`); a string written in the \
         filter, as in debug(\"zip checked\"), is shown. With --show-values they print what \
         jq prints: `[\"DEBUG:\",VALUE]` lines, and for stderr the value itself (a string raw, \
         no newline). These lines come out in input order.",
        "`halt` stops the run: the results of the records before it, and of its own record \
         up to the call, are written, no later record is read, and json-map exits 0. \
         `halt_error` does the same but exits 5 (`halt_error(N)`: N, 0 to 255) with a \
         one-line message naming the file and line; its input, the message, is shown only \
         if it is a string written in the filter or with --show-values, else the message \
         says its type. Both stop the run with --keep-going too.",
    ],
    examples: &[
        Example {
            what: "ReqCheck: wrap all extracted patient rows in one payload object",
            command: "json-map --slurp '{patient_data: .}' patients.ndjson",
        },
        Example {
            what: "ReportStream: map race to CDC codes with a lookup table",
            command: "json-map --lookup race=race_codes.json '.Patient_race = $race[.race]' events.ndjson",
        },
        Example {
            what: "Primero to OSCaR: zero-pad the village code to 8 digits",
            command: "json-map '.village_code |= (\"00000000\" + tostring)[-8:]' cases.ndjson",
        },
        Example {
            what: "ReqCheck heartbeat: extract the last import date as plain text",
            command: "json-map -r '.last_update_date // \"1970-01-01\"' heartbeat.json",
        },
    ],
    environment: &[(
        "(any)",
        "The filter can read the environment through `env` and `$ENV`.",
    )],
    auth: &[],
    security: &[],
    exit_codes: &[Exit::Usage, Exit::Data, Exit::NoInput, Exit::Io],
    other_exit_status: &[
        (
            "5 (or N)",
            "The filter called halt_error (exit 5) or halt_error(N) (exit N). Output already written stays written; nothing after the halting input is read.",
        ),
        (
            "128+N",
            "The process running the filter was ended by signal N from outside, as a shell reports it (143 for SIGTERM, 137 for SIGKILL, as from the kernel's out-of-memory killer). Output may stop at any record.",
        ),
    ],
    broken_pipe: None,
    see_also: &["csv-shape(1)", "batch-split(1)", "jq(1)", "jaq(1)"],
};

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let args = Args::from_arg_matches(matches).map_err(|e| Error::usage(e.to_string()))?;
    stream::run(args.into_config()?)
}
