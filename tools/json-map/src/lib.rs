//! json-map: transform NDJSON records with a jq filter (jaq), with lookup
//! tables from files.
#![forbid(unsafe_code)]

mod args;
mod effects;
mod json_text;
mod lookup;
mod mapper;
mod program;
mod stream;
mod supervise;

use clap::{ArgMatches, Command, CommandFactory};
use common::doc::{Example, ToolDoc};
use common::{Exit, Result};

pub use args::Args;
use args::Options;
pub use supervise::run_in_child;

// jaq allocates and frees many small values per record on every worker
// thread; mimalloc's thread-local heaps make that several times cheaper
// than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub const DOC: ToolDoc = ToolDoc {
    name: "json-map",
    description: &[include_str!("../doc/description.txt")],
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
    stream::run(Options::from_matches(matches)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command);
}
