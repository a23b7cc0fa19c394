//! The man page beyond the flags: description, examples, auth, environment,
//! security and exit status.

use common::doc::{Example, ToolDoc};

pub const DOC: ToolDoc = ToolDoc {
    name: crate::TOOL,
    description: &[
        "One request. The body is standard input read whole, or --body FILE, or nothing with --no-body (Content-Length: 0, as ReqCheck's heartbeat takes it); it is sent with --method (POST, PUT or PATCH) and --content-type (application/json by default). The answer's status decides: 2xx is done, and one receipt line goes to stdout: tool, target (the URL without its query string), name (the --body file, or -), bytes and sha256 of the body sent, status, remote_id (from --id-from), fields (one value per --receipt-field NAME=JQ, from the JSON answer, e.g. ReqCheck's status and error_objects_ids, or ReportStream's warnings) and time. --response FILE keeps the answer's body, whatever its status (mode 0600, written whole or not at all); --response - puts it on stdout, and the receipt then goes only to --receipt FILE, which appends the receipt line in any case. A refusal exits with its status's code (see EXIT STATUS) unless --exit-on STATUS=CODE names another for that status: a flow can then tell a refused batch (ReportStream's 400, to set it aside) from a wrong URL or a conflict, without reading the error line. A request the server accepted always gets its receipt, whatever fails after it: when --id-from or a --receipt-field cannot be taken from the answer (not JSON, a filter error, or for --id-from no string or number), the receipt is written without it and with extract_error saying what failed (never a value), and the run exits 65, so that the request is not sent again; when --response cannot be written after a 2xx answer, the receipt is written first, then the run exits 74.",
        "Per record (--each). Every line of the input (stdin or --body FILE) is a JSON object and one request. The URL is a template: {field} is replaced by the record's field, percent-encoded, so a value cannot change the path: / is %2F, and a value of dots alone (. or ..) has its dots encoded (%2E%2E), so that no server reads it as the folder above; an empty value fails its record (65) like a missing one, since /cases/{id} would become the collection /cases/ and ?number={n} a query matching records without one (a.b reads a nested field). The body is the record without index-diff's bookkeeping fields _key, _op, _hash and _remote_id, or, with --body-field F, the field F (a string is sent as its text, anything else as JSON). For each record one result line goes to stdout, in the shape index-diff --commit reads: _key (or the value of --key-field), _op, _hash and _remote_id as the record had them, ok, status, remote_id (from --id-from, or the id the lookup found), and error: what failed, without record values. A record the server accepted but whose id --id-from cannot take (the answer is not JSON, the filter fails or gives no string or number, and no lookup found the id) is delivered all the same: its result is ok, with extract_error saying what failed, a warning names its line, and the run exits 65 at the end (index-diff --commit marks it delivered). Connections are kept alive from one record to the next. A record that fails does not stop the others, unless --fail-fast; a line that is not a JSON object gets no result line and counts as a failure (65). A failure that every later record would share stops the run at once: a login or TLS refusal (77), a missing secret (78), a bad URL (64).",
        "Deleted records. A record whose _op is \"deleted\" (index-diff --emit deleted) is not sent: its result says ok false with the reason, it does not change the exit status, and a warning counts them; index-diff then keeps it for a person to look at. With --delete-method DELETE it is sent with that method, without a body, to the URL template.",
        "Upsert by lookup (--lookup TEMPLATE, --update-url TEMPLATE). Before each record a GET of the --lookup template (e.g. Primero's cases?remote=true&oscar_number={oscar_number}) finds the record's matches with --lookup-records (default .data[]): none creates it (--method to the URL), one updates it (--update-method, PATCH by default, to --update-url, where {remote_id} is the match's --lookup-id, default .id), more than one is an error for that record (69). When the lookup or the write fails for a while, the retry starts again from the lookup, so a create that went through before a timeout is then updated, not made twice.",
        "Saving bodies (--save-dir DIR --save-name TEMPLATE). Each record's request body is written to DIR before it is sent, and the answer's body after (the import report with --follow), files mode 0600; DIR and its missing parents are made mode 0700. Names are templates of {field}, {date} (today, YYYY-MM-DD) and {n} (the record's number); field values are made safe for a file name (no /, no .., no leading dot). A name of ., .. or nothing is a usage error (64) before anything is sent; a record whose values make a name longer than 255 bytes fails alone (65, its result says which template, not the value) and the others are sent. When the answer cannot be saved after the server accepted the record, the record's result is written and then the run stops (74). The answer's name is --save-response-name, or the request's name with _response before .json. SIPCA's names are --save-name '{date}__{_kobo}_{_remote_id}.json' --save-response-name '{date}__{_kobo}_{_remote_id}_response_event_payload.json'.",
        "dhis2 async jobs (--follow dhis2-job). After a 2xx answer from /api/tracker, its response.location is polled (with the same auth) every --poll-interval seconds until one notification says completed: true, within --max-time (600 s without it, then 75), and <location>/report is fetched. The request is ok only when the report's status is OK; otherwise its error names the report's status and error codes (E1302, ...), never the messages, which quote values. The report is what --response and --save-dir keep and what --id-from reads. An answer that is itself a report (async=false) is taken as is.",
        "Retries. A refused or cut connection, a timeout, and the temporary statuses (see Statuses) are tried again up to --retries times, waiting --retry-delay milliseconds and then twice as long each time (up to 30 s, with jitter), or as long as the server's Retry-After says (seconds or an HTTP date, at most 300 s), while --max-time allows; then it is exit 75, with a warning line for each wait. On reportstream-jwt, primero and oscar a 401 logs in again once and replays the request. The body is held in memory, so a retry sends the same bytes. Only GET follows redirects (up to 5); a POST, PUT or PATCH answered 3xx is an error (69).",
        common::http::doc::STATUSES,
        "Auth. --auth picks a scheme (see AUTH); its secrets come from the environment only. A base URL with a path prefix keeps it for logins: the login URL of https://host/primero/api/v2/cases is https://host/primero/api/v2/tokens.",
        "Exit status with --each is the worst outcome among the records, in this order: 77 (not allowed) above 75 (temporary) above 69 (refused) above 65 (bad record) above 0. A record accepted without its id (extract_error) counts as 65. The error line names how many records failed and the first of them.",
        "Dry run. --dry-run sends nothing and logs in nowhere (no secret is needed): for each request it prints one line on stderr (method, URL with query values as ... and a template's values as its {field}, the headers with secret values as ***, the body's size), writes --save-dir's request files, and prints the receipt or the results with \"dry_run\": true. On a terminal, --each shows a progress line on stderr.",
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
    security: &[
        "Secrets come only from the environment or from files named there, never from the command line, where every user of the machine sees them in ps; a URL with a user or password in it is refused. They never appear in messages, receipts, results, --dry-run lines or Debug output: the values of Authorization, x-functions-key, access-token, client, uid, Cookie and of any -H header whose name holds token, key, secret or auth are shown as ***.",
        "TLS is rustls with the system's CAs, plus --ca-file. The certificate must chain to a trusted CA and name the host; there is no flag to skip the check, and a failed check is exit 77 with nothing sent. Plain http:// is refused (64) except to a loopback host (127.0.0.0/8, ::1, localhost) or with --insecure-plaintext, whose name says what it does. Credentials never follow a redirect to another host.",
        "Record content never reaches stderr or a result's error: messages name the record number, the method, the URL without its query string and the status, never a body; a URL made from a template is shown as the template, {field} in place of each value, and a saved file by its --save-name template; --show-values shows them as they were made. Files written with record content (--response, --save-dir) are created with mode 0600.",
    ],
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
