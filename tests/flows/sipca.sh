#!/usr/bin/env bash
# F8, Kobo survey to dhis2 events (pipelines/sipca): the mapping, the events
# the sandbox's dhis2 holds after a run, a second run sending nothing, a run
# cut short then rerun sending exactly the rest with the same uids, a bad row
# not stopping the others, deleted rows, a missing variable (78) and an
# outage (75) moving no state.
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
"$ROOT/tests/ensure-packages.sh" jq:jq curl:curl
test_init sipca "${1:-}"

flow=$ROOT/pipelines/sipca
csv=$ROOT/tests/fixtures/sipca/kobo_export.csv
index=$STATE_DIR/sipca/event_index.json
export DHIS2_URL=$TEST_SANDBOX_URL/dhis2 DHIS2_USER=admin DHIS2_PASSWORD=district
export DHIS2_CA_FILE=$TEST_SANDBOX_CA KOBO_CSV=$csv DHIS2_POLL_INTERVAL=0.2 DATE=2024-03-10
tracker_posts() { sb_received dhis2 | jq '[.[] | select(.method == "POST" and .path == "/dhis2/api/tracker")] | length'; }
fresh() { rm -rf "$STATE_DIR/sipca" "$DATA_DIR/sipca/events_payload"; sb_reset; }

# Missing variables: 78, all named, before anything is sent.
run_flow 78 env -u DHIS2_URL -u KOBO_CSV "$flow/run.sh"
assert_contains "$ERR" "sipca: error: missing variables: DHIS2_URL, KOBO_CSV (see pipelines/sipca/env.example)"
run_flow 78 env -u DHIS2_PASSWORD "$flow/mapping.sh"
assert_contains "$ERR" "missing variables: DHIS2_PASSWORD"
run_flow 78 "$flow/run.sh"
assert_contains "$ERR" "run make sipca-mapping first"
assert_eq 0 "$(sb_received dhis2 | jq length)" "requests before the mapping"

# The mapping: every data element of the program mapped, with its option codes.
run_flow 0 "$flow/mapping.sh"
gen=$DATA_DIR/sipca/mapping_generated.json
assert_eq '"SIPCAde0005"' "$(jq -c .columns.HAND_HYGIENE.dataElement "$gen")" "HAND_HYGIENE's data element"
assert_eq '"STOCKOUT"' "$(jq -c '.columns.PPE_STOCK.options.stock_out' "$gen")" "PPE stock-out code"
assert_eq 10 "$(jq '.columns | length' "$gen")" "columns mapped"
# The same with a personal access token instead of the password.
run_flow 0 env -u DHIS2_USER -u DHIS2_PASSWORD DHIS2_TOKEN=d2pat_sandbox0000000000000000000000 DATA_DIR="$T/data3" "$flow/mapping.sh"
assert_eq "$(jq -c . "$gen")" "$(jq -c . "$T/data3/sipca/mapping_generated.json")" "the mapping made with a token"
assert_eq "ApiToken ***" "$(sb_received dhis2 | jq -r '.[-1].headers.authorization | sub(" .*"; " ***")')" "token auth"
assert_not_contains "$ERR" "not mapped"
# A data element with no Kobo column is reported by name.
mkdir -p "$T/maps"
cp "$flow"/mapping_*.json "$T/maps/"
jq 'del(.COMMENTS)' "$flow/mapping_de.json" >"$T/maps/mapping_de.json"
run_flow 0 env SIPCA_MAPPING_DIR="$T/maps" DATA_DIR="$T/data2" "$flow/mapping.sh"
assert_contains "$ERR" "sipca: warning: data element not mapped from any Kobo column: SIPCA Comments"
# An option code the option set lacks is an error.
jq '.["PPE stock level"].low = "LOWISH"' "$flow/mapping_optionSet.json" >"$T/maps/mapping_optionSet.json"
run_flow 65 env SIPCA_MAPPING_DIR="$T/maps" DATA_DIR="$T/data2" "$flow/mapping.sh"
assert_contains "$ERR" "sipca: error: mapping_optionSet.json has a code the option set does not have: PPE stock level: LOWISH"

# First run: five COMPLETED events, with the uids of the index.
run_flow 0 "$flow/run.sh"
events=$(sb_state dhis2 | jq -c '[.events[]] | sort_by(.occurredAt)')
assert_eq 5 "$(jq length <<<"$events")" "events in dhis2"
assert_eq 5 "$(tracker_posts)" "tracker posts"
uids=$(jq -r '[.[] | .dhis2_uuid] | sort | join(",")' "$index")
assert_eq "$uids" "$(jq -r '[.[].event] | sort | join(",")' <<<"$events")" "event uids = the index's"
assert_eq 5 "$(jq '[.[] | select(.uploaded == true and .deleted == false)] | length' "$index")" "uploaded in the index"
first=$(jq -c '.[0]' <<<"$events")
assert_eq "$(jq -r '.["3f1c2a9e-0b1d-4c55-9a61-000000000001"].dhis2_uuid' "$index")" "$(jq -r .event <<<"$first")" "row 1's uid"
assert_eq "COMPLETED,2024-03-04,2024-03-04,OrgUnitA001,SIPCAprg001,SIPCAstg001" \
    "$(jq -r '[.status, .occurredAt[0:10], .completedAt[0:10], .orgUnit, .program, .programStage] | join(",")' <<<"$first")" "row 1's event"
