#!/usr/bin/env bash
# F4, printer PDFs, against the sandbox's Box: the first run uploads every PDF
# of the day's pickup folder, a second nothing, a new PDF alone; a Box outage
# is 75 with the index unchanged; a missing variable is 78.
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
test_init printer-pdfs "${1:-}"

day=2020-05-07
export PRINTER_PICKBOX=$T/pickbox
pickbox=$PRINTER_PICKBOX/$day
index=$STATE_DIR/printer-pdfs/$day.json
audit=$LOG_DIR/${day}_printer-pdfs.jsonl
sb_box_env
export BOX_CA_FILE=$TEST_SANDBOX_CA BOX_PRINTER_PDFS_PARENT='Parent/Printer PDFs'
# A small synthetic PDF.
pdf() {
    mkdir -p "$(dirname "$1")"
    printf '%%PDF-1.4\n%% synthetic requisition %s\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%%%EOF\n' "$2" >"$1"
}
# The files of the day's Box folder: "name sha1 version_count", sorted.
box_day() {
    sb_state box | jq -r '(.folders[] | select(.name == "05-07-2020" and .parent == "100010") | .id) as $id
        | .files[] | select(.parent == $id) | "\(.name) \(.sha1) \(.version_count)"' | sort
}
sha1() { sha1sum "$1" | cut -d' ' -f1; }
uploads() { sb_received box | jq '[.[] | select(.path | test("/upload/"))] | length'; }

pdf "$pickbox/req-0001.pdf" 1
pdf "$pickbox/req-0002.pdf" 2
pdf "$pickbox/req 0003, copy.pdf" 3
printf 'not a pdf\n' >"$pickbox/notes.txt"

# --- commit.jq: a dry-run box-put receipt commits nothing, a delivery its record
commit() { printf '%s\n' "$@" | "$PHTOOLS_BIN/json-map" -s -f "$ROOT/pipelines/printer-pdfs/commit.jq"; }
todo='{"_key":"req-9.pdf","_hash":"h9","name":"req-9.pdf","sha256":"s9"}'
assert_eq "" "$(commit "$todo" '{"tool":"box-put","name":"req-9.pdf","sha256":"s9","remote_id":"7","dry_run":true}')" \
    "the result of a dry-run receipt"
assert_eq '{"_key":"req-9.pdf","_hash":"h9","_remote_id":"7","ok":true}' \
    "$(commit "$todo" '{"tool":"box-put","name":"req-9.pdf","sha256":"s9","remote_id":"7","dry_run":false}')" \
    "the result of a delivery"

# --- missing variables: 78, nothing sent
run_flow 78 env -u BOX_CONFIG -u BOX_PRINTER_PDFS_PARENT "$ROOT/pipelines/printer-pdfs/run.sh" "$day"
assert_eq "printer-pdfs: error: missing variables: BOX_CONFIG, BOX_PRINTER_PDFS_PARENT (see pipelines/printer-pdfs/env.example)" \
    "$(tail -n 1 "$ERR")" "the missing variables line"
assert_eq 0 "$(uploads)" "uploads after a missing variable"
run_flow 66 "$ROOT/pipelines/printer-pdfs/run.sh" 2020-05-09
run_flow 64 "$ROOT/pipelines/printer-pdfs/run.sh" 2020-02-30

# --- the first run: every PDF, into Parent/Printer PDFs/05-07-2020
run_flow 0 "$ROOT/pipelines/printer-pdfs/run.sh" "$day"
assert_eq "req 0003, copy.pdf $(sha1 "$pickbox/req 0003, copy.pdf") 1
req-0001.pdf $(sha1 "$pickbox/req-0001.pdf") 1
req-0002.pdf $(sha1 "$pickbox/req-0002.pdf") 1" "$(box_day)" "the Box day folder after the first run"
assert_eq 3 "$(uploads)" "uploads of the first run"
assert_file "$index"
assert_mode 600 "$index"
assert_eq 3 "$(jq -c 'select(.tool == "box-put")' "$audit" | grep -c .)" "box-put receipts"

# --- a second run: nothing sent
run_flow 0 "$ROOT/pipelines/printer-pdfs/run.sh" "$day"
assert_contains "$ERR" "nothing sent"
assert_eq 3 "$(uploads)" "uploads after the second run"
assert_eq 3 "$(jq -c 'select(.tool == "box-put")' "$audit" | grep -c .)" "box-put receipts after the second run"

# --- a new PDF: it alone is sent
pdf "$pickbox/req-0004.pdf" 4
run_flow 0 "$ROOT/pipelines/printer-pdfs/run.sh" "$day"
assert_eq 4 "$(uploads)" "uploads after a new PDF"
assert_eq "req-0004.pdf" "$(jq -r 'select(.tool == "box-put") | .name' "$audit" | tail -n 1)" "the one new receipt"
assert_eq 4 "$(box_day | grep -c .)" "files in the Box day folder"

# --- a Box outage: 75, the index unchanged, and the PDF sent once Box is back
pdf "$pickbox/req-0005.pdf" 5
cp "$index" "$T/index.before"
sb_fault '{"path":"/box/*","status":503,"count":1000}'
run_flow 75 "$ROOT/pipelines/printer-pdfs/run.sh" "$day"
if cmp -s "$T/index.before" "$index"; then pass; else fail "the index changed during an outage"; fi
sb_reset
run_flow 0 "$ROOT/pipelines/printer-pdfs/run.sh" "$day"
assert_eq 1 "$(uploads)" "uploads after the outage (the sandbox was reset)"
assert_eq "req-0005.pdf" "$(jq -r 'select(.tool == "box-put") | .name' "$audit" | tail -n 1)" "the receipt after the outage"
run_flow 0 "$ROOT/pipelines/printer-pdfs/run.sh" "$day"
assert_contains "$ERR" "nothing sent"

# --- a changed PDF under the same name: sent again (a new Box version)
pdf "$pickbox/req-0005.pdf" 5b
run_flow 0 "$ROOT/pipelines/printer-pdfs/run.sh" "$day"
assert_eq "req-0005.pdf $(sha1 "$pickbox/req-0005.pdf") 2" "$(box_day | grep '^req-0005')" "a new version of a changed PDF"

test_done
