//! The text of `man/man7/phtools-flows.7`, the overview page of the runbook
//! flows under `pipelines/`: per flow its target, script, steps, variables and
//! crontab line, then the files, exit codes and the whole crontab.

use roff::{Roff, bold, italic, roman};
use std::io::Write;

/// One variable of a flow's `env.example`.
#[derive(Clone, Copy)]
pub struct Var {
    pub name: &'static str,
    /// Required unless the meaning says "optional".
    pub meaning: &'static str,
}

/// One runbook flow (FLOWS.md).
pub struct Flow {
    /// Its folder under pipelines/, the name of its logs and lock.
    pub name: &'static str,
    pub title: &'static str,
    /// The make target(s), for a person at a terminal.
    pub target: &'static str,
    /// The script(s) cron calls.
    pub script: &'static str,
    /// What it does, a few lines.
    pub does: &'static [&'static str],
    pub vars: &'static [Var],
    /// Its line in the crontab.
    pub cron: &'static str,
}

/// Shared by the flows that read the scheduling database.
const DB: [Var; 2] = [
    Var {
        name: "DB_URL",
        meaning: "The scheduling database: sqlite:FILE, mysql://USER@HOST:PORT/DB or postgres://USER@HOST:PORT/DB, without the password. Required, with no default: only make demo's own env file names the demo database (data/demo.sqlite), so a production env file without it stops with 78 before anything is read or sent.",
    },
    Var {
        name: "DB_PASSWORD",
        meaning: "Optional. The database password.",
    },
];

const BOX: [Var; 4] = [
    Var {
        name: "BOX_CONFIG",
        meaning: "The city's Box JWT app: the path of its box_config.json (mode 0600).",
    },
    Var {
        name: "BOX_API_URL",
        meaning: "Optional. Box's API base URL (default Box's own).",
    },
    Var {
        name: "BOX_UPLOAD_URL",
        meaning: "Optional. Box's upload base URL (default Box's own).",
    },
    Var {
        name: "BOX_CA_FILE",
        meaning: "Optional. A private CA (PEM) to trust for Box's certificate.",
    },
];

const DIRS: Var = Var {
    name: "DATA_DIR, LOG_DIR, STATE_DIR",
    meaning: "Optional. Where the flow keeps its files, logs, lock and state (default data/, log/ and state/ in the checkout).",
};

