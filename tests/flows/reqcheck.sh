#!/usr/bin/env bash
# F5, ReqCheck extract: pipelines/reqcheck/run.sh against the sandbox's ReqCheck
# with a copy of the demo database. Records arrive with ReqCheck's shapes and
# counts; a second run sends only what changed since the heartbeat; a
# partial_failure is a warning with the error ids; file mode sends nothing;
# a missing variable is 78, an outage 75.
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
test_init reqcheck "${1:-}"

flow=$ROOT/pipelines/reqcheck/run.sh
db=$T/reqcheck.sqlite
cp "$ROOT/data/demo.sqlite" "$db"
chmod 600 "$db"
phi_sentinels "$db"
export DATABASE_URL=sqlite:$db
export REQCHECK_URL=$TEST_SANDBOX_URL/reqcheck REQCHECK_USER=reqcheck REQCHECK_PASSWORD=reqcheck-secret
export REQCHECK_CA_FILE=$TEST_SANDBOX_CA REQCHECK_BATCH=75
unset REQCHECK_OVERLAP PUBLISH_TO
day=2024-05-08
audit=$LOG_DIR/${day}_reqcheck.jsonl
sql() { sqlite3 "$db" "$1"; }
state() { sb_state reqcheck >"$T/state.json"; }
received() { sb_received reqcheck >"$T/received.json"; }

# A missing variable: 78, naming it, before anything is sent.
run_flow 78 env -u REQCHECK_PASSWORD "$flow" "$day"
assert_contains "$ERR" "reqcheck: error: missing variables: REQCHECK_PASSWORD (see pipelines/reqcheck/env.example)"
received
assert_eq 0 "$(jq length "$T/received.json")" "requests after a missing variable"

# File mode: the payloads on disk (0600), nothing sent, not even the heartbeat.
run_flow 0 env -u REQCHECK_URL -u REQCHECK_PASSWORD PUBLISH_TO=file "$flow" "$day"
payloads=$DATA_DIR/$day/reqcheck
assert_eq "patient_data-0001.json patient_data-0002.json patient_data-0003.json vaccine_dose_data-0001.json vaccine_dose_data-0002.json vaccine_dose_data-0003.json" \
    "$(cd "$payloads" && echo *.json)" "file mode payloads"
assert_mode 600 "$payloads/patient_data-0001.json"
assert_eq 200 "$(cat "$payloads"/patient_data-*.json | jq -s '[.[].patient_data[]] | length')" "patients on disk"
assert_eq 600 "$(cat "$payloads"/vaccine_dose_data-*.json | jq -s '[.[].vaccine_dose_data[]] | length')" "doses on disk"
received
assert_eq 0 "$(jq length "$T/received.json")" "requests in file mode"

# First run: ReqCheck has no import yet, so everything goes, 75 a batch.
run_flow 0 "$flow" "$day"
received
assert_eq "heartbeat patient_data patient_data patient_data vaccine_dose_data vaccine_dose_data vaccine_dose_data" \
    "$(jq -r '[.[].path | split("/") | last] | join(" ")' "$T/received.json")" "requests of the first run"
assert_eq "75 75 50" "$(jq -r '[.[] | select(.path | endswith("/patient_data")) | .body.patient_data | length] | join(" ")' "$T/received.json")" "patients per batch"
assert_eq "true" "$(jq '[.[] | .headers.authorization // "" | startswith("Basic ")] | all' "$T/received.json")" "Basic auth on every request"
state
assert_eq "200 600 0" "$(jq -r '"\(.patients | length) \(.vaccine_doses | length) \(.error_objects | length)"' "$T/state.json")" "patients, doses and errors stored"
# The shapes: ReqCheck's keys only, dates converted, no null or empty values.
want_p=$(sql "SELECT patient_number || ' ' || dob || ' ' || replace(updated_at, ' ', 'T') || 'Z' FROM rc_patients WHERE patient_number = 10005")
assert_eq "$want_p" "$(jq -r '.[] | select(.path | endswith("/patient_data")) | .body.patient_data[] | select(.patient_number == 10005) | "\(.patient_number) \(.dob) \(.hd_mpfile_updated_at)"' "$T/received.json")" "patient 10005 as sent"
assert_eq '[]' "$(jq -c '[.[] | select(.path | endswith("/patient_data")) | .body.patient_data[] | to_entries[] | select(.value == null or .value == "") | .key] | unique' "$T/received.json")" "no null or empty patient values"
assert_eq '["cvx_code","date_administered","hd_imfile_updated_at","lot_number","mvx_code","patient_number","provider_code"]' \
    "$(jq -c '[.[] | select(.path | endswith("/vaccine_dose_data")) | .body.vaccine_dose_data[] | keys[]] | unique' "$T/received.json")" "dose keys"
