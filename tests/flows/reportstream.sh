#!/usr/bin/env bash
# F6, test results to ReportStream: pipelines/reportstream/run.sh against the
# sandbox's ReportStream with a spool of synthetic test events (made from
# tests/fixtures/reportstream/event.json). The CSV's columns and codes, the
# auth headers, warnings logged by Result_ID, a broken event set aside, a 400
# moving its batch to error/, a 503 leaving it for the next run (which sends it
# once), the batch size, and a missing variable (78).
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
test_init reportstream "${1:-}"

flow=$ROOT/pipelines/reportstream/run.sh
spool=$T/spool
day=2024-05-08
export SPOOL_DIR=$spool
export RS_URL=$TEST_SANDBOX_URL/reportstream RS_CLIENT_ID=simple_report.default RS_CA_FILE=$TEST_SANDBOX_CA
export RS_PRIVATE_KEY_FILE=$ROOT/tests/fixtures/sandbox/reportstream-sender.key.pem
unset RS_FUNCTION_KEY RS_BATCH RS_OPTION
mkdir -p "$spool"
age=100

# event ID [JQ]: a synthetic event with Result_ID ID in the spool, each one
# written a second later than the one before (the spool is read oldest first).
event() {
    jq -c --arg id "$1" ".result_id = \$id | ${2:-.}" "$ROOT/tests/fixtures/reportstream/event.json" >"$spool/$1.json"
    touch -d "$age seconds ago" "$spool/$1.json"
    age=$((age - 1))
}
reports() { sb_state reportstream | jq -c "${1:-.reports}"; }
in_dir() { find "$1" -mindepth 1 -maxdepth 1 ! -name '.*' -printf '%f\n' 2>/dev/null | LC_ALL=C sort | paste -sd ' '; }

# Missing variables: 78 naming them, nothing read or sent.
event r-1
run_flow 78 env -u RS_URL "$flow" "$day"
assert_contains "$ERR" "reportstream: error: missing variables: RS_URL (see pipelines/reportstream/env.example)"
run_flow 78 env -u RS_PRIVATE_KEY_FILE -u RS_CLIENT_ID "$flow" "$day"
assert_contains "$ERR" "missing variables: RS_CLIENT_ID, RS_PRIVATE_KEY_FILE"
assert_eq 0 "$(sb_received reportstream | jq length)" "requests after a missing variable"
assert_eq "r-1.json" "$(in_dir "$spool")" "the spool after a missing variable"

# One report: good events, one with a sex outside the code map (a warning by
# Result_ID), and a broken file set aside on its own.
event r-2 '.patient.race = "white" | .patient.sex = "male" | .patient.ethnicity = "hispanic" | .result = "POSITIVE"'
event r-3 '.patient.sex = "martian" | .patient.race = null | .patient.ethnicity = null | .status = "corrected"'
printf '{"result_id": "r-4", "patient": {' >"$spool/r-4.json"
touch -d '1 minute ago' "$spool/r-4.json"
run_flow 0 "$flow" "$day"
assert_eq "r-1.json r-2.json r-3.json" "$(in_dir "$spool/sent")" "sent/"
assert_eq "r-4.json" "$(in_dir "$spool/error")" "error/ holds the broken event"
assert_eq '[{"client":"simple_report.default","contentType":"text/csv","itemCount":3,"trackingIds":["r-1","r-2","r-3"]}]' \
    "$(reports '[.reports[] | {client, contentType, itemCount, trackingIds}]')" "the report in ReportStream"
sb_received reportstream >"$T/received.json"
assert_eq "/reportstream/api/token /reportstream/api/reports" "$(jq -r '[.[].path] | join(" ")' "$T/received.json")" "token then report"
assert_eq "true" "$(jq '.[1].headers.authorization | startswith("Bearer ")' "$T/received.json")" "bearer token"
assert_eq "simple_report.default" "$(jq -r '.[1].headers.client' "$T/received.json")" "client header"
jq -r '.[1].body' "$T/received.json" >"$T/report.csv"
assert_eq "$(grep -v '^#' "$ROOT/pipelines/reportstream/columns.txt" | paste -sd ,)" "$(head -n 1 "$T/report.csv")" "CSV header, in APIS.md's order"
# row ID COLUMNS: those columns of the report's row for Result_ID ID.
row() { "$PHTOOLS_BIN/csv-shape" --where "Result_ID=$1" --select "$2" "$T/report.csv" | tail -n +2; }
assert_eq "2028-9,19900507,F,N,260415000,20240506133000,F,N,Y,53342003,P" \
    "$(row r-1 Patient_race,Patient_DOB,Patient_gender,Patient_ethnicity,Test_result_code,Specimen_collection_date_time,Test_result_status,Employed_in_healthcare,First_test,Specimen_source_site_code,Processing_mode_code)" "r-1 mapped"