assert_eq '{"SIPCAde0001":"Assessor One","SIPCAde0002":"40","SIPCAde0003":"2023-11-20","SIPCAde0004":"true","SIPCAde0005":"YES","SIPCAde0006":"PARTIAL","SIPCAde0007":"ADEQUATE","SIPCAde0008":"82","SIPCAde0009":"true","SIPCAde0010":"Synthetic assessment one"}' \
    "$(jq -c '[.dataValues[] | {(.dataElement): .value}] | add' <<<"$first")" "row 1's data values (option codes, booleans)"
# Row 2: the empty answers (training date, comments) and the "no" of a TRUE_ONLY are left out.
assert_eq "SIPCAde0001,SIPCAde0002,SIPCAde0004,SIPCAde0005,SIPCAde0006,SIPCAde0007,SIPCAde0008" \
    "$(jq -r '.[1].dataValues | map(.dataElement) | sort | join(",")' <<<"$events")" "row 2's data elements"
# The request, with CREATE_AND_UPDATE, and the files SIPCA keeps.
assert_eq "CREATE_AND_UPDATE" "$(sb_received dhis2 | jq -r '[.[] | select(.method == "POST")][0].query | capture("importStrategy=(?<s>[A-Z_]+)").s')" "import strategy"
uid1=$(jq -r .event <<<"$first")
day=2024-03-10
assert_file "$DATA_DIR/sipca/events_payload/${day}__101_$uid1.json"
assert_file "$DATA_DIR/sipca/events_payload/${day}__101_${uid1}_response_event_payload.json"
assert_mode 600 "$DATA_DIR/sipca/events_payload/${day}__101_$uid1.json"
assert_eq 5 "$(jq -s '[.[] | select(.ok == true)] | length' "$LOG_DIR/2024-03-10_sipca.jsonl")" "results in the audit log"
assert_ne 0 "$(find "$LOG_DIR" -name '*_event_index_final*.json' | wc -l)" "index backup after the run"
assert_not_contains "$LOG_DIR/2024-03-10_sipca.log" "Assessor One" "the stderr log"
assert_not_contains "$LOG_DIR/2024-03-10_sipca.log" "district" "the stderr log"

# Second run right after: nothing sent, the index as it was.
cp "$index" "$T/index.before"
run_flow 0 "$flow/run.sh"
assert_eq 5 "$(tracker_posts)" "tracker posts after a second run"
assert_eq "$(jq -c 'map_values(del(.at))' "$T/index.before")" "$(jq -c 'map_values(del(.at))' "$index")" "index after a second run"
assert_ne 0 "$(find "$LOG_DIR" -name '*_event_index_initial*.json' | wc -l)" "index backup before the run"

# A row edited in Kobo: sent again, as an update of the same event.
sed 's/~Synthetic assessment one$/~Synthetic assessment one, revised/' "$csv" >"$T/kobo_edited.csv"
run_flow 0 env KOBO_CSV="$T/kobo_edited.csv" "$flow/run.sh"
assert_eq 6 "$(tracker_posts)" "tracker posts after an edit"
assert_eq "$uid1" "$(sb_received dhis2 | jq -r '[.[] | select(.method == "POST")][-1].body.events[0].event')" "the edited row's uid"
assert_eq "Synthetic assessment one, revised" "$(sb_state dhis2 | jq -r --arg u "$uid1" '.events[] | select(.event == $u) | .dataValues[] | select(.dataElement == "SIPCAde0010") | .value')" "the updated answer"
assert_eq 5 "$(sb_state dhis2 | jq '.events | length')" "events after an edit"
cp "$T/kobo_edited.csv" "$T/kobo_base.csv"

# A row gone from the export: a warning with its key, marked deleted, nothing sent.
grep -v 000000000003 "$T/kobo_base.csv" >"$T/kobo_less.csv"
run_flow 0 env KOBO_CSV="$T/kobo_less.csv" "$flow/run.sh"
assert_contains "$ERR" "3f1c2a9e-0b1d-4c55-9a61-000000000003"
assert_eq true "$(jq '.["3f1c2a9e-0b1d-4c55-9a61-000000000003"].deleted' "$index")" "deleted row in the index"
assert_eq 6 "$(tracker_posts)" "tracker posts after a deletion"

