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
    description: &[
        "Input is CSV (RFC 4180, a header row, CRLF or LF, a UTF-8 byte order mark stripped) or, with --from ndjson, one JSON object per line. Output is CSV with LF line endings, or NDJSON with --to ndjson.",
        "Names. --rename is applied first; every other flag names columns as they come out, after renaming. Without --select the output has every input column in input order, then any --add-empty columns the input lacks.",
        "Rows. --skip-empty-rows drops rows whose every field is empty, before the field count is checked. A row with a different number of fields than the header is an error; with --pad-ragged a short row is padded with empty fields, and a long row is accepted only if its extra fields are empty (they are dropped). --where conditions are tested on the row's input values after renaming; a regex matches anywhere unless anchored with ^ and $.",
        "NDJSON output. Every value is a JSON string, so ZIP codes and ids keep their leading zeros; --types opts columns into int, num, bool or json, with an empty value written as null. A value that does not convert is an error naming the row and column.",
        "NDJSON input. The columns are the --select list, or else the keys of the first record; a later record with a key outside them is an error (naming the line and key) rather than data silently dropped. A key a record lacks, and null, are written as an empty field; numbers, booleans, arrays and objects are written as JSON text. Selected and --where columns must appear in the first record unless listed in --add-empty; --require is checked on every record.",
        "Empty input (0 bytes) gives empty output and exit 0; a header alone gives a header alone. Errors name the file, the row (the header is row 1) or NDJSON line, and the column, never the value unless --show-values is given. A column name or key from the data is printed in a message only when it is at most 128 bytes long and has no control character; otherwise it is named by its position (column 3). A CSV header may have at most 1,000,000 columns, and JSON may nest at most 128 levels (the record's object being the first); beyond either, the exit status is 65, naming the file and row or line.",
    ],
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