assert_eq "2106-3,M,H,260373001" "$(row r-2 Patient_race,Patient_gender,Patient_ethnicity,Test_result_code)" "r-2 mapped"
assert_eq "UNK,martian,U,C,C,C" "$(row r-3 Patient_race,Patient_gender,Patient_ethnicity,Test_result_status,Order_result_status,Observation_result_status)" "r-3 mapped"
assert_contains "$ERR" "warning (item) on Patient_gender for Result_ID r-3" "the warning by Result_ID"
assert_contains "$LOG_DIR/${day}_reportstream.log" "on Patient_gender for Result_ID r-3" "the warning in the log"
assert_contains "$ERR" "r-4.json: line 1: not valid JSON" "the broken event named"
assert_not_contains "$ERR" "Sample" "no names on stderr"
assert_not_contains "$ERR" "martian" "no values on stderr"
assert_contains "$LOG_DIR/${day}_reportstream.jsonl" '"warnings":[{"scope":"item","field":"Patient_gender","trackingIds":["r-3"]}]' "the receipt's warnings"
assert_contains "$LOG_DIR/${day}_reportstream.jsonl" '"tool":"batch-split"' "batch-split's receipt"

# An empty spool: nothing sent, exit 0.
sb_reset
run_flow 0 "$flow" "$day"
assert_eq 0 "$(sb_received reportstream | jq length)" "requests for an empty spool"

# A 503 outage (every try): exit 75, the events stay; the next run sends them once.
event r-5
event r-6
sb_fault '{"path":"/reportstream/api/reports","status":503,"count":4}'
run_flow 75 "$flow" "$day"
assert_eq "error r-5.json r-6.json sent" "$(in_dir "$spool")" "the spool after an outage"
assert_eq 0 "$(reports '.reports | length')" "reports after an outage"
run_flow 0 "$flow" "$day"
assert_eq '[["r-5","r-6"]]' "$(reports '[.reports[].trackingIds]')" "one report after the outage"
assert_eq "r-1.json r-2.json r-3.json r-5.json r-6.json" "$(in_dir "$spool/sent")" "sent/ after the outage"

# A wrong function key: 77, the events stay in the spool.
event r-6b
run_flow 77 env -u RS_PRIVATE_KEY_FILE RS_FUNCTION_KEY=not-the-key "$flow" "$day"
assert_eq "error r-6b.json sent" "$(in_dir "$spool")" "the spool after a refused key"
assert_not_contains "$ERR" "not-the-key" "stderr after a refused key"
run_flow 0 "$flow" "$day"
assert_eq '[["r-5","r-6"],["r-6b"]]' "$(reports '[.reports[].trackingIds]')" "sent once the key is right"

# A 400: the batch goes to error/, is not retried, and the run says so (65).
sb_reset
event r-7
event r-8
sb_fault '{"path":"/reportstream/api/reports","status":400,"count":1,"body":{"id":null,"submissionId":null,"overallStatus":"Error","reportItemCount":0,"destinations":[],"errorCount":1,"warningCount":0,"errors":[{"scope":"report","indices":[],"trackingIds":[],"field":"Patient_DOB","message":"refused"}],"warnings":[]}}'
run_flow 65 "$flow" "$day"
assert_eq "r-4.json r-7.json r-8.json" "$(in_dir "$spool/error")" "error/ after a 400"
assert_contains "$ERR" "refused the report as a whole (400)"
assert_contains "$ERR" "error (report) on Patient_DOB"
run_flow 0 "$flow" "$day"
assert_eq 1 "$(sb_received reportstream | jq '[.[] | select(.path == "/reportstream/api/reports")] | length')" "a refused batch is not sent again"

# Up to RS_BATCH events a run, oldest first; the function key instead of a token.
sb_reset
event r-9
event r-10
event r-11
run_flow 0 env -u RS_PRIVATE_KEY_FILE RS_FUNCTION_KEY=rs-function-key RS_BATCH=2 "$flow" "$day"
assert_eq '[["r-9","r-10"]]' "$(reports '[.reports[].trackingIds]')" "the two oldest events"
assert_eq "r-11.json" "$(in_dir "$spool" | tr ' ' '\n' | grep json)" "the newest left for the next run"
sb_received reportstream >"$T/received.json"
assert_eq "rs-function-key null" "$(jq -r '.[0].headers | "\(."x-functions-key") \(.authorization)"' "$T/received.json")" "function key, no token"

test_done
