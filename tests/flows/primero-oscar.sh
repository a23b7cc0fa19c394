#!/usr/bin/env bash
# F7, Primero <-> OSCaR case sync (pipelines/primero-oscar): what the sandbox's
# OSCaR and Primero received on a first run, nothing on a second, a run cut
# short then rerun sending exactly the rest with the same ids, a failing record
# not stopping the others, a missing variable (78) and an outage (75) moving no
# state.
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
"$ROOT/tests/ensure-packages.sh" jq:jq curl:curl
test_init primero-oscar "${1:-}"

flow=$ROOT/pipelines/primero-oscar/run.sh
state=$STATE_DIR/primero-oscar
export PRIMERO_URL=$TEST_SANDBOX_URL/primero PRIMERO_USER=primero_user PRIMERO_PASSWORD=primero-secret
export OSCAR_URL=$TEST_SANDBOX_URL/oscar OSCAR_EMAIL=oscar@example.org OSCAR_PASSWORD=oscar-secret
export PRIMERO_CA_FILE=$TEST_SANDBOX_CA OSCAR_CA_FILE=$TEST_SANDBOX_CA DATE=2024-03-10
upserts() { sb_received oscar | jq -c '[.[] | select(.method == "POST" and (.path | endswith("/upsert/")))]'; }
writes() { { sb_received oscar; sb_received primero; } | jq -s '[.[][] | select(.method != "GET" and (.path | test("sign_in|tokens") | not))] | length'; }
fresh() { rm -rf "$state"; sb_reset; }

# Missing variables: 78, all named, nothing sent.
run_flow 78 env -u OSCAR_URL -u PRIMERO_PASSWORD "$flow"
assert_contains "$ERR" "primero-oscar: error: missing variables: PRIMERO_PASSWORD, OSCAR_URL (see pipelines/primero-oscar/env.example)"
assert_eq 0 "$(sb_received oscar | jq length)" "OSCaR requests with a variable missing"

# First run, from the start of time.
run_flow 0 "$flow"
ups=$(upserts)
# Flow A: one upsert per Primero case referred to OSCaR, demo ones dropped.
assert_eq "$(jq -r 'keys | sort | join(",")' "$state/oscar_index.json")" \
    "$(jq -r '[.[].body.organization.external_id] | sort | join(",")' <<<"$ups")" "upserted cases = the index"
