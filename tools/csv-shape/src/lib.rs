//! csv-shape: select, rename, reorder, validate and filter columns; CSV <-> NDJSON.
#![forbid(unsafe_code)]

mod args;
mod filter;
mod plan;
mod read;
mod record;
mod sink;
mod types;

use args::{Args, Format, Options};
use clap::{ArgMatches, Command, CommandFactory};
use common::doc::{Example, ToolDoc};
use common::{Exit, Result};

pub const DOC: ToolDoc = ToolDoc {
    name: "csv-shape",
    description: &[include_str!("../doc/description.txt")],
    examples: &[
        Example {
            what: "EOD flow: the master patient file, car_number a 1-based sequence, columns the database no longer has written empty in place",
            command: "csv-shape --columns-file pipelines/eod/master_columns.txt --row-number car_number --add-empty county,patient_pui_reason_7 -o data/2020-05-07/patient_appointments_master.csv appointments.csv",
        },
        Example {
            what: "EOD flow: json-map's NDJSON records written in the printer's layout",
            command: "csv-shape --from ndjson --select 'car_number,start_datetime,name,dob,Patient Type' -o data/2020-05-07/patient_appointments.csv",
        },
        Example {
            what: "SIPCA flow: a ~-separated Kobo export to NDJSON, every value kept a string",
            command: "csv-shape -d '~' --to ndjson kobo.csv",
        },
        Example {
            what: "Business requisitions in: drop the template's empty rows and insist on the key columns",
            command: "csv-shape --skip-empty-rows --require business_code,hash business_requisition.csv",
        },
    ],
    environment: &[],
    auth: &[],
    security: &[],
    exit_codes: &[
        Exit::Usage,
        Exit::Data,
        Exit::NoInput,
        Exit::Io,
        Exit::Config,
    ],
    other_exit_status: &[],
    broken_pipe: None,
    see_also: &["json-map(1)", "db-extract(1)", "batch-split(1)"],
};

pub fn command() -> Command {
    common::cli::with_doc(Args::command(), &DOC)
}

pub fn run(matches: &ArgMatches) -> Result<()> {
    let options = Options::from_matches(matches)?;
    match options.from {
        Format::Csv => read::run_csv(&options),
        Format::Ndjson => read::run_ndjson(&options),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    common::examples_test!(DOC, command);
}
