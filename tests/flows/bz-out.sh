#!/usr/bin/env bash
# F2, business requisitions out, against the sandbox's Box: the file's header
# is the template's, one row per request of the window, named after the
# window's hour, in the liaisons' folder; an empty window sends nothing; a
# missing variable is 78, a Box outage 75.
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
test_init bz-out "${1:-}"

template=$ROOT/tests/fixtures/masstesting/Business_Request_Template.csv
csv() { "$PHTOOLS_BIN/csv-shape" "$@"; }

demo_db
sb_box_env
export BOX_CA_FILE=$TEST_SANDBOX_CA BOX_BZ_OUT_FOLDER='Parent/Business Liaisons/to city'
# The files in the liaisons' folder (100005): "name sha1 version_count", sorted.
to_city() { sb_state box | jq -r '.files[] | select(.parent == "100005") | "\(.name) \(.sha1) \(.version_count)"' | sort; }
sha1() { sha1sum "$1" | cut -d' ' -f1; }

# --- missing variables: 78, both named, nothing sent
run_flow 78 env -u BOX_CONFIG -u BOX_BZ_OUT_FOLDER START='2020-05-06 10:00' END='2020-05-06 11:00' "$ROOT/pipelines/bz-out/run.sh"
assert_eq "bz-out: error: missing variables: BOX_CONFIG, BOX_BZ_OUT_FOLDER (see pipelines/bz-out/env.example)" \
    "$(tail -n 1 "$ERR")" "the missing variables line"
assert_eq "" "$(to_city)" "the liaisons' folder after a missing variable"
run_flow 64 env START='not a time' "$ROOT/pipelines/bz-out/run.sh"
run_flow 78 env -u DB_URL START='2020-05-06 10:00' END='2020-05-06 11:00' "$ROOT/pipelines/bz-out/run.sh"
assert_eq "bz-out: error: missing variables: DB_URL (see pipelines/bz-out/env.example)" \
    "$(tail -n 1 "$ERR")" "a missing DB_URL, with data/demo.sqlite in the repository"
assert_eq "" "$(to_city)" "the liaisons' folder without DB_URL"

# --- an empty window: nothing written or sent, exit 0
run_flow 0 env START='2020-05-06 20:00' END='2020-05-06 21:00' "$ROOT/pipelines/bz-out/run.sh"
assert_contains "$ERR" "no requests from 2020-05-06 20:00:00 to 2020-05-06 21:00:00: nothing written or sent"
assert_no_file "$DATA_DIR/bz-out/business_requisition_2020-05-06_2000.csv"
assert_eq "" "$(to_city)" "the liaisons' folder after an empty window"
assert_eq 0 "$(sb_received box | jq '[.[] | select(.path | test("upload"))] | length')" "Box uploads after an empty window"

# --- a window of one hour: the requests created in it
run_flow 0 env START='2020-05-06 10:00' END='2020-05-06 11:00' "$ROOT/pipelines/bz-out/run.sh"
file=$DATA_DIR/bz-out/business_requisition_2020-05-06_1000.csv
assert_file "$file"
assert_mode 600 "$file"
assert_eq "$(head -n 1 "$template" | tr -d '\r')" "$(head -n 1 "$file")" "the header is the template's"
want=$(sqlite3 -separator , "$T/demo.sqlite" "SELECT business_code, hash FROM business_requests
    WHERE created >= '2020-05-06 10:00:00' AND created < '2020-05-06 11:00:00' ORDER BY created, id")
assert_eq 3 "$(printf '%s\n' "$want" | grep -c .)" "requests in the demo window"
assert_eq "$want" "$(csv --select business_code,hash "$file" | tail -n +2)" "the rows are the window's requests"
assert_eq "16" "$(csv --to ndjson "$file" | jq -sc 'map(length) | unique | .[]')" "the column count of every row"
assert_eq "5/6/20 10:00|5/6/20 10:20|5/6/20 10:40" "$(csv --select created "$file" | tail -n +2 | paste -sd'|')" "created as the template writes it"
assert_eq "Demo Business 7" "$(csv --to ndjson "$file" | jq -r .business_name | head -n 1)" "the business joined"
# A pending request goes out with the answers empty.
assert_eq ",,8" "$(csv --select approved_confirm,slots_approved,slots_requested "$file" | sed -n 4p)" "a pending request's answers are empty"
assert_eq "business_requisition_2020-05-06_1000.csv $(sha1 "$file") 1" "$(to_city)" "the file in the liaisons' Box folder"
assert_eq 1 "$(jq -c 'select(.tool == "box-put")' "$LOG_DIR/2020-05-06_bz-out.jsonl" | grep -c .)" "box-put receipts"
assert_not_contains "$ERR" "owner7@example.org" "stderr"

# --- the default window is the last full hour (nothing created then in the demo database)
run_flow 0 "$ROOT/pipelines/bz-out/run.sh"
assert_contains "$ERR" "no requests from $(date -d '1 hour ago' '+%F %H'):00:00 to $(date '+%F %H'):00:00"

# --- START alone: the hour from START (a rerun: the same content, no new Box version)
run_flow 0 env START='2020-05-06 10:00' "$ROOT/pipelines/bz-out/run.sh"
assert_contains "$ERR" "from 2020-05-06 10:00:00 to 2020-05-06 11:00:00"
assert_eq "business_requisition_2020-05-06_1000.csv $(sha1 "$file") 1" "$(to_city)" "the liaisons' folder after a rerun"

# --- a Box outage: 75
sb_fault '{"path":"/box/*","status":503,"count":1000}'
run_flow 75 env START='2020-05-06 12:00' END='2020-05-06 13:00' "$ROOT/pipelines/bz-out/run.sh"
assert_eq 0 "$(jq -c 'select(.tool == "box-put" and .fields.name == "business_requisition_2020-05-06_1200.csv")' "$LOG_DIR/2020-05-06_bz-out.jsonl" | grep -c .)" "no receipt after an outage"

test_done