assert_eq 15 "$(jq length <<<"$ups")" "upserts"
assert_eq 0 "$(jq '[.[] | select(.status != 200)] | length' <<<"$ups")" "upserts refused"
assert_eq 0 "$(jq '[.[].body.organization | select(.organization_name == "demo" or .external_id == "5f6130b0-bfa7-4544-a3c8-897f54d3b877")] | length' <<<"$ups")" "demo organisations sent"
assert_eq 0 "$(jq '[.[].body.organization | .. | select(. == "" or . == null or . == [])] | length' <<<"$ups")" "empty values sent"
assert_eq 0 "$(jq '[.[].body.organization.location_current_village_code // empty | select(test("^[0-9]{8}$") | not)] | length' <<<"$ups")" "village codes not of 8 digits"
# Shaped like the sample upserts of real use: no field they do not have.
fx=$ROOT/tests/fixtures/unicef-cambodia
allowed=$(jq -s -c '[.[].organization | keys[]] + ["transaction_id"] | unique' "$fx/upsertCasesInOscar.json" "$fx/primero_2referrals_to_oscar.json" "$fx/upsertOscarCases__2referrals.json")
assert_eq "[]" "$(jq -c --argjson ok "$allowed" '[.[].body.organization | keys[] | select(. as $k | $ok | index([$k]) | not)] | unique' <<<"$ups")" "fields not in the sample upserts"
assert_eq 15 "$(jq '[.[].body.organization | select(.date_of_referral | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))] | length' <<<"$ups")" "dates of referral"
c5=$(jq -c '[.[].body.organization | select(.external_id == "c5c387b2-dd9e-4bba-bce1-d4ac831de2d0")][0]' <<<"$ups")
assert_eq "02020202,hfj,hfj,01EGG9DKEQ" "$(jq -r '[.location_current_village_code, .organization_name, .organization_id, .global_id[0:10]] | join(",")' <<<"$c5")" "a padded village code, agency-hfj as hfj"
assert_eq "Transitional Accommodation,Post-Trafficking Counseling" "$(jq -r '[.services[].name] | join(",")' <<<"$c5")" "the services map"
assert_eq "true,primero" "$(jq -r '[.is_referred, .resource] | join(",")' <<<"$c5")" "referred, from Primero"
# The OSCaR global ids came back into the index.
assert_eq 15 "$(jq '[.[] | select(.delivered == true and (.remote_id | test("^[0-9A-Z]{26}$")))] | length' "$state/oscar_index.json")" "OSCaR ids in the index"
# Flow B: OSCaR's referrals became Primero cases: new ones POSTed with the
# minted case_id, linked ones PATCHed; the new ones linked back in OSCaR.
prec=$(sb_received primero)
posts=$(jq -c '[.[] | select(.method == "POST" and .path == "/primero/api/v2/cases")]' <<<"$prec")
patches=$(jq -c '[.[] | select(.method == "PATCH")]' <<<"$prec")
n_posts=$(jq length <<<"$posts")
assert_eq 20 "$(($(jq length <<<"$posts") + $(jq length <<<"$patches")))" "Primero writes"
assert_eq 20 "$(jq '[.[] | select(.delivered == true)] | length' "$state/primero_index.json")" "delivered in the Primero index"
new=$(jq -c '[.[].body.data]' <<<"$posts")
assert_eq "$(jq -r '[.[] | .case_id] | sort | join(",")' <<<"$new")" \
    "$(jq -r --argjson n "$new" '[$n[].oscar_number] as $o | [to_entries[] | select(.key as $k | $o | index([$k])) | .value.remote_id] | sort | join(",")' "$state/primero_index.json")" "new cases' ids = the index's"
assert_eq "mgrkrt" "$(jq -r '.[] | select(.oscar_number == "01SYNEPS07Z55K6QRJMB4N0G9H") | .owned_by' <<<"$new")" "the province user of village 10..."
assert_eq "10,2013-04-13" "$(jq -r '.[] | select(.oscar_number == "01SYNEPS07Z55K6QRJMB4N0G9H") | "\(.age),\(.date_of_birth)"' <<<"$new")" "age on the flow's date (2024-03-10)"
assert_eq "referral_from_oscar" "$(jq -r '.[] | select(.oscar_number == "01SYNEPS07Z55K6QRJMB4N0G9H") | .services_section[0].service_response_type' <<<"$new")" "a referral from OSCaR"
assert_eq 0 "$(jq '[.[].body.data | select(has("owned_by") or has("name_first"))] | length' <<<"$patches")" "owner or name in an update"
links=$(sb_received oscar | jq -c '[.[] | select(.method == "PUT")][0].body.data')
# (01ED6A8KWD14 is linked to a case Primero lacks: created with its case id, it needs no link.)
assert_eq "$(jq -r '[.[] | select(.oscar_number != "01ED6A8KWD1454FGXEPRNBV23N") | "\(.oscar_number)=\(.case_id)"] | sort | join(",")' <<<"$new")" \
    "$(jq -r '[.[] | "\(.global_id)=\(.external_id)"] | sort | join(",")' <<<"$links")" "links of the new cases"
assert_eq "$(jq length <<<"$new")" "$(sb_state oscar | jq --argjson n "$new" '[$n[] | "\(.oscar_number)=\(.case_id)"] as $want | [.clients[] | "\(.global_id)=\(.external_id)" | select(. as $x | $want | index([$x]))] | length')" "OSCaR clients linked"
assert_contains "$LOG_DIR/2024-03-10_primero-oscar.jsonl" '"ok":true'
assert_not_contains "$LOG_DIR/2024-03-10_primero-oscar.log" "Synthetic" "the stderr log"
for f in "$LOG_DIR"/2024-03-10_primero-oscar.*; do
    assert_not_contains "$f" "primero-secret" "$f"
    assert_not_contains "$f" "oscar-secret" "$f"
