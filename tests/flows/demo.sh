#!/usr/bin/env bash
# make demo's script (pipelines/demo.sh) with the tools under test: every flow
# runs and ends as the demo expects, the report shows what each server
# received, the servers the demo started are stopped again, and nothing it
# printed holds a secret of its env file.
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
test_init demo "${1:-}"

# The demo's own server ports and folder, apart from the ones of this test run
# and of a `make demo` someone may be running.
export DEMO_OUT=$T/demo-out DEMO_TMPDIR=${TMPDIR:-/tmp}/phtools-demo-test
export PHTOOLS_SANDBOX_PORT=56443 PHTOOLS_SSHD_PORT=56222 PHTOOLS_SMTP_STARTTLS_PORT=56587
export PHTOOLS_SMTP_IMPLICIT_PORT=56465 PHTOOLS_SMTP_PLAIN_PORT=56525
run_flow 0 "$ROOT/pipelines/demo.sh"
report=$OUT

# Every flow, and the reruns that must send nothing.
for label in "F1 eod: " "F1 eod again" "F2 bz-out" "F3 bz-in" "F4 printer-pdfs: " "F4 printer-pdfs again" \
    "F5 reqcheck" "F6 reportstream" "F7 primero-oscar: " "F7 primero-oscar again" \
    "F8 sipca-mapping" "F8 sipca: " "F8 sipca again"; do
    assert_contains "$report" "$label" "the demo's output"
done
assert_eq 13 "$(grep -c -- '-> exit 0 (' "$report")" "flow runs ending 0"
assert_contains "$report" "All flows ran."
assert_contains "$report" "box-put: 3 files: 3 unchanged" "F1's rerun"
assert_contains "$report" "not mailed again" "F1's rerun"
assert_contains "$report" "every PDF of 2020-05-07 is in Box already: nothing sent"
assert_contains "$report" "index-diff: commit: 0 delivered, 0 failed, 0 skipped" "the reruns"

# The report: what arrived where.
assert_eq 2 "$(grep -cE '^    2020-05-07/patient(s_form_print|_appointments)\.csv  [0-9]+ bytes$' "$report")" "SFTP files in the report"
assert_contains "$report" "to intake@health.example: Patient appointments 2020-05-07 [patient_appointments_master.csv]"
assert_contains "$report" "to liaisons@city.example: Business requisitions: answers-2020-05-06.csv applied"
for f in "Business Liaisons/to city/business_requisition_2020-05-06_0000.csv" \
    "Daily Drive Thru Documents/05-07-2020/patient_appointments_master.csv" \
    "Daily Drive Thru Documents/05-07-2020/patients_form_print.csv" \
    "Printer PDFs/05-07-2020/requisition-0003.pdf" "processed/success/answers-2020-05-06.csv" \
    "transportation/patients_form_print_2020-05-07.csv"; do
    assert_contains "$report" "    /Parent/$f  v1" "the Box part of the report"
done
assert_contains "$report" "ReqCheck: 200 patients, 600 vaccine doses"
assert_contains "$report" "ReportStream: 1 report(s), 5 test results"
assert_contains "$report" "dhis2: 5 events stored, 5 import job(s)"
assert_contains "$report" "2020-05-07_eod.jsonl: 8 box-put, 4 sftp-put, 1 smtp-send"

# The files behind the report.
assert_eq 281 "$(wc -l <"$DEMO_OUT/data/2020-05-07/patient_appointments.csv")" "lines of the printer file"
assert_eq "demo-result-6.json" "$(ls "$DEMO_OUT/spool/error")" "the broken result set aside"
assert_eq 5 "$(find "$DEMO_OUT/spool/sent" -name '*.json' | wc -l)" "results sent"
assert_eq "0 30" "$(sqlite3 -separator ' ' "$DEMO_OUT/scheduling.sqlite" "SELECT count(*) FILTER (WHERE approved_confirm IS NULL), count(*) FROM business_requests")" \
    "open and all requests after the liaisons' answers"
assert_mode 600 "$DEMO_OUT/demo.env"
assert_mode 600 "$DEMO_OUT/box_config.json"
assert_mode 700 "$DEMO_OUT"

# Stopped again, and no secret printed.
for port in 56443 56222 56587; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "port $port still open after the demo"; else pass; fi
done
for secret in sandbox-box-passphrase reqcheck-secret primero-secret oscar-secret district "$TEST_SMTP_PASSWORD"; do
    assert_not_contains "$report" "$secret" "the demo's output"
    assert_not_contains "$ERR" "$secret" "the demo's stderr"
done
rm -rf "$DEMO_TMPDIR"
test_done