pub const FLOWS: &[Flow] = &[
    Flow {
        name: "eod",
        title: "F1, end-of-day files for the testing site (daily)",
        target: "make eod DATE=YYYY-MM-DD",
        script: "pipelines/eod/run.sh [DATE]",
        does: &[
            "db-extract pulls the appointments of DATE (default today) from the scheduling database. csv-shape and json-map write patient_appointments_master.csv, patient_appointments.csv and patients_form_print.csv in the layouts of the original files to data/DATE/ (mode 0600); a required column missing from the database fails the run naming it.",
            "sftp-put sends the two printer files to the printing company into DATE/ under its drop folder; smtp-send mails the master file to the health network (STARTTLS), the subject naming the date; box-put uploads the three files to the dated folder (MM-DD-YYYY) under the city's parent folder and the print file again to the transportation folder as patients_form_print_DATE.csv. The three deliveries run side by side: one that fails does not stop the others, every receipt is appended to the audit log once all have ended, and the run exits with the first failure's status (SFTP, then mail, then Box). An audit log that cannot be read stops the run before anything is sent.",
            "A rerun for the same DATE replaces the files (SFTP rename over the old one, a new Box version only when the content changed) and mails again only when the master file changed (or with EOD_RESEND_MAIL=1). A day without appointments writes and sends nothing, and says so.",
        ],
        vars: &[
            DB[0],
            DB[1],
            Var {
                name: "PRINT_SFTP_HOST, PRINT_SFTP_USERNAME",
                meaning: "The printing company's SFTP server and login.",
            },
            Var {
                name: "PRINT_SFTP_PASSWORD or PRINT_SFTP_IDENTITY",
                meaning: "Its password, or a private key file to log in with: one of the two.",
            },
            Var {
                name: "PRINT_SFTP_PORT, PRINT_SFTP_KNOWN_HOSTS, PRINT_SFTP_DIR",
                meaning: "Optional. Its port (22), its host key in known_hosts format (~/.ssh/known_hosts), the drop folder (the login folder).",
            },
            Var {
                name: "HEALTH_NETWORK_SMTP_URL, HEALTH_NETWORK_SMTP_PORT",
                meaning: "The health network's mail server, and its port (optional, 587).",
            },
            Var {
                name: "HEALTH_NETWORK_USER_NAME, HEALTH_NETWORK_USER_PWD",
                meaning: "The mailbox login (SMTP AUTH).",
            },
            Var {
                name: "HEALTH_NETWORK_MAIL_FROM, HEALTH_NETWORK_MAIL_TO",
                meaning: "The sender, and the recipients (separated by commas).",
            },
            Var {
                name: "HEALTH_NETWORK_CA_FILE, EOD_RESEND_MAIL",
                meaning: "Optional. A private CA (PEM) for the mail server; 1 to mail the master file again although the audit log shows it sent.",
            },
            BOX[0],
            Var {
                name: "BOX_EOD_PARENT",
                meaning: "Where the dated folders go: a Box folder id, or a path from the root.",
            },
            Var {
                name: "BOX_EOD_TRANSPORTATION",
                meaning: "The transportation folder: an id or a path.",
            },
            BOX[1],
            BOX[2],
            BOX[3],
            DIRS,
        ],
        cron: "0 20 * * * ENV_FILE=/etc/phtools/eod.env /opt/phtools/pipelines/eod/run.sh \"$(date -d tomorrow +\\%F)\"",
    },
    Flow {
        name: "bz-out",
        title: "F2, business requisitions out (hourly)",
        target: "make bz-out [START=... END=...]",
        script: "pipelines/bz-out/run.sh",
        does: &[
            "db-extract selects the business test-slot requests created in the window, by default the last full hour (START and END override it). csv-shape writes them in the layout of Business_Request_Template.csv as business_requisition_YYYY-MM-DD_HH00.csv, and box-put uploads it to the business liaisons' folder.",
            "An empty window sends nothing, and says so.",
        ],
        vars: &[
            DB[0],
            DB[1],
            BOX[0],
            Var {
                name: "BOX_BZ_OUT_FOLDER",
                meaning: "The liaisons' folder: a Box folder id, or a path from the root (created when missing).",
            },
            Var {
                name: "START, END",
                meaning: "Optional. The window: the requests created from START (included) to END (excluded), as 'YYYY-MM-DD HH:MM'. Default the last full hour; END defaults to an hour after START. The logs are named after START's date.",
            },
            BOX[1],
            BOX[2],
            BOX[3],
            DIRS,
        ],
        cron: "5 * * * * ENV_FILE=/etc/phtools/bz-out.env /opt/phtools/pipelines/bz-out/run.sh",
    },
    Flow {
        name: "bz-in",
        title: "F3, business requisitions in (hourly)",
        target: "make bz-in",
        script: "pipelines/bz-in/run.sh [DATE]",
        does: &[
            "box-get downloads every CSV the liaisons dropped in the \"from city\" folder (BOX_BZ_IN_FOLDER), with approved_confirm and slots_approved filled in, to data/bz-in/DATE/. Every row is validated: approved_confirm Y, N or empty; slots_approved a whole number; business_code and hash letters and digits, naming a pending request (or repeating the answer a decided one already has, so that a file applied but not moved when a run stopped passes again); empty rows are ignored.",
            "One invalid row and nothing of the file is applied: it moves to BOX_BZ_IN_ERROR, and the error list names rows and columns, never values. Otherwise db-load applies the whole file in one transaction (approve or decline, set the approved slots) and the file moves to BOX_BZ_IN_SUCCESS. A Box move takes the file out of the inbound folder only once it is in its new folder. Either way smtp-send mails the liaisons the number of answers applied or the error list. Every file is handled; the run then exits 65 if one was refused.",
        ],
        vars: &[
            DB[0],
            DB[1],
            BOX[0],
            Var {
                name: "BOX_BZ_IN_FOLDER",
                meaning: "The \"from city\" folder the liaisons drop their answers in: a Box folder id, or a path from the root.",
            },
            Var {
                name: "BOX_BZ_IN_SUCCESS, BOX_BZ_IN_ERROR",
                meaning: "Where applied files go, and refused ones (processed/success, processed/error): ids or paths.",
            },
            Var {
                name: "LIAISON_SMTP_URL, LIAISON_SMTP_PORT",
                meaning: "The mail server for the notification (STARTTLS), and its port (optional, 587).",
            },
            Var {
                name: "LIAISON_USER_NAME, LIAISON_USER_PWD",
                meaning: "Its login (SMTP AUTH).",
            },
            Var {
                name: "LIAISON_MAIL_FROM, LIAISON_MAIL_TO",
                meaning: "The sender, and the liaisons' addresses (separated by commas).",
            },
            Var {
                name: "LIAISON_CA_FILE",
                meaning: "Optional. A private CA (PEM) for the mail server's certificate.",
            },
            BOX[1],
            BOX[2],
            BOX[3],
            DIRS,
        ],
        cron: "15 * * * * ENV_FILE=/etc/phtools/bz-in.env /opt/phtools/pipelines/bz-in/run.sh",
    },
    Flow {
        name: "printer-pdfs",
        title: "F4, printer PDFs to the city (daily)",
        target: "make printer-pdfs DATE=YYYY-MM-DD",
        script: "pipelines/printer-pdfs/run.sh [DATE]",
        does: &[
            "The printing company returns the requisition PDFs it generated in a pickup folder, one DATE folder per day. box-put uploads each one to the city's Box folder for that date (MM-DD-YYYY, created when missing); index-diff on name and sha256 (state/printer-pdfs/DATE.json) skips the PDFs already uploaded, and the index moves only for the PDFs Box confirmed, so a rerun sends only what is new or changed. A missing DATE folder exits 66.",
        ],
        vars: &[
            BOX[0],
            Var {
                name: "BOX_PRINTER_PDFS_PARENT",
                meaning: "Where the dated folders go: a Box folder id, or a path from the root.",
            },
            Var {
                name: "PRINTER_PICKBOX",
                meaning: "Optional. The pickup folder, one DATE (YYYY-MM-DD) folder of PDFs under it per day (default DATA_DIR/pickbox).",
            },
            BOX[1],
            BOX[2],
            BOX[3],
            DIRS,
        ],
        cron: "0 5 * * * ENV_FILE=/etc/phtools/printer-pdfs.env /opt/phtools/pipelines/printer-pdfs/run.sh \"$(date +\\%F)\"",
    },
    Flow {
        name: "reqcheck",
        title: "F5, ReqCheck extract (nightly)",
        target: "make reqcheck",
        script: "pipelines/reqcheck/run.sh [DATE]",
        does: &[
            "http-post asks ReqCheck's /heartbeat for its last import; db-extract runs patient_data.sql and vaccine_dose_data.sql from that time (less REQCHECK_OVERLAP seconds); json-map shapes the payloads ({\"patient_data\":[...]}, {\"vaccine_dose_data\":[...]}, dates converted, booleans normalised); batch-split keeps each request to REQCHECK_BATCH records; http-post posts them, patients first.",
            "A partial_failure answer is a warning naming ReqCheck's error ids; the run fails only when a request is refused or cannot be sent. PUBLISH_TO=file writes the payloads to data/DATE/reqcheck/ and contacts nothing, for a dry first run.",
        ],
        vars: &[
            Var {
                name: "DATABASE_URL",
                meaning: "The immunization database (sqlite:FILE, postgres://..., mysql://...), timestamps in UTC.",
            },
            Var {
                name: "REQCHECK_URL",
                meaning: "ReqCheck's base URL (not needed with PUBLISH_TO=file).",
            },
            Var {
                name: "REQCHECK_USER, REQCHECK_PASSWORD",
                meaning: "ReqCheck's HTTP Basic login (not needed with PUBLISH_TO=file).",
            },
            Var {
                name: "REQCHECK_BATCH, REQCHECK_OVERLAP",
                meaning: "Optional. Records per request (500); seconds before the last import to extract from (300).",
            },
            Var {
                name: "REQCHECK_CA_FILE, PUBLISH_TO",
                meaning: "Optional. A private CA (PEM) for ReqCheck; api (default) or file.",
            },
        ],
        cron: "0 2 * * * ENV_FILE=/etc/phtools/reqcheck.env /opt/phtools/pipelines/reqcheck/run.sh",
    },
    Flow {
        name: "reportstream",
        title: "F6, test results to ReportStream (every 2 minutes)",
        target: "make reportstream",
        script: "pipelines/reportstream/run.sh [DATE]",
        does: &[
            "The testing app drops one JSON test event per file into the spool folder. Each run peeks at up to RS_BATCH events, oldest first; json-map maps them to ReportStream's columns and codes (ethnicity, sex, race, SNOMED results, yyyyMMdd dates); csv-shape writes the CSV; http-post sends it to /api/reports.",
            "2xx: the events move to the spool's sent/ and the answer's warnings and errors are logged by tracking id. 400: the batch moves to error/, not retried (exit 65). Anything else: the events stay in the spool for the next run (75, 77 or 69). A file that is not JSON is set aside in error/ alone and does not block the batch.",
        ],
        vars: &[
            Var {
                name: "RS_URL",
                meaning: "ReportStream's base URL.",
            },
            Var {
                name: "RS_CLIENT_ID",
                meaning: "The sender (org.sender, e.g. simple_report.default).",
            },
            Var {
                name: "RS_PRIVATE_KEY_FILE or RS_FUNCTION_KEY",
                meaning: "The sender's RSA private key (PEM) for the signed token request, or the older function key: one of the two.",
            },
            Var {
                name: "SPOOL_DIR, RS_BATCH, RS_OPTION, RS_CA_FILE",
                meaning: "Optional. The spool folder (data/reportstream/spool), events per report (500), a ReportStream option (?option=), a private CA (PEM).",
            },
        ],
        cron: "*/2 * * * * ENV_FILE=/etc/phtools/reportstream.env /opt/phtools/pipelines/reportstream/run.sh",
    },
    Flow {
        name: "primero-oscar",
        title: "F7, Primero <-> OSCaR case sync (hourly)",
        target: "make primero-oscar",
        script: "pipelines/primero-oscar/run.sh [DATE]",
        does: &[
            "OSCaR to Primero first: http-get fetches the OSCaR clients referred out since the cursor, json-map maps them to Primero cases (owner from the province user map), http-post upserts them by the id pairs (global_id = oscar_number, case_id = external_id) and OSCaR's id links are updated. Then Primero to OSCaR: the cases and referrals changed since the cursor, mapped (services, agency-{org}, 8-digit village codes), filtered to new and changed by index-diff, upserted into OSCaR.",
            "Organisations named demo are dropped, empty values not sent. A record that fails is reported and does not stop the others; the exit status is the worst of them. Cursors and indexes (state/primero-oscar/) move only from what was delivered: a second run sends nothing, an interrupted one sends the rest.",
        ],
        vars: &[
            Var {
                name: "PRIMERO_URL, PRIMERO_USER, PRIMERO_PASSWORD",
                meaning: "Primero's base URL (without /api) and its API login.",
            },
            Var {
                name: "OSCAR_URL, OSCAR_EMAIL, OSCAR_PASSWORD",
                meaning: "OSCaR's base URL (without /api) and its API login.",
            },
            Var {
                name: "PRIMERO_OSCAR_SINCE, PRIMERO_CA_FILE, OSCAR_CA_FILE, HTTP_RETRIES",
                meaning: "Optional. Where the cursors start on the first run (1970-01-01T00:00:00Z), private CAs (PEM), retries of a failed request (3).",
            },
            DIRS,
        ],
        cron: "20 * * * * ENV_FILE=/etc/phtools/primero-oscar.env /opt/phtools/pipelines/primero-oscar/run.sh",
    },
    Flow {
        name: "sipca",
        title: "F8, Kobo survey to dhis2 events (daily)",
        target: "make sipca-mapping, make sipca",
        script: "pipelines/sipca/mapping.sh [DATE], pipelines/sipca/run.sh [DATE]",
        does: &[
            "mapping.sh (by hand, when the dhis2 program changes) joins the program's metadata with mapping_de.json and mapping_optionSet.json into data/sipca/mapping_generated.json, and names every data element no Kobo column maps.",
            "run.sh diffs the ~-separated Kobo export with state/sipca/event_index.json on _uuid (a new row gets a new dhis2 uid; a row gone from the export is marked deleted and logged as a warning, for a person to remove in dhis2), builds one COMPLETED event per row (orgUnit from mapping_orgUnits.json, options as codes, empty answers left out), posts each to /api/tracker and follows the job to its report, saving request and answer in data/sipca/events_payload/. Only events whose report is OK are marked uploaded. The index is backed up in log/ before and after.",
        ],
        vars: &[
            Var {
                name: "DHIS2_URL",
                meaning: "dhis2's base URL (without /api).",
            },
            Var {
                name: "DHIS2_USER, DHIS2_PASSWORD or DHIS2_TOKEN",
                meaning: "An HTTP Basic login, or a personal access token.",
            },
            Var {
                name: "KOBO_CSV",
                meaning: "The Kobo export (run.sh only).",
            },
            Var {
                name: "DHIS2_PROGRAM, DHIS2_CA_FILE, SIPCA_MAPPING_DIR, DHIS2_POLL_INTERVAL, HTTP_RETRIES",
                meaning: "Optional. The program id (SIPCAprg001), a private CA (PEM), where the mapping files are (pipelines/sipca), seconds between polls of a job (1), retries (3).",
            },
            DIRS,
        ],
        cron: "0 6 * * * ENV_FILE=/etc/phtools/sipca.env /opt/phtools/pipelines/sipca/run.sh",
    },
];