done
assert_file "$state/primero.cursor"
assert_file "$state/oscar.cursor"

# Second run right after: nothing sent to either side.
before=$(writes)
run_flow 0 "$flow"
assert_eq "$before" "$(writes)" "writes after a second run"

# A referral edited in Primero: the next run upserts that one client, and
# writes nothing to Primero.
token=$(curl -sS --cacert "$TEST_SANDBOX_CA" -D - -o /dev/null -H 'content-type: application/json' \
    --data '{"user":{"user_name":"primero_user","password":"primero-secret"}}' \
    "$PRIMERO_URL/api/v2/tokens" | tr -d '\r' | sed -n 's/^[Aa]uthorization: Bearer //p')
pid=$(sb_state primero | jq -r '.cases[] | select(.case_id == "123b9a5f-204b-6b28-72e3-11aebf5e8dca") | .id')
curl -sS --cacert "$TEST_SANDBOX_CA" -X PATCH -H "authorization: Bearer $token" -H 'content-type: application/json' \
    --data '{"data":{"name_first":"Renamed"}}' "$PRIMERO_URL/api/v2/cases/$pid" >/dev/null
before=$(writes)
n_up=$(upserts | jq length)
run_flow 0 "$flow"
assert_eq "123b9a5f-204b-6b28-72e3-11aebf5e8dca=Renamed" "$(upserts | jq -r ".[$n_up:] | map(.body.organization | \"\(.external_id)=\(.given_name)\") | join(\",\")")" "the upsert of the edited case"
assert_eq "$((before + 1))" "$(writes)" "writes after an edit"

# A run cut short: after 12 OSCaR upserts the next 3 fail (503), and after
# all but 2 Primero creates the connection drops on those 2 (no retries); the
# run says 75; the rerun sends exactly those, with the same ids, and nothing else.
fresh
sb_fault '{"path":"/oscar/api/v1/organizations/clients/upsert/","method":"POST","status":0,"count":12}'
sb_fault '{"path":"/oscar/api/v1/organizations/clients/upsert/","method":"POST","status":503,"count":3}'
sb_fault "{\"path\":\"/primero/api/v2/cases\",\"method\":\"POST\",\"status\":0,\"count\":$((n_posts - 2))}"
sb_fault '{"path":"/primero/api/v2/cases","method":"POST","drop":true,"count":2}'
run_flow 75 env HTTP_RETRIES=0 "$flow"
failed_up=$(upserts | jq -r '[.[] | select(.status == 503) | .body.organization.external_id] | sort | join(",")')
failed_new=$(sb_received primero | jq -r '[.[] | select(.method == "POST" and .path == "/primero/api/v2/cases" and .status == 0) | .body.data.case_id] | sort | join(",")')
assert_eq 12 "$(upserts | jq '[.[] | select(.status == 200)] | length')" "upserts through in the cut-short run"
assert_eq 12 "$(jq '[.[] | select(.delivered == true)] | length' "$state/oscar_index.json")" "delivered clients after the cut-short run"
assert_eq 18 "$(jq '[.[] | select(.delivered == true)] | length' "$state/primero_index.json")" "delivered cases after the cut-short run"
assert_eq 2 "$(tr ',' '\n' <<<"$failed_new" | grep -c .)" "failed creates"
# The Primero cursor stops at the earliest case not delivered.
earliest=$(sb_state primero | jq -r --arg f "$failed_up" '[.cases[] | select(.case_id as $c | $f | split(",") | index([$c])) | .last_updated_at] | min')
assert_eq "$earliest" "$(cat "$state/primero.cursor")" "the Primero cursor after the cut-short run"
n_up=$(upserts | jq length)
n_pr=$(sb_received primero | jq length)
run_flow 0 "$flow"
assert_eq "$failed_up" "$(upserts | jq -r ".[$n_up:] | [.[].body.organization.external_id] | sort | join(\",\")")" "upserts of the rerun"
rerun=$(sb_received primero | jq -c ".[$n_pr:] | [.[] | select(.method == \"POST\" or .method == \"PATCH\") | select(.path | test(\"tokens\") | not)]")
assert_eq "$failed_new" "$(jq -r '[.[].body.data.case_id] | sort | join(",")' <<<"$rerun")" "Primero writes of the rerun: the failed creates, same case ids"
assert_eq "POST,POST" "$(jq -r '[.[].method] | join(",")' <<<"$rerun")" "the failed creates are created"
assert_eq 15 "$(jq '[.[] | select(.delivered == true)] | length' "$state/oscar_index.json")" "delivered clients after the rerun"
assert_eq 20 "$(jq '[.[] | select(.delivered == true)] | length' "$state/primero_index.json")" "delivered cases after the rerun"
before=$(writes)
run_flow 0 "$flow"
assert_eq "$before" "$(writes)" "writes after a third run"

