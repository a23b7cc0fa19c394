#!/usr/bin/env bash
# F1, end-of-day files, against sshd, the SMTP server and the sandbox's Box:
# the three files' layouts and value formats, what each server received, a
# rerun (no duplicates; new versions only for changed content), a missing
# variable (78), a Box outage (75; the audit log, F1's only state, then
# holds no Box receipt, so a rerun uploads again) and a refused SFTP login
# (77, with the mail and Box deliveries beside it still made).
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
test_init eod "${1:-}"

fixtures=$ROOT/tests/fixtures/masstesting
day=2020-05-07
csv() { "$PHTOOLS_BIN/csv-shape" "$@"; }

# The demo database, copied so that a test can change it.
demo_db

# The printing company: the test sshd, a drop folder of this run's own.
sftp_user=${TEST_SFTP_URL#sftp://}
sftp_user=${sftp_user%@*}
sftp_hostport=${TEST_SFTP_URL##*@}
export PRINT_SFTP_HOST=${sftp_hostport%:*} PRINT_SFTP_PORT=${sftp_hostport##*:}
export PRINT_SFTP_USERNAME=$sftp_user PRINT_SFTP_IDENTITY=$TEST_SFTP_DIR/client_key
export PRINT_SFTP_KNOWN_HOSTS=$TEST_SFTP_DIR/known_hosts
export PRINT_SFTP_DIR=eod-test-$$
drop=$TEST_SFTP_DIR/home/$PRINT_SFTP_DIR
at_end() { rm -rf "$drop"; }

# The health network: the test SMTP server (STARTTLS), a recipient of this run's own.
export HEALTH_NETWORK_SMTP_URL=${TEST_SMTP_STARTTLS%:*} HEALTH_NETWORK_SMTP_PORT=${TEST_SMTP_STARTTLS##*:}
export HEALTH_NETWORK_USER_NAME=$TEST_SMTP_USER HEALTH_NETWORK_USER_PWD=$TEST_SMTP_PASSWORD
export HEALTH_NETWORK_MAIL_FROM=eod@city.example HEALTH_NETWORK_MAIL_TO=intake-$$@health.example
export HEALTH_NETWORK_CA_FILE=$TEST_SMTP_CA
mails() { grep -l "intake-$$@health.example" "$TEST_SMTP_MAILDIR"/*.json 2>/dev/null | sed 's/\.json$/.eml/'; }

# The city: the sandbox's Box, the parent as a path and transportation as an id.
sb_box_env
export BOX_CA_FILE=$TEST_SANDBOX_CA
export BOX_EOD_PARENT='Parent/Daily Drive Thru Documents' BOX_EOD_TRANSPORTATION=100003
# The files of a Box folder by name: "name sha1 version_count" lines, sorted.
box_files() {
    sb_state box | jq -r --arg folder "$1" --arg parent "$2" '
        (.folders[] | select(.name == $folder and .parent == $parent) | .id) as $id
        | .files[] | select(.parent == $id) | "\(.name) \(.sha1) \(.version_count)"' | sort
}
sha1() { sha1sum "$1" | cut -d' ' -f1; }
# Every name in a folder, hidden ones too (a left-over temporary upload), sorted.
names() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | paste -sd' '; }

# --- a missing variable: exit 78, every missing one named, nothing sent
run_flow 78 env -u BOX_CONFIG -u HEALTH_NETWORK_USER_PWD "$ROOT/pipelines/eod/run.sh" "$day"
assert_eq "eod: error: missing variables: HEALTH_NETWORK_USER_PWD, BOX_CONFIG (see pipelines/eod/env.example)" \
    "$(tail -n 1 "$ERR")" "the missing variables line"
assert_no_file "$DATA_DIR/$day/patient_appointments_master.csv"
run_flow 78 env -u PRINT_SFTP_IDENTITY "$ROOT/pipelines/eod/run.sh" "$day"
assert_contains "$ERR" "missing variables: PRINT_SFTP_PASSWORD (see"
run_flow 64 "$ROOT/pipelines/eod/run.sh" 2020-13-01
# No DB_URL: 78 naming it, though make demo left data/demo.sqlite in the
# repository (the demo database is never a default).
[ -s "$ROOT/data/demo.sqlite" ] || fail "data/demo.sqlite is missing: make flows builds it first"
run_flow 78 env -u DB_URL "$ROOT/pipelines/eod/run.sh" "$day"
assert_eq "eod: error: missing variables: DB_URL (see pipelines/eod/env.example)" \
    "$(tail -n 1 "$ERR")" "a missing DB_URL"
assert_no_file "$DATA_DIR/$day/patient_appointments_master.csv"

# --- a column the database lost: exit 65 naming it, no file written, nothing sent
cp "$T/demo.sqlite" "$T/lost.sqlite"
sqlite3 "$T/lost.sqlite" "ALTER TABLE patients DROP COLUMN first_responder"
run_flow 65 env DB_URL="sqlite:$T/lost.sqlite" "$ROOT/pipelines/eod/run.sh" "$day"
assert_contains "$ERR" "first_responder" "the error"
assert_no_file "$DATA_DIR/$day/patient_appointments_master.csv"
assert_no_file "$LOG_DIR/${day}_eod.jsonl"

# --- a record the files cannot be made from (the last of the day): exit 65 from
# json-map, none of the three files left short, nothing sent
cp "$T/demo.sqlite" "$T/bad.sqlite"
sqlite3 "$T/bad.sqlite" "UPDATE appointments SET start_datetime = '$day late' WHERE id =
    (SELECT id FROM appointments WHERE start_datetime >= '$day' ORDER BY start_datetime DESC, id DESC LIMIT 1)"
run_flow 65 env DB_URL="sqlite:$T/bad.sqlite" "$ROOT/pipelines/eod/run.sh" "$day"
assert_contains "$ERR" "json-map: error: " "the error"
assert_no_file "$DATA_DIR/$day/patient_appointments_master.csv"
assert_no_file "$DATA_DIR/$day/patient_appointments.csv"
assert_no_file "$DATA_DIR/$day/patients_form_print.csv"
assert_no_file "$LOG_DIR/${day}_eod.jsonl"

# --- a day without appointments: nothing written or sent, exit 0
run_flow 0 "$ROOT/pipelines/eod/run.sh" 2020-05-10
assert_contains "$ERR" "no appointments on 2020-05-10: nothing written or sent"
assert_no_file "$DATA_DIR/2020-05-10/patient_appointments.csv"
assert_no_file "$drop/2020-05-10"
assert_no_file "$LOG_DIR/2020-05-10_eod.jsonl"

# --- the first run
run_flow 0 "$ROOT/pipelines/eod/run.sh" "$day"
out=$DATA_DIR/$day
master=$out/patient_appointments_master.csv
printer=$out/patient_appointments.csv
form=$out/patients_form_print.csv
appointments=$(sqlite3 "$T/demo.sqlite" "SELECT count(*) FROM appointments WHERE start_datetime >= '$day' AND start_datetime < '2020-05-08'")
assert_ne 0 "$appointments" "appointments in the demo database"

for f in patient_appointments_master.csv patient_appointments.csv patients_form_print.csv; do
    assert_file "$out/$f"
    assert_mode 600 "$out/$f"
    # The header row: the fixture's, byte for byte (quoted as PHP's fputcsv wrote it).
    assert_eq "$(head -n 1 "$fixtures/$f" | tr -d '\r')" "$(head -n 1 "$out/$f")" "the header of $f"
    # Every row has the header's column count (csv-shape refuses a ragged row).
    columns=$(head -n 1 "$fixtures/$f" | tr -d '"\r' | tr ',' '\n' | wc -l)
    assert_eq "[$columns]" "$(csv --to ndjson "$out/$f" | jq -sc 'map(length) | unique')" "the column count of every row of $f"
    assert_eq "$appointments" "$(csv --to ndjson "$out/$f" | wc -l)" "the rows of $f"
    # 1-based car numbers in appointment order.
    assert_eq "$(seq -s, 1 "$appointments")" "$(csv --select car_number "$out/$f" | tail -n +2 | paste -sd,)" "the car numbers of $f"
done

# Fields with a space quoted, as in the fixtures.
if sed -n 2p "$printer" | grep -Eq '^1,"May 07 05:00AM","[^"]+, [^"]+",[0-9]{4}-[0-9]{2}-[0-9]{2},"(General Public|Critical Infrastructure Employee)"$'; then
    pass
else
    fail "the printer file's first row is not quoted like the fixture's"
fi
csv --to ndjson "$printer" >"$T/printer.ndjson"
csv --to ndjson "$form" >"$T/form.ndjson"
csv --to ndjson "$master" >"$T/master.ndjson"
# Values the checks below compare with, computed by SQLite on its own.
sqlite3 -separator '|' "$T/demo.sqlite" "
    SELECT p.last_name || ', ' || p.first_name, p.dob,
           CAST(strftime('%Y', a.start_datetime) AS INTEGER) - CAST(strftime('%Y', p.dob) AS INTEGER)
             - (strftime('%m-%d', a.start_datetime) < strftime('%m-%d', p.dob)),
           CASE WHEN a.business_code IS NULL OR a.business_code = '' THEN 'General Public'
                ELSE 'Critical Infrastructure Employee' END,
           CASE WHEN p.first_responder = 1 THEN 'Yes' ELSE 'No' END, a.hash
    FROM appointments a JOIN patients p ON p.id = a.patient_id
    WHERE a.start_datetime >= '$day' AND a.start_datetime < '2020-05-08'
    ORDER BY a.start_datetime, a.id" >"$T/expected"
assert_eq "$(cut -d'|' -f1 "$T/expected")" "$(jq -r .name "$T/printer.ndjson")" "name is Last, First"
assert_eq "$(cut -d'|' -f2 "$T/expected")" "$(jq -r .dob "$T/printer.ndjson")" "the printer file's dob"
assert_eq "$(cut -d'|' -f2 "$T/expected")" "$(jq -r .dob "$T/form.ndjson")" "the print form's dob"
assert_eq "$(cut -d'|' -f3 "$T/expected")" "$(jq -r .age "$T/form.ndjson")" "age on the appointment date"
assert_eq "$(cut -d'|' -f4 "$T/expected")" "$(jq -r '."Patient Type"' "$T/printer.ndjson")" "Patient Type"
assert_eq "$(cut -d'|' -f5 "$T/expected")" "$(jq -r .first_responder "$T/form.ndjson")" "first_responder Yes/No"
assert_eq "$(cut -d'|' -f6 "$T/expected")" "$(jq -r .ereqnumber "$T/master.ndjson")" "ereqnumber is the hash"
assert_eq "$(cut -d'|' -f3 "$T/expected" | awk '{ print ($1 < 16) ? "Yes" : "No" }')" \
    "$(jq -r .pediatric_swab "$T/master.ndjson")" "pediatric_swab: under 16 on the day"
assert_eq "$(jq -r .pediatric_swab "$T/master.ndjson")" "$(jq -r .pediatric_swab "$T/form.ndjson")" "pediatric_swab in both files"
assert_contains "$T/expected" "|Yes|" "the demo day's first responders"
if cut -d'|' -f3 "$T/expected" | awk '$1 < 16 { found = 1 } END { exit !found }'; then pass; else fail "the demo day has no child"; fi
assert_eq "Critical Infrastructure Employee" "$(cut -d'|' -f4 "$T/expected" | sort -u | head -n 1)" "the demo day has business codes"
assert_eq "$(cut -d'|' -f4 "$T/expected" | sed 's/^General Public$//; s/^Critical.*/CRITICAL INFRASTRUCTURE EMPLOYEE/')" \
    "$(jq -r .prescription_content "$T/form.ndjson")" "prescription_content"
assert_eq "$(cut -d'|' -f1 "$T/expected" | cut -c1-2)" "$(jq -r .last_name_abbrv "$T/form.ndjson")" "last_name_abbrv"
# The formats, on every row.
bad=$(jq -r 'select(.start_datetime | test("^May 07 (0[1-9]|1[0-2]):[0-5][0-9](AM|PM)$") | not) | .car_number' "$T/printer.ndjson")
assert_eq "" "$bad" "start_datetime like May 07 05:00AM (bad rows)"
bad=$(jq -r 'select(.app_start | test("^Thursday 7th, May 2020 (0[1-9]|1[0-2]):[0-5][0-9] (AM|PM)$") | not) | .car_number' "$T/form.ndjson")
assert_eq "" "$bad" "app_start like Thursday 7th, May 2020 05:00 AM (bad rows)"
assert_eq "May 07 05:00AM" "$(jq -r .start_datetime "$T/printer.ndjson" | head -n 1)" "the first start_datetime"
assert_eq "Thursday 7th, May 2020 05:00 AM" "$(jq -r .app_start "$T/form.ndjson" | head -n 1)" "the first app_start"
assert_eq "May 07 06:45PM" "$(jq -r .start_datetime "$T/printer.ndjson" | tail -n 1)" "the last start_datetime"
assert_eq "2020-05-07 05:00:00" "$(jq -r .start_datetime "$T/master.ndjson" | head -n 1)" "the master file's start_datetime"
assert_eq "" "$(jq -r '[.ssn, .county, .pcp_first_name, .pcp_zip_code] | map(select(. != "")) | .[]' "$T/master.ndjson" | sort -u | grep -v 'Demo County')" \
    "columns the database lacks are empty"
# Ordinal days and the age on the day, beyond the demo day (eod.jq alone, synthetic records).
for d in 01 02 03 04 11 12 13 21 22 23 31; do
    printf '{"start_datetime":"2020-%s-%sT17:30:00","dob":"2004-%s-%s","first_name":"A","last_name":"bc","first_responder":1,"hash":"H","business_code":""}\n' \
        "$([ "$d" = 31 ] && echo 05 || echo 06)" "$d" "$([ "$d" = 31 ] && echo 05 || echo 06)" "$d"
done | "$PHTOOLS_BIN/json-map" -f "$ROOT/pipelines/eod/eod.jq" --arg file form_print >"$T/days.ndjson"
assert_eq "Monday 1st, June 2020 05:30 PM|Tuesday 2nd, June 2020 05:30 PM|Wednesday 3rd, June 2020 05:30 PM|Thursday 4th, June 2020 05:30 PM|Thursday 11th, June 2020 05:30 PM|Friday 12th, June 2020 05:30 PM|Saturday 13th, June 2020 05:30 PM|Sunday 21st, June 2020 05:30 PM|Monday 22nd, June 2020 05:30 PM|Tuesday 23rd, June 2020 05:30 PM|Sunday 31st, May 2020 05:30 PM" \
    "$(jq -r .app_start "$T/days.ndjson" | paste -sd'|')" "ordinal days"
assert_eq "16 No Yes Bc" "$(jq -r '"\(.age) \(.pediatric_swab) \(.first_responder) \(.last_name_abbrv)"' "$T/days.ndjson" | sort -u | paste -sd' ')" "16 on the birthday"
assert_eq "15 Yes" "$(printf '{"start_datetime":"2020-06-01T08:00:00","dob":"2004-06-02","first_name":"A","last_name":"b","first_responder":0,"hash":"H","business_code":null}\n' \
    | "$PHTOOLS_BIN/json-map" -f "$ROOT/pipelines/eod/eod.jq" --arg file form_print | jq -r '"\(.age) \(.pediatric_swab)"')" "15 the day before"
# No patient data on stderr.
first_last=$(head -n 1 "$T/expected" | cut -d'|' -f1)
assert_not_contains "$ERR" "${first_last%%,*}" "stderr"
assert_not_contains "$LOG_DIR/${day}_eod.log" "${first_last%%,*}" "the stderr log"

# What the printing company received: the two printer files in drop/DATE.
assert_eq "patient_appointments.csv patients_form_print.csv" "$(names "$drop/$day")" "the SFTP folder"
if cmp -s "$printer" "$drop/$day/patient_appointments.csv" && cmp -s "$form" "$drop/$day/patients_form_print.csv"; then pass; else fail "the SFTP files differ from data/$day"; fi

# What the health network received: one mail, the master file attached, the date in the subject.
mails >"$T/mails"
assert_lines 1 "$T/mails" "mails received"
eml=$(head -n 1 "$T/mails")
assert_contains "$eml" "Subject: Patient appointments $day" "the mail"
assert_contains "$eml" 'filename="patient_appointments_master.csv"' "the mail"
assert_contains "$TEST_SMTP_LOG" "STARTTLS" "the SMTP command log"

# What Box received: the three files in Parent/Daily Drive Thru Documents/05-07-2020,
# the print file in transportation under its dated name.
expect_day="patient_appointments.csv $(sha1 "$printer") 1
patient_appointments_master.csv $(sha1 "$master") 1
patients_form_print.csv $(sha1 "$form") 1"
assert_eq "$expect_day" "$(box_files 05-07-2020 100002)" "the Box day folder"
assert_eq "patients_form_print_$day.csv $(sha1 "$form") 1" \
    "$(sb_state box | jq -r '.files[] | select(.parent == "100003") | "\(.name) \(.sha1) \(.version_count)"')" "Box transportation"

# The audit log: every receipt.
audit=$LOG_DIR/${day}_eod.jsonl
assert_eq "box-put 4
sftp-put 2
smtp-send 1" "$(jq -r .tool "$audit" | sort | uniq -c | awk '{ print $2, $1 }')" "receipts in the audit log"
assert_mode 600 "$audit"

# --- a rerun with the same data: files replaced, nothing duplicated, no new Box version, no second mail
run_flow 0 "$ROOT/pipelines/eod/run.sh" "$day"
assert_contains "$ERR" "not mailed again"
assert_eq "patient_appointments.csv patients_form_print.csv" "$(names "$drop/$day")" "the SFTP folder after a rerun"
mails >"$T/mails"
assert_lines 1 "$T/mails" "mails after a rerun"
assert_eq "$expect_day" "$(box_files 05-07-2020 100002)" "the Box day folder after a rerun"
assert_eq 1 "$(sb_state box | jq '[.folders[] | select(.name == "05-07-2020")] | length')" "Box day folders"
assert_eq "unchanged unchanged unchanged unchanged" \
    "$(jq -r 'select(.tool == "box-put") | .fields.action' "$audit" | tail -n 4 | paste -sd' ')" "box-put receipts of the rerun"

# --- a dry-run mail receipt is no delivery: with only that one in the audit log, the master file is mailed
jq -c 'if .tool == "smtp-send" then .dry_run = true else . end' "$audit" >"$T/audit.dry"
cat "$T/audit.dry" >"$audit"
run_flow 0 "$ROOT/pipelines/eod/run.sh" "$day"
assert_not_contains "$ERR" "not mailed again"
mails >"$T/mails"
assert_lines 2 "$T/mails" "mails after a rerun whose audit log held only a dry-run mail"

# --- a rerun after the data changed: new SFTP files, a new Box version of each changed file, a new mail
sqlite3 "$T/demo.sqlite" "UPDATE patients SET first_name = 'Renamed' WHERE id = (SELECT patient_id FROM appointments WHERE start_datetime >= '$day' ORDER BY start_datetime, id LIMIT 1)"
run_flow 0 "$ROOT/pipelines/eod/run.sh" "$day"
assert_contains "$printer" "Renamed"
if cmp -s "$printer" "$drop/$day/patient_appointments.csv" && cmp -s "$form" "$drop/$day/patients_form_print.csv"; then pass; else fail "the SFTP files were not replaced"; fi
assert_eq "patient_appointments.csv patients_form_print.csv" "$(names "$drop/$day")" "the SFTP folder after a changed rerun"
assert_eq "patient_appointments.csv $(sha1 "$printer") 2
patient_appointments_master.csv $(sha1 "$master") 2
patients_form_print.csv $(sha1 "$form") 2" "$(box_files 05-07-2020 100002)" "new Box versions"
assert_eq "patients_form_print_$day.csv $(sha1 "$form") 2" \
    "$(sb_state box | jq -r '.files[] | select(.parent == "100003") | "\(.name) \(.sha1) \(.version_count)"')" "Box transportation, new version"
mails >"$T/mails"
assert_lines 3 "$T/mails" "mails after a changed rerun"

# --- a Box outage: exit 75 after the retries, no Box receipt in the audit log
sb_fault '{"path":"/box/*","status":503,"count":1000}'
run_flow 75 "$ROOT/pipelines/eod/run.sh" 2020-05-08
assert_eq 0 "$(jq -c 'select(.tool == "box-put")' "$LOG_DIR/2020-05-08_eod.jsonl" | grep -c .)" "Box receipts after an outage"
assert_eq 2 "$(jq -c 'select(.tool == "sftp-put")' "$LOG_DIR/2020-05-08_eod.jsonl" | grep -c .)" "SFTP receipts before the outage"
sb_reset
run_flow 0 "$ROOT/pipelines/eod/run.sh" 2020-05-08
assert_eq 4 "$(jq -c 'select(.tool == "box-put")' "$LOG_DIR/2020-05-08_eod.jsonl" | grep -c .)" "Box receipts after the outage ended"
assert_eq 1 "$(jq -c 'select(.tool == "smtp-send")' "$LOG_DIR/2020-05-08_eod.jsonl" | grep -c .)" "one mail for 2020-05-08 across both runs"

# --- the printing company refuses the login: exit 77, and the mail and Box
# deliveries, which run beside the SFTP one, still happen and are audited
sqlite3 "$T/demo.sqlite" "UPDATE patients SET first_name = 'Renamed' WHERE id = (SELECT patient_id FROM appointments WHERE start_datetime >= '2020-05-08' ORDER BY start_datetime, id LIMIT 1)"
ssh-keygen -q -t ed25519 -N '' -f "$T/wrong_key"
mkdir "$T/jobs"
TMPDIR=$T/jobs PRINT_SFTP_IDENTITY=$T/wrong_key run_flow 77 "$ROOT/pipelines/eod/run.sh" 2020-05-08
assert_eq "" "$(ls -A "$T/jobs")" "the deliveries' receipts folder after the run"
assert_eq 4 "$(jq -c 'select(.tool == "sftp-put")' "$LOG_DIR/2020-05-08_eod.jsonl" | grep -c .)" "SFTP receipts after a refused login (the two runs before)"
assert_eq 2 "$(jq -c 'select(.tool == "smtp-send")' "$LOG_DIR/2020-05-08_eod.jsonl" | grep -c .)" "the changed master file mailed beside a refused SFTP login"
assert_eq "version version version version" \
    "$(jq -r 'select(.tool == "box-put") | .fields.action' "$LOG_DIR/2020-05-08_eod.jsonl" | tail -n 4 | paste -sd' ')" "Box uploads beside a refused SFTP login"

# --- an audit log that cannot be read: json-map's 65 before anything is sent
audit8=$LOG_DIR/2020-05-08_eod.jsonl
cp "$audit8" "$T/audit8"
printf '{"tool":"smtp-send",\n' >>"$audit8"
sb_reset
run_flow 65 "$ROOT/pipelines/eod/run.sh" 2020-05-08
assert_contains "$ERR" "cannot read the audit log $audit8"
assert_eq 0 "$(sb_received box | jq length)" "Box requests with an unreadable audit log"
mails >"$T/mails"
assert_eq 5 "$(grep -c . "$T/mails")" "mails with an unreadable audit log (as many as before)"

# --- receipts that cannot be appended to the audit log (a full disk): exit 74
# once every delivery ended, the receipts kept in the folder the error names
rm -f "$audit8"
ln -s /dev/full "$audit8"
TMPDIR=$T/jobs run_flow 74 "$ROOT/pipelines/eod/run.sh" 2020-05-08
kept=$(ls -d "$T"/jobs/eod-jobs.* 2>/dev/null)
assert_contains "$ERR" "receipts of this run are kept in $kept"
assert_eq "box.jsonl mail.jsonl sftp.jsonl" "$(find "$kept" -type f -printf '%f\n' | sort | paste -sd' ')" "the kept receipts"
assert_eq "1 2 4" "$(for f in mail sftp box; do jq -c . "$kept/$f.jsonl" | grep -c .; done | paste -sd' ')" "receipts kept per delivery"
rm -f "$audit8"
cp "$T/audit8" "$audit8"

at_end
test_done
