//! The man page beyond the flags: description, examples, auth, environment,
//! security and exit status.

use common::doc::{Example, ToolDoc};

pub const DOC: ToolDoc = ToolDoc {
    name: crate::TOOL,
    description: &[
        include_str!("../doc/description.txt"),
        common::http::doc::STATUSES,
        include_str!("../doc/description-after-statuses.txt"),
    ],
    examples: &[
        Example {
            what: "ReqCheck: ask the heartbeat for the last import date (Basic auth, empty body)",
            command: "http-post --auth basic --user-env REQCHECK_USER --password-env REQCHECK_PASSWORD --no-body --response heartbeat.json --receipt-field last_update_date=.last_update_date https://reqcheck.example.org/heartbeat",
        },
        Example {
            what: "ReqCheck: post a batch of patients, keeping the import status and the ids that failed in the receipt",
            command: "http-post --auth basic --user-env REQCHECK_USER --password-env REQCHECK_PASSWORD --receipt-field reqcheck_status=.status --receipt-field error_objects_ids=.error_objects_ids https://reqcheck.example.org/patient_data < batch-0001.json >> log/2024-05-07_reqcheck.jsonl",
        },
        Example {
            what: "ReportStream: send a CSV of test results with a token for a signed client assertion; keep the answer and its warnings' tracking ids; a report refused as a whole (400) exits 65",
            command: "http-post --auth reportstream-jwt --private-key-file /etc/phtools/rs-sender.pem --client-id simple_report.default -H 'client: simple_report' -H 'x-api-version: 2021-09-21' --content-type text/csv --exit-on 400=65 --response out/rs-answer.json --receipt-field warnings='[.warnings[].trackingIds[]]' 'https://prime.cdc.gov/api/reports?option=SkipInvalidItems' < results.csv",
        },
        Example {
            what: "dhis2: one tracker import per SIPCA event, followed to its report, request and report saved",
            command: "http-post --each --auth basic --user-env DHIS2_USER --password-env DHIS2_PASSWORD --body-field payload --follow dhis2-job --save-dir events_payload --save-name '{date}__{_kobo}_{_remote_id}.json' --save-response-name '{date}__{_kobo}_{_remote_id}_response_event_payload.json' 'https://dhis2.example.org/api/tracker?async=true&importStrategy=CREATE_AND_UPDATE' < events.ndjson > results.ndjson",
        },
        Example {
            what: "Primero: upsert OSCaR clients as cases, looked up by oscar_number (POST when new, PATCH when found)",
            command: "http-post --each --auth primero --user-env PRIMERO_USER --password-env PRIMERO_PASSWORD --lookup 'https://primero.example.org/api/v2/cases?remote=true&oscar_number={data.oscar_number}' --update-url 'https://primero.example.org/api/v2/cases/{remote_id}' --id-from .data.id https://primero.example.org/api/v2/cases < cases.ndjson > results.ndjson",
        },
        Example {
            what: "OSCaR: upsert Primero cases as clients (sign_in headers sent back on every request)",
            command: "http-post --each --auth oscar --user-env OSCAR_EMAIL --password-env OSCAR_PASSWORD --id-from .global_id https://oscar.example.org/api/v1/organizations/clients/upsert/ < clients.ndjson > results.ndjson",
        },
        Example {
            what: "See the requests a run would send, without sending or logging in",
            command: "http-post --each --dry-run --auth dhis2-token 'https://dhis2.example.org/api/tracker?async=true' < events.ndjson",
        },
    ],
    environment: common::http::doc::ENVIRONMENT,
    auth: common::http::doc::AUTH,
    security: &[include_str!("../doc/security.txt")],
    exit_codes: common::http::doc::EXIT_CODES,
    other_exit_status: &[],
    broken_pipe: None,
    see_also: &[
        "http-get(1)",
        "index-diff(1)",
        "json-map(1)",
        "batch-split(1)",
    ],
};