# A run killed while sending to OSCaR (the 6th upsert hangs, then the process
# group gets SIGTERM): the next run commits the 5 delivered and sends the other
# 10 (the hung one included), and nothing to Primero.
fresh
sb_fault '{"path":"/oscar/api/v1/organizations/clients/upsert/","method":"POST","status":0,"count":5}'
sb_fault '{"path":"/oscar/api/v1/organizations/clients/upsert/","method":"POST","drop":true,"delay_ms":3000,"count":1}'
kill_flow_at 6 'upserts | jq length' "$flow"
first5=$(upserts | jq -r '.[:5] | [.[].body.organization.external_id] | sort | join(",")')
n_pr=$(sb_received primero | jq '[.[] | select(.method != "GET" and (.path | test("tokens") | not))] | length')
run_flow 0 "$flow"
assert_contains "$ERR" "commit the results an interrupted run left"
assert_eq 10 "$(upserts | jq '.[6:] | length')" "upserts after the kill"
assert_eq "" "$(upserts | jq -r --arg f "$first5" '.[6:] | [.[].body.organization.external_id | select(. as $e | $f | split(",") | index([$e]))] | join(",")')" "delivered ones sent again"
assert_eq "$n_pr" "$(sb_received primero | jq '[.[] | select(.method != "GET" and (.path | test("tokens") | not))] | length')" "Primero writes after the kill"
assert_eq 15 "$(jq '[.[] | select(.delivered == true)] | length' "$state/oscar_index.json")" "delivered clients after the kill and the rerun"

# A record OSCaR refuses for good (422): 69, the others delivered, it alone
# left for the next run.
fresh
sb_fault '{"path":"/oscar/api/v1/organizations/clients/upsert/","method":"POST","status":422,"count":1}'
run_flow 69 "$flow"
assert_eq 14 "$(jq '[.[] | select(.delivered == true)] | length' "$state/oscar_index.json")" "delivered clients with one refused"
assert_contains "$ERR" "1 of 15 records failed"
refused=$(upserts | jq -r '[.[] | select(.status == 422)][0].body.organization.external_id')
n_up=$(upserts | jq length)
run_flow 0 "$flow"
assert_eq "$refused" "$(upserts | jq -r ".[$n_up:] | [.[].body.organization.external_id] | join(\",\")")" "the rerun sends the refused one alone"

# An outage of OSCaR: 75, no cursor or index moved, nothing sent to Primero.
fresh
sb_fault '{"path":"/oscar/*","status":503,"count":1000}'
run_flow 75 env HTTP_RETRIES=0 "$flow"
assert_no_file "$state/oscar.cursor"
assert_no_file "$state/primero.cursor"
assert_no_file "$state/oscar_index.json"
assert_eq 0 "$(writes)" "writes during an outage"
# And of Primero.
fresh
sb_fault '{"path":"/primero/*","status":503,"count":1000}'
run_flow 75 env HTTP_RETRIES=0 "$flow"
assert_eq "" "$(ls "$state")" "state files after a Primero outage"
assert_eq 0 "$(writes)" "writes during a Primero outage"

test_done