# A patient's doses are never split between two imports (each import replaces them all).
assert_eq 200 "$(jq '[.[] | select(.path | endswith("/vaccine_dose_data")) | .body.vaccine_dose_data | map(.patient_number) | unique[]] | length' "$T/received.json")" "patients in dose batches, each once"
assert_eq 6 "$(grep -c '"tool":"http-post".*"reqcheck_status":"success"' "$audit")" "success receipts in the audit log"
assert_mode 600 "$audit"
assert_not_contains "$LOG_DIR/${day}_reqcheck.log" "reqcheck-secret" "the stderr log"
assert_not_contains "$audit" "reqcheck-secret" "the audit log"

# Right after: nothing changed since the heartbeat, so only the heartbeat.
before=$(jq length "$T/received.json")
run_flow 0 "$flow" "$day"
received
assert_eq "heartbeat" "$(jq -r --argjson n "$before" '[.[$n:][].path | split("/") | last] | join(" ")' "$T/received.json")" "requests of a run with nothing changed"

# Two patients and one dose change: those patients, and all of that dose's
# patient's doses. A third patient changed two minutes before the last import,
# maybe after its extract, is sent again too (REQCHECK_OVERLAP, 300 s).
sql "UPDATE rc_patients SET city = 'Lansing', updated_at = datetime('now') WHERE patient_number IN (10007, 10008);
     UPDATE rc_patients SET updated_at = datetime('now', '-120 seconds') WHERE patient_number = 10010;
     UPDATE rc_vaccine_doses SET lot_number = 'LOT-NEW', updated_at = datetime('now')
       WHERE id = (SELECT min(id) FROM rc_vaccine_doses WHERE patient_number = 10009)"
before=$(jq length "$T/received.json")
run_flow 0 "$flow" "$day"
received
jq --argjson n "$before" '.[$n:]' "$T/received.json" >"$T/second.json"
assert_eq "heartbeat patient_data vaccine_dose_data" "$(jq -r '[.[].path | split("/") | last] | join(" ")' "$T/second.json")" "requests after a change"
assert_eq "10007 10008 10010" "$(jq -r '[.[1].body.patient_data[].patient_number] | join(" ")' "$T/second.json")" "changed patients sent"
doses9=$(sql "SELECT count(*) FROM rc_vaccine_doses WHERE patient_number = 10009")
assert_eq "$doses9 10009" "$(jq -r '.[2].body.vaccine_dose_data | "\(length) \(map(.patient_number) | unique | join(","))"' "$T/second.json")" "all doses of the changed dose's patient"
state
assert_eq "Lansing" "$(jq -r '.patients[] | select(.patient_number == 10007) | .city' "$T/state.json")" "patient updated in ReqCheck"
assert_eq "$doses9 600" "$(jq -r '"\([.vaccine_doses[] | select(.patient_number == 10009)] | length) \(.vaccine_doses | length)"' "$T/state.json")" "doses kept whole"

# partial_failure: a patient without a first name is refused by ReqCheck; the
# others are imported and the run succeeds, with a warning naming the error id.
sql "UPDATE rc_patients SET first_name = '', updated_at = datetime('now') WHERE patient_number = 10011;
     UPDATE rc_patients SET updated_at = datetime('now') WHERE patient_number = 10012"
run_flow 0 "$flow" "$day"
state
err_id=$(jq -r '.error_objects[] | select(.patient_number == 10011) | .id' "$T/state.json")
assert_ne "" "$err_id" "ReqCheck's error object for patient 10011"
assert_contains "$ERR" "reqcheck: warning: patient_data: import" "partial_failure warning"
assert_contains "$ERR" "partial_failure, ReqCheck error objects $err_id" "the warning names the error id"
assert_contains "$audit" '"reqcheck_status":"partial_failure"' "the partial receipt in the audit log"
assert_not_contains "$ERR" "Pia" "no names in the warning"

# A wrong password: 77 at the heartbeat, nothing imported, the password nowhere.
imports=$(sb_state reqcheck | jq '.imports | length')
run_flow 77 env REQCHECK_PASSWORD=not-the-password "$flow" "$day"
assert_not_contains "$ERR" "not-the-password" "stderr after a refused login"
assert_eq "$imports" "$(sb_state reqcheck | jq '.imports | length')" "imports after a refused login"

# An outage: ReqCheck answers 503 (more times than http-post retries): 75.
imports=$(sb_state reqcheck | jq '.imports | length')
sb_fault '{"path":"/reqcheck/patient_data","status":503,"count":20}'
sql "UPDATE rc_patients SET updated_at = datetime('now') WHERE patient_number = 10013"
run_flow 75 "$flow" "$day"
assert_contains "$ERR" "503"
state
assert_eq "$imports" "$(jq '.imports | length' "$T/state.json")" "imports after the outage"

test_done