/// Exit statuses of a flow (its failed step's), and what cron or on-call does.
pub const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Done (also: an empty window or day, nothing to send). Nothing to do.",
    ),
    (
        "64",
        "Bad arguments, such as a DATE that is not YYYY-MM-DD. Fix the crontab line.",
    ),
    (
        "65",
        "Bad data: a row or record is invalid (the message names file, row and column, never the value), or the remote refused the batch as invalid (ReportStream 400; events moved to error/), or bz-in refused a liaisons' file (moved to processed/error, the liaisons mailed its errors). Fix the source data or the file; the flow does not retry it by itself.",
    ),
    (
        "66",
        "An input file is missing or unreadable (KOBO_CSV, the pickup folder). Fix the path or the export.",
    ),
    (
        "69",
        "The remote refused for good (a 4xx other than authentication). Read the log and the remote's answer; rerun once fixed.",
    ),
    ("70", "A bug in a tool. Keep the log and report it."),
    (
        "74",
        "A local I/O error (disk full, permissions on data/, log/ or state/). Fix the machine and rerun. When F1 could not append its receipts to the audit log, the error names the folder they are kept in: append its .jsonl files to the audit log first (cat FOLDER/*.jsonl >> log/DATE_eod.jsonl), so that the rerun does not mail the master file again.",
    ),
    (
        "75",
        "Temporary: the remote was down or slow after the retries, or another run of the same flow held the lock. Nothing half-done is left and no state moved; the next scheduled run catches up. Page on-call only when it repeats for hours.",
    ),
    (
        "77",
        "Not allowed: a password, key or token was refused, a host key or certificate does not match. Fix the credentials or the trust files in the env file; do not just rerun.",
    ),
    (
        "78",
        "Configuration: a variable is missing (the message names every one and the env.example to read) or a config file is bad, or sipca's mapping was never generated (run make sipca-mapping). Fix the env file.",
    ),
    (
        "2",
        "Only through make: GNU make exits 2 whatever the script's status, so cron calls the scripts directly and the status above reaches it. The script's own line in the log says which step failed.",
    ),
];

