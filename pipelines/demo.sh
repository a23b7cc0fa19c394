#!/usr/bin/env bash
# make demo: every runbook flow (F1-F8, man 7 phtools-flows) once, end to end,
# on embedded defaults and synthetic records, then a report of what arrived
# where. Nothing leaves this machine:
#
#   - the scheduling database is a copy of data/demo.sqlite (make demo-db);
#   - the printing company is a local OpenSSH sshd (SFTP), the health network
#     and the liaisons a local SMTP server (STARTTLS and AUTH), both started
#     by the same scripts the tests use (tests/servers/);
#   - Box, ReqCheck, ReportStream, Primero, OSCaR and dhis2 are the sandbox
#     (tests/sandbox), over HTTPS with a CA made at its start.
#
#   pipelines/demo.sh                  (make demo; after make build demo-db)
#
# The servers run on ports and in a folder of the demo's own (DEMO_TMPDIR,
# default /tmp/phtools-demo; PHTOOLS_*_PORT as in tests/servers), so a test
# run's servers are left alone; the ones the demo starts are stopped at the
# end. Everything the flows wrote (files, receipts, logs, state, the env file
# they read) is under demo-out/ (or DEMO_OUT, an absolute path). Exit 0 when every flow did what the demo
# expects of it, 1 otherwise.
# shellcheck disable=SC2016  # the $names in single quotes are jq's
set -euo pipefail
# What the demo writes holds (synthetic) patient records and secrets: private.
umask 077
cd "$(dirname "$0")/.."
root=$PWD
out=${DEMO_OUT:-$root/demo-out}
export PHTOOLS_BIN=${PHTOOLS_BIN:-$root/target/release}
PATH=$PHTOOLS_BIN:$PATH
export TMPDIR=${DEMO_TMPDIR:-/tmp/phtools-demo}
export PHTOOLS_SANDBOX_PORT=${PHTOOLS_SANDBOX_PORT:-57443} PHTOOLS_SSHD_PORT=${PHTOOLS_SSHD_PORT:-57222}
export PHTOOLS_SMTP_STARTTLS_PORT=${PHTOOLS_SMTP_STARTTLS_PORT:-57587}
export PHTOOLS_SMTP_IMPLICIT_PORT=${PHTOOLS_SMTP_IMPLICIT_PORT:-57465}
export PHTOOLS_SMTP_PLAIN_PORT=${PHTOOLS_SMTP_PLAIN_PORT:-57525}

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
# indent CMD...: run CMD, its stderr indented on stdout, its stdout dropped.
indent() {
    "$@" 2>&1 >/dev/null | sed 's/^/    /'
    return "${PIPESTATUS[0]}"
}

if [ ! -x "$PHTOOLS_BIN/csv-shape" ] || [ ! -s data/demo.sqlite ]; then
    echo "demo: error: run 'make demo' (it builds the tools and data/demo.sqlite first)" >&2
    exit 66
fi

# --- the servers
mkdir -p "$TMPDIR"
chmod 1777 "$TMPDIR" 2>/dev/null || true
started=()
# shellcheck disable=SC2317  # called by the EXIT trap
stop_started() {
    local s
    for s in "${started[@]}"; do tests/servers/"$s".sh stop >/dev/null 2>&1 || true; done
}
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bold "Starting the local servers (tests/servers/: sandbox, sshd, smtp)"
for s in sandbox sshd smtp; do
    if ! tests/servers/"$s".sh status 2>/dev/null; then
        tests/servers/"$s".sh start
        started+=("$s")
    fi
    eval "$(tests/servers/"$s".sh env)"
done
if [ "${#started[@]}" -lt 3 ]; then
    # A sandbox left running holds an earlier run's records: start from its seed.
    http-post --no-body --ca-file "$TEST_SANDBOX_CA" "$TEST_SANDBOX_URL/_sandbox/reset" >/dev/null
fi
mails_before=$(find "$TEST_SMTP_MAILDIR" -name '*.json' 2>/dev/null | wc -l)