# A run cut short after 3 of 5 events: the connection drops on the later
# imports (no retries); the rerun sends exactly the other two, with their uids.
fresh
sb_fault '{"path":"/dhis2/api/tracker","method":"POST","status":0,"count":3}'
sb_fault '{"path":"/dhis2/api/tracker","method":"POST","drop":true,"count":2}'
run_flow 75 env HTTP_RETRIES=0 "$flow/run.sh"
assert_eq 3 "$(sb_state dhis2 | jq '.events | length')" "events after the cut-short run"
assert_eq 3 "$(jq '[.[] | select(.uploaded == true)] | length' "$index")" "uploaded after the cut-short run"
pending=$(jq -r '[to_entries[] | select(.value.uploaded != true) | .value.dhis2_uuid] | sort | join(",")' "$index")
assert_eq 2 "$(tr ',' '\n' <<<"$pending" | grep -c .)" "pending uids"
before=$(tracker_posts)
run_flow 0 "$flow/run.sh"
assert_eq 2 "$(($(tracker_posts) - before))" "tracker posts of the rerun"
assert_eq "$pending" "$(sb_received dhis2 | jq -r "[.[] | select(.method == \"POST\")][$before:] | [.[].body.events[].event] | sort | join(\",\")")" "uids of the rerun"
assert_eq 5 "$(sb_state dhis2 | jq '.events | length')" "events after the rerun"
assert_eq 5 "$(jq '[.[] | select(.uploaded == true)] | length' "$index")" "uploaded after the rerun"

# A run killed while sending (the 4th import hangs, then the process group
# gets SIGTERM): the next run commits what the killed one delivered and sends
# exactly the rest, with the same uids.
fresh
sb_fault '{"path":"/dhis2/api/tracker","method":"POST","status":0,"count":3}'
sb_fault '{"path":"/dhis2/api/tracker","method":"POST","drop":true,"delay_ms":3000,"count":1}'
kill_flow_at 4 tracker_posts "$flow/run.sh"
assert_eq 0 "$(jq '[.[] | select(.uploaded == true)] | length' "$index")" "uploaded right after the kill"
sent=$(sb_state dhis2 | jq -r '[.events[].event] | sort | join(",")')
run_flow 0 "$flow/run.sh"
assert_contains "$ERR" "commit the results an interrupted run left"
assert_eq "$(jq -r --arg s "$sent" '[.[] | .dhis2_uuid | select(. as $u | $s | split(",") | index([$u]) | not)] | sort | join(",")' "$index")" \
    "$(sb_received dhis2 | jq -r '[.[] | select(.method == "POST" and .status == 200)][3:] | [.[].body.events[].event] | sort | join(",")')" "uids sent after the kill: the rest"
assert_eq 2 "$(sb_received dhis2 | jq '[.[] | select(.method == "POST" and .status == 200)][3:] | length')" "imports after the kill"
assert_eq 5 "$(sb_state dhis2 | jq '.events | length')" "events after the kill and the rerun"

# A bad row (unknown facility) and a bad answer: reported, the others delivered.
fresh
sed 's/~facility_b~Assessor Two~/~facility_zz~Assessor Two~/; s/~stock_out~/~plenty~/' "$csv" >"$T/kobo_bad.csv"
run_flow 65 env KOBO_CSV="$T/kobo_bad.csv" "$flow/run.sh"
assert_eq 3 "$(sb_state dhis2 | jq '.events | length')" "events sent despite two bad rows"
assert_contains "$ERR" "FACILITY is not in mapping_orgUnits.json"
assert_contains "$ERR" "an answer with no option code in mapping_optionSet.json"
assert_not_contains "$ERR" "facility_zz" "stderr"
assert_not_contains "$ERR" "plenty" "stderr"
assert_eq 2 "$(jq '[.[] | select(.uploaded != true)] | length' "$index")" "bad rows left pending"

# An event dhis2's report refuses (a compulsory answer left empty, E1303):
# 69, the others uploaded, that one left for the next run.
fresh
sed 's/~Assessor Three~42~/~Assessor Three~~/' "$csv" >"$T/kobo_refused.csv"
run_flow 69 env KOBO_CSV="$T/kobo_refused.csv" "$flow/run.sh"
assert_contains "$ERR" "E1303"
assert_eq 4 "$(sb_state dhis2 | jq '.events | length')" "events with one refused"
assert_eq false "$(jq '.["3f1c2a9e-0b1d-4c55-9a61-000000000004"].uploaded' "$index")" "the refused event in the index"
assert_eq 4 "$(jq '[.[] | select(.uploaded == true)] | length' "$index")" "uploaded with one refused"

# An outage: 75, with the index as it was, also with a new row waiting.
fresh
run_flow 0 "$flow/run.sh"
cp "$index" "$T/index.before"
sed 's/000000000005~/000000000006~/' "$csv" | sed -n '1p;$p' >"$T/kobo_new.csv"
cat "$csv" <(tail -n 1 "$T/kobo_new.csv") >"$T/kobo_more.csv"
sb_fault '{"path":"/dhis2/*","status":503,"count":1000}'
run_flow 75 env HTTP_RETRIES=0 KOBO_CSV="$T/kobo_more.csv" "$flow/run.sh"
assert_eq "$(cat "$T/index.before")" "$(cat "$index")" "the index after an outage"
assert_eq 5 "$(sb_state dhis2 | jq '.events | length')" "events after an outage"

test_done