/// Render the page.
pub fn render(version: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let mut r = Roff::new();
    let source = format!("phtools {version}");
    r.control(
        "TH",
        [
            "PHTOOLS-FLOWS",
            "7",
            "",
            &source,
            "Public-health data tools",
        ],
    );
    r.control("SH", ["NAME"]);
    r.text([roman(
        "phtools-flows - the runbook flows: targets, variables, logs, exit codes and crontab",
    )]);
    r.control("SH", ["SYNOPSIS"]);
    r.control("nf", []);
    r.text([
        bold("ENV_FILE="),
        italic("file"),
        roman(" "),
        bold("pipelines/"),
        italic("flow"),
        bold("/run.sh"),
        roman(" ["),
        italic("DATE"),
        roman("]"),
    ]);
    r.control("br", []);
    r.text([
        bold("make "),
        italic("flow"),
        roman(" [DATE="),
        italic("YYYY-MM-DD"),
        roman("]"),
    ]);
    r.control("fi", []);
    r.control("SH", ["DESCRIPTION"]);
    for p in [
        "Each runbook flow is a shell script under pipelines/ that chains the tools, one line per step, with set -euo pipefail, plus its SQL, jq and column files and an env.example listing every variable it reads. Each also has a make target for a person at a terminal; cron calls the script itself.",
        "The variables come from the environment or from the file named by ENV_FILE (sourced with set -a; keep it mode 0600 and out of the checkout: it holds passwords). A flow checks them all before any step runs and exits 78 naming every missing one. The tools come from PHTOOLS_BIN when set, else from target/release of the checkout (make build), else from PATH.",
        "DATE is the day a run is for, YYYY-MM-DD, by one rule in every flow: the script's argument, else the DATE variable, else today. It names the logs and the dated data folders; a DATE that is not a day exits 64. bz-out alone takes none: its day is the day its window starts (START).",
        "Until this rule, reportstream and reqcheck took the DATE variable before the argument (now the argument wins when both are given and differ), primero-oscar and sipca read only the variable (it still works; an argument now works too) and bz-in read neither (it ran for today, as it still does when given neither).",
        "A failed step stops the flow with that step's exit status (F1's deliveries, which run side by side, all end first), and no index or cursor moves: the next run sends again, and the index keys make the resend an update, never a duplicate. Two overlapping runs of one flow cannot happen: the second exits 75.",
        "make demo runs every flow once against local stand-ins (the demo SQLite database, the sandbox APIs, a local sshd and SMTP server) and shows what arrived where.",
    ] {
        r.control("PP", []).text([roman(p)]);
    }
    r.control("SH", ["FLOWS"]);
    for flow in FLOWS {
        r.control("SS", [flow.title]);
        r.control("TP", []).text([bold("Target")]);
        r.text([roman(flow.target)]);
        r.control("TP", []).text([bold("Script")]);
        r.text([roman(flow.script)]);
        r.control("TP", []).text([bold("Logs")]);
        r.text([roman(format!(
            "log/DATE_{0}.jsonl, log/DATE_{0}.log",
            flow.name
        ))]);
        for p in flow.does {
            r.control("PP", []).text([roman(*p)]);
        }
        r.control("PP", []).text([roman("Variables:")]);
        r.control("RS", ["4"]);
        for var in flow.vars {
            r.control("TP", []).text([bold(var.name)]);
            r.text([roman(var.meaning)]);
        }
        r.control("RE", []);
        r.control("PP", []).text([roman("Crontab line:")]);
        r.control("RS", ["4"]).control("nf", []);
        r.text([roman(flow.cron)]);
        r.control("fi", []).control("RE", []);
    }
    r.control("SH", ["FILES"]);
    for (file, what) in [
        (
            "pipelines/FLOW/run.sh, pipelines/FLOW/env.example",
            "The flow's script, and every variable it reads with its meaning.",
        ),
        (
            "log/DATE_FLOW.jsonl",
            "The audit log: one receipt per delivery (file, mail, upload, request), appended, never with record content. A rerun appends its own.",
        ),
        (
            "log/DATE_FLOW.log",
            "Everything the run wrote on standard error: its steps, warnings and the one-line error of a failed step. Read it first when a run fails.",
        ),
        (
            "state/",
            "The lock of each flow (FLOW.lock) and what has been delivered: the cursors and indexes of primero-oscar, sipca's event_index.json, the PDF index of printer-pdfs. Back it up; do not edit it while a flow runs. Losing it means resending, not losing data.",
        ),
        (
            "data/",
            "What the flows write or pick up: data/DATE/ (the end-of-day files, ReqCheck's PUBLISH_TO=file payloads), data/bz-out/ (the requisition files sent), data/bz-in/DATE/ (the liaisons' files, by success and error), data/pickbox/DATE/ (the printer's PDFs, unless PRINTER_PICKBOX is elsewhere), data/reportstream/spool/ (with sent/ and error/), data/sipca/ (the generated mapping and the saved event payloads). Files with patient records are mode 0600.",
        ),
    ] {
        r.control("TP", []).text([bold(file)]);
        r.text([roman(what)]);
    }
    r.control("PP", []).text([roman(
        "DATA_DIR, LOG_DIR and STATE_DIR move data/, log/ and state/ elsewhere.",
    )]);
    r.control("SH", ["EXIT STATUS"]);
    r.control("PP", []).text([roman(
        "A flow exits with the status of the step that failed (the tools' codes, sysexits); primero-oscar and sipca, which go on after a failed record, exit with the worst one.",
    )]);
    for (code, what) in EXIT_STATUS {
        r.control("TP", []).text([bold(*code)]);
        r.text([roman(*what)]);
    }
    r.control("SH", ["CRONTAB"]);
    r.control("PP", []).text([roman(
        "The flows' lines together, for a checkout in /opt/phtools (built with make build) and env files in /etc/phtools (cron's % is written \\%). Cron calls the scripts, not make, so that the flow's own exit status reaches it.",
    )]);
    r.control("RS", ["4"]).control("nf", []);
    r.text([roman("MAILTO=oncall@city.example")]);
    for flow in FLOWS {
        r.text([roman(flow.cron)]);
    }
    r.control("fi", []).control("RE", []);
    for p in [
        "Every run prints its steps on standard error, so cron mails every run, also the good ones (every 2 minutes for reportstream). To be mailed only about failures, wrap each command in chronic(1) from moreutils; the steps are in log/DATE_FLOW.log either way.",
        "make sipca-mapping is not in the crontab: run it by hand when the dhis2 program changes.",
    ] {
        r.control("PP", []).text([roman(p)]);
    }
    r.control("SH", ["SEE ALSO"]);
    r.text([roman(
        "db-extract(1), db-load(1), csv-shape(1), json-map(1), batch-split(1), index-diff(1), sftp-put(1), smtp-send(1), box-put(1), box-get(1), http-get(1), http-post(1), crontab(5)",
    )]);
    out.write_all(r.to_roff().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::FLOWS;

    /// Every variable a flow's env.example lists is on the page, in that flow.
    #[test]
    fn every_env_example_variable_is_documented() {
        let pipelines = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines");
        let mut missing = Vec::new();
        for flow in FLOWS {
            let example = std::fs::read_to_string(pipelines.join(flow.name).join("env.example"))
                .unwrap_or_else(|e| panic!("{}/env.example: {e}", flow.name));
            let documented: Vec<&str> = flow
                .vars
                .iter()
                .flat_map(|v| v.name.split([',', ' ']))
                .collect();
            for line in example.lines() {
                let line = line.trim_start_matches('#').trim_start();
                let Some((name, _)) = line.split_once('=') else {
                    continue;
                };
                if !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                    && !documented.contains(&name)
                {
                    missing.push(format!("{}: {name}", flow.name));
                }
            }
        }
        assert!(missing.is_empty(), "not in flows.rs: {missing:?}");
    }

    /// Cron calls the scripts, never make, and every flow has a line.
    #[test]
    fn cron_lines_call_the_scripts() {
        for flow in FLOWS {
            let script = format!("/pipelines/{}/run.sh", flow.name);
            assert!(flow.cron.contains(&script), "{}", flow.name);
            assert!(!flow.cron.contains("make "), "{}", flow.name);
            assert!(
                !flow.cron.replace("\\%", "").contains('%'),
                "{}: unescaped %",
                flow.name
            );
        }
    }
}
