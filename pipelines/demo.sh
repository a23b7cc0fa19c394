#!/usr/bin/env bash
# make demo: run the record filters on the sample files and show what they made.
# Everything is written under demo-out/; nothing leaves this machine.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BIN:-target/release}
fixtures=tests/fixtures/masstesting
out=demo-out
PATH="$PWD/$bin:$PATH"
rm -rf "$out"
mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "db-extract: the first appointments of the demo day from the demo database (make demo-db; synthetic people)"
db-extract --db sqlite:data/demo.sqlite \
    --query 'SELECT a.start_datetime, p.last_name, p.first_name, a.hash, a.business_code
             FROM appointments a JOIN patients p ON p.id = a.patient_id
             WHERE a.start_datetime >= ? AND a.start_datetime < ? ORDER BY a.start_datetime, a.id' \
    --param 2020-05-07 --param 2020-05-08 > "$out/appointments.csv"
head -n 4 "$out/appointments.csv"
echo "... $(($(wc -l < "$out/appointments.csv") - 1)) appointments in all"

step "csv-shape: the Business Request template, trailing empty rows dropped, required columns checked"
csv-shape --skip-empty-rows --require business_code,hash \
    --select business_code,business_name,slots_requested,approved_confirm,slots_approved \
    "$fixtures/Business_Request_Template.csv" | tee "$out/business_requests.csv"

step "csv-shape | json-map | csv-shape: the master patient file in the printer's layout"
csv-shape --to ndjson "$fixtures/patient_appointments_master.csv" \
    | json-map '{
        car_number,
        start_datetime: (.start_datetime | strptime("%Y-%m-%d %H:%M:%S") | strftime("%b %d %I:%M%p")),
        name: "\(.last_name), \(.first_name)",
        dob: .dob[0:10],
        "Patient Type": (if .id_roles == "essential-worker" or .caller == "essential-worker"
                         then "Critical Infrastructure Employee" else "General Public" end)
      }' \
    | csv-shape --from ndjson --select 'car_number,start_datetime,name,dob,Patient Type' \
        -o "$out/patient_appointments.csv"
cat "$out/patient_appointments.csv"
printf 'mode of %s: %s\n' "$out/patient_appointments.csv" "$(stat -c %a "$out/patient_appointments.csv")"

step "csv-shape: a Kobo export (~-separated) to NDJSON, every value kept as a string"
printf '_uuid~ASSESSMENT_DATE~FACILITY~Q1\nu-001~2024-03-01~Clinic A~yes\nu-002~2024-03-02~Clinic B~no\n' \
    > "$out/kobo.csv"
csv-shape -d '~' --to ndjson "$out/kobo.csv" | tee "$out/kobo.ndjson"

step "json-map --slurp: records gathered into one ReqCheck-style payload"
json-map --slurp '{patient_data: [.[] | {patient_number: ._uuid, occurred: .ASSESSMENT_DATE}]}' "$out/kobo.ndjson"

step "batch-split: the master file in batches of 1 record, one receipt per file"
csv-shape --to ndjson "$fixtures/patient_appointments_master.csv" \
    | batch-split -n 1 --out-dir "$out/batches"
ls -l "$out/batches"

step "batch-split --spool: a ReportStream-style queue; a broken event is set aside, the rest are sent"
mkdir -p "$out/spool"
for i in 1 2 3; do printf '{"Result_ID":"demo-%d","result":"NEGATIVE"}\n' "$i" > "$out/spool/event-$i.json"; done
printf '{"Result_ID": "demo-4", ' > "$out/spool/event-4.json"
# The broken event was written just now; --settle 0 judges it at once rather
# than waiting for its producer to finish (the default gives it 10 seconds).
batch-split --spool "$out/spool" --settle 0 --size 500 --exec "cat > $out/sent-batch.ndjson"
echo "sent/:  $(cd "$out/spool/sent" && echo *)"
echo "error/: $(cd "$out/spool/error" && echo *)"

step "bad input: one line naming file, row and column, never the value, and exit 65"
printf 'name,dob\nSam Sample,not-a-date\nAl Example\n' > "$out/ragged.csv"
csv-shape --select name "$out/ragged.csv" >/dev/null || echo "(exit status $?)"

printf '\nEverything above is in %s/.\n' "$out"