# --- the demo's own data, state and env file
rm -rf "$out"
mkdir -p "$out"
cp data/demo.sqlite "$out/scheduling.sqlite"
pipelines/demo-box-config.sh "$out/box_config.json"
sftp_user=${TEST_SFTP_URL#sftp://}
sftp_hostport=${TEST_SFTP_URL##*@}
smtp_host=${TEST_SMTP_STARTTLS%:*} smtp_port=${TEST_SMTP_STARTTLS##*:}
sftp_drop=demo-$$
cat >"$out/demo.env" <<EOF
# The variables every flow reads in the demo (one ENV_FILE for all eight; see
# each flow's env.example for what they mean).
DATA_DIR=$out/data
LOG_DIR=$out/log
STATE_DIR=$out/state
DB_URL=sqlite:$out/scheduling.sqlite
DATABASE_URL=sqlite:$out/scheduling.sqlite
# F1: the printing company (sshd), the health network (SMTP), the city (Box)
PRINT_SFTP_HOST=${sftp_hostport%:*}
PRINT_SFTP_PORT=${sftp_hostport##*:}
PRINT_SFTP_USERNAME=${sftp_user%@*}
PRINT_SFTP_IDENTITY=$TEST_SFTP_DIR/client_key
PRINT_SFTP_KNOWN_HOSTS=$TEST_SFTP_DIR/known_hosts
PRINT_SFTP_DIR=$sftp_drop
HEALTH_NETWORK_SMTP_URL=$smtp_host
HEALTH_NETWORK_SMTP_PORT=$smtp_port
HEALTH_NETWORK_USER_NAME=$TEST_SMTP_USER
HEALTH_NETWORK_USER_PWD=$TEST_SMTP_PASSWORD
HEALTH_NETWORK_MAIL_FROM=eod@city.example
HEALTH_NETWORK_MAIL_TO=intake@health.example
HEALTH_NETWORK_CA_FILE=$TEST_SMTP_CA
BOX_CONFIG=$out/box_config.json
BOX_API_URL=$TEST_SANDBOX_URL/box/2.0
BOX_UPLOAD_URL=$TEST_SANDBOX_URL/box/upload/api/2.0
BOX_CA_FILE=$TEST_SANDBOX_CA
BOX_EOD_PARENT='Parent/Daily Drive Thru Documents'
BOX_EOD_TRANSPORTATION=Parent/transportation
# F2, F3: the business liaisons' Box folders and mail
BOX_BZ_OUT_FOLDER='Parent/Business Liaisons/to city'
BOX_BZ_IN_FOLDER='Parent/Business Liaisons/from city'
BOX_BZ_IN_SUCCESS=Parent/processed/success
BOX_BZ_IN_ERROR=Parent/processed/error
LIAISON_SMTP_URL=$smtp_host
LIAISON_SMTP_PORT=$smtp_port
LIAISON_USER_NAME=$TEST_SMTP_USER
LIAISON_USER_PWD=$TEST_SMTP_PASSWORD
LIAISON_MAIL_FROM=bz@city.example
LIAISON_MAIL_TO=liaisons@city.example
LIAISON_CA_FILE=$TEST_SMTP_CA
# F4: the printing company's PDFs, to Box
PRINTER_PICKBOX=$out/pickbox
BOX_PRINTER_PDFS_PARENT='Parent/Printer PDFs'
# F5: ReqCheck
REQCHECK_URL=$TEST_SANDBOX_URL/reqcheck
REQCHECK_USER=reqcheck
REQCHECK_PASSWORD=reqcheck-secret
REQCHECK_CA_FILE=$TEST_SANDBOX_CA
# F6: ReportStream
SPOOL_DIR=$out/spool
RS_URL=$TEST_SANDBOX_URL/reportstream
RS_CLIENT_ID=simple_report.default
RS_PRIVATE_KEY_FILE=$root/tests/fixtures/sandbox/reportstream-sender.key.pem
RS_CA_FILE=$TEST_SANDBOX_CA
# F7: Primero and OSCaR
PRIMERO_URL=$TEST_SANDBOX_URL/primero
PRIMERO_USER=primero_user
PRIMERO_PASSWORD=primero-secret
PRIMERO_CA_FILE=$TEST_SANDBOX_CA
OSCAR_URL=$TEST_SANDBOX_URL/oscar
OSCAR_EMAIL=oscar@example.org
OSCAR_PASSWORD=oscar-secret
OSCAR_CA_FILE=$TEST_SANDBOX_CA
# F8: Kobo to dhis2
DHIS2_URL=$TEST_SANDBOX_URL/dhis2
DHIS2_USER=admin
DHIS2_PASSWORD=district
DHIS2_CA_FILE=$TEST_SANDBOX_CA
DHIS2_POLL_INTERVAL=0.2
KOBO_CSV=$root/tests/fixtures/sipca/kobo_export.csv
EOF
export ENV_FILE=$out/demo.env
# The same values for the demo's own steps below.
set -a
# shellcheck source=/dev/null
. "$ENV_FILE"
set +a

# --- the flows
failures=0
# flow LABEL WANT CMD...: run a flow, its progress lines indented, and check its exit status.
flow() {
    local label=$1 want=$2 rc=0 t0=$SECONDS
    shift 2
    bold "$label"
    indent "$@" || rc=$?
    if [ "$rc" = "$want" ]; then
        say "    -> exit $rc ($((SECONDS - t0)) s)"
    else
        say "    -> exit $rc, the demo expected $want: see $LOG_DIR"
        failures=$((failures + 1))
    fi
}
day=2020-05-07

flow "F1 eod: the end-of-day files of $day (SFTP, mail, Box)" 0 pipelines/eod/run.sh "$day"

flow "F1 eod again: the same files, replaced on SFTP; no new Box version, no second mail" 0 pipelines/eod/run.sh "$day"

flow "F2 bz-out: the business requests of 2020-05-06 to the liaisons' Box folder" 0 \
    env START='2020-05-06 00:00' END='2020-05-07 00:00' pipelines/bz-out/run.sh

bold "The liaisons answer: every open request approved with the slots asked for, uploaded to 'from city'"
# The sandbox's seeded inbound files are in an older layout: out of the way first.
indent box-get --ca-file "$BOX_CA_FILE" --delete --id 200001 --id 200002
answers=$out/answers-2020-05-06.csv
csv-shape --to ndjson "$DATA_DIR/bz-out/business_requisition_2020-05-06_0000.csv" |
    json-map 'if .approved_confirm == "" and .business_code != "" then .approved_confirm = "Y" | .slots_approved = .slots_requested else . end' |
    csv-shape --from ndjson --columns-file pipelines/bz-out/request.columns -o "$answers"
indent box-put --ca-file "$BOX_CA_FILE" --path "$BOX_BZ_IN_FOLDER" "$answers"
say "    $(($(wc -l <"$answers") - 1)) rows in $(basename "$answers")"

flow "F3 bz-in: the answers checked, applied to the database and filed in processed/success" 0 pipelines/bz-in/run.sh

bold "The printing company drops three requisition PDFs for $day"
mkdir -p "$PRINTER_PICKBOX/$day"
for n in 1 2 3; do
    printf '%%PDF-1.4\n%% synthetic requisition %d\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%%%EOF\n' "$n" \
        >"$PRINTER_PICKBOX/$day/requisition-000$n.pdf"
done
say "    $(cd "$PRINTER_PICKBOX/$day" && echo *)"
flow "F4 printer-pdfs: the day's PDFs to Box" 0 pipelines/printer-pdfs/run.sh "$day"
flow "F4 printer-pdfs again: nothing new, nothing sent" 0 pipelines/printer-pdfs/run.sh "$day"

flow "F5 reqcheck: patients and vaccine doses to ReqCheck" 0 pipelines/reqcheck/run.sh

bold "The testing app spools five synthetic test results (and one half-written file)"
mkdir -p "$SPOOL_DIR"
for n in 1 2 3 4 5; do
    json-map -n --lookup event=tests/fixtures/reportstream/event.json --arg id "demo-result-$n" \
        --arg result "$([ "$n" = 3 ] && echo POSITIVE || echo NEGATIVE)" \
        '$event | .result_id = $id | .result = $result' >"$SPOOL_DIR/demo-result-$n.json"
    touch -d "$((10 - n)) minutes ago" "$SPOOL_DIR/demo-result-$n.json"
done
printf '{"result_id": "demo-result-6", "patient": {' >"$SPOOL_DIR/demo-result-6.json"
touch -d '1 minute ago' "$SPOOL_DIR/demo-result-6.json"
flow "F6 reportstream: the spool to ReportStream (the broken file is set aside in error/)" 0 pipelines/reportstream/run.sh

flow "F7 primero-oscar: cases both ways" 0 pipelines/primero-oscar/run.sh
flow "F7 primero-oscar again: nothing changed, nothing sent" 0 pipelines/primero-oscar/run.sh

flow "F8 sipca-mapping: the SIPCA program's metadata to a column mapping" 0 pipelines/sipca/mapping.sh
flow "F8 sipca: the Kobo export to dhis2 events" 0 pipelines/sipca/run.sh
flow "F8 sipca again: nothing changed, nothing sent" 0 pipelines/sipca/run.sh

# --- the report
# sandbox PATH [RECORDS]: a control answer of the sandbox as NDJSON (by default the whole answer, one line).
sandbox() { http-get --quiet --ca-file "$TEST_SANDBOX_CA" --records "${2:-.}" "$TEST_SANDBOX_URL/_sandbox/$1"; }
bold "What arrived where"

say "SFTP, the printing company ($TEST_SFTP_URL, folder $sftp_drop):"
find "$TEST_SFTP_DIR/home/$sftp_drop" -type f -printf '    %P  %s bytes\n' 2>/dev/null | sort

say "Mail (SMTP server on $TEST_SMTP_STARTTLS):"
find "$TEST_SMTP_MAILDIR" -name '*.json' -printf '%T@ %p\n' | sort -n | tail -n "+$((mails_before + 1))" | cut -d' ' -f2 |
    while read -r meta; do
        eml=${meta%.json}.eml
        subject=$(grep -m1 -i '^Subject:' "$eml" | cut -d' ' -f2- | tr -d '\r')
        files=$(grep -io 'filename="[^"]*"' "$eml" | cut -d'"' -f2 | sort -u | paste -sd' ' || true)
        json-map -r --arg subject "$subject" --arg files "$files" \
            '"    to \(.rcpt_tos | join(", ")): \($subject)\(if $files != "" then " [\($files)]" else "" end)"' "$meta"
    done

say "Box (the sandbox; files the flows wrote, with their version counts):"
sandbox 'state?api=box' | json-map -r '
    (.folders | map({key: .id, value: .}) | from_entries) as $f
    | def path($id): if $id == null or $id == "0" or $f[$id] == null then "" else path($f[$id].parent) + "/" + $f[$id].name end;
    .files[]
    | "    \(path(.parent))/\(.name)  v\(.version_count)"' | sort

say "Records per API (the sandbox):"
sandbox 'state?api=reqcheck' | json-map -r '"    ReqCheck: \(.patients | length) patients, \(.vaccine_doses | length) vaccine doses"'
sandbox 'state?api=reportstream' | json-map -r '"    ReportStream: \(.reports | length) report(s), \([.reports[].itemCount] | add // 0) test results"'
# What the sync wrote: the requests that are not a login, by method.
for api in Primero OSCaR; do
    sandbox "received?api=${api,,}" '.[]' | json-map --slurp -r --arg api "$api" '
        [.[] | select(.method != "GET" and (.path | test("tokens|sign_in") | not))]
        | group_by(.method) | map("\(length) \(.[0].method)") | join(", ")
        | "    \($api): \(if . == "" then "nothing written" else . end)"'
done
sandbox 'state?api=dhis2' | json-map -r '"    dhis2: \(.events | length) events stored, \(.jobs | length) import job(s)"'

say "Audit logs ($LOG_DIR):"
for f in "$LOG_DIR"/*.jsonl; do
    [ -s "$f" ] || continue
    json-map --slurp -r 'map(.tool // (if .ok == true then "record sent" elif .ok == false then "record failed" else "other" end))
        | group_by(.) | map("\(length) \(.[0])") | join(", ")' "$f" | sed "s|^|    $(basename "$f"): |"
done

if [ "$failures" -gt 0 ]; then
    bold "$failures flow run(s) did not end as expected; the logs are in $LOG_DIR"
    exit 1
fi
bold "All flows ran. Everything they wrote is under $out (the env file they read: $out/demo.env)."
