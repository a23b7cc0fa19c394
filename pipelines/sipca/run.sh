#!/usr/bin/env bash
# F8, Kobo survey to dhis2 events (make sipca), daily: each new or changed row
#
#   pipelines/sipca/run.sh [DATE]      (DATE names the logs and the saved
#                                       payloads; default today)
#
# of the Kobo export ($KOBO_CSV, ~-separated) becomes one COMPLETED event of
# the SIPCA program, sent to /api/tracker and followed to its import report.
# Run mapping.sh (make sipca-mapping) first. The result lines are kept in
# $STATE_DIR/sipca/ until committed, so that a run killed while sending has
# what it delivered committed by the next one. Variables: see env.example.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"

flow_init sipca "$@"
if [ -n "${DHIS2_TOKEN:-}" ]; then require_env DHIS2_URL KOBO_CSV; else require_env DHIS2_URL DHIS2_USER DHIS2_PASSWORD KOBO_CSV; fi

maps=${SIPCA_MAPPING_DIR:-$FLOW_DIR}
mapping=$DATA_DIR/sipca/mapping_generated.json
index=$STATE_DIR/sipca/event_index.json
payloads=$DATA_DIR/sipca/events_payload
pending=$STATE_DIR/sipca/results.pending.ndjson
[ -r "$mapping" ] || die 78 "no $mapping: run make sipca-mapping first"
[ -r "$KOBO_CSV" ] || die 66 "cannot read KOBO_CSV $KOBO_CSV"
auth=(--auth basic --user-env DHIS2_USER --password-env DHIS2_PASSWORD)
[ -z "${DHIS2_TOKEN:-}" ] || auth=(--auth dhis2-token --token-env DHIS2_TOKEN)
ca=()
ca_args ca DHIS2_CA_FILE
mkdir -p "$STATE_DIR/sipca" "$payloads"
work=$(mktemp -d "$DATA_DIR/sipca/.run.XXXXXX")
at_exit rm -rf "$work"

step "check that dhis2 answers and takes the credentials (an outage stops the run here, with the index untouched)"
http-get "${DHIS2_URL%/}/api/programs/$(json-map -r .program "$mapping")" "${auth[@]}" "${ca[@]}" \
    --retries "${HTTP_RETRIES:-3}" --query fields=id --quiet > /dev/null

if [ -s "$pending" ]; then
    step "commit the results an interrupted run left in $pending"
    index-diff --commit --index "$index" "$pending"
fi
rm -f "$pending"

step "diff the Kobo export with the event index (uids minted for new rows; index backed up in $LOG_DIR)"
index-diff --index "$index" --format sipca --key _uuid --mint dhis2-uid --emit new,changed,deleted \
    --from csv -d '~' --backup-dir "$LOG_DIR" "$KOBO_CSV" > "$work/todo.ndjson"

step "map the rows to events (a row that fails is reported and left for the next run)"
map_rc=0
json-map 'select(._op != "deleted")' "$work/todo.ndjson" |
    json-map --keep-going --arg run_date "$RUN_DATE" --lookup "map=$mapping" --lookup "ou=$maps/mapping_orgUnits.json" \
        -f "$FLOW_DIR/events.jq" > "$work/events.ndjson" || map_rc=$?

post_rc=0
if [ -s "$work/events.ndjson" ]; then
    step "send $(wc -l < "$work/events.ndjson") events to dhis2 and follow each import job"
    http-post --each "${auth[@]}" "${ca[@]}" --retries "${HTTP_RETRIES:-3}" \
        --body-field payload --follow dhis2-job --poll-interval "${DHIS2_POLL_INTERVAL:-1}" \
        --save-dir "$payloads" --save-name '{_run_date}__{_kobo}_{_remote_id}.json' \
        --save-response-name '{_run_date}__{_kobo}_{_remote_id}_response_event_payload.json' \
        "${DHIS2_URL%/}/api/tracker?async=true&importStrategy=CREATE_AND_UPDATE&atomicMode=OBJECT" \
        < "$work/events.ndjson" | audit > "$pending" || post_rc=$?
else
    step "nothing to send"
    : > "$pending"
fi

step "mark uploaded the events whose import report says OK (index backed up in $LOG_DIR)"
index-diff --commit --index "$index" --backup-dir "$LOG_DIR" "$pending"
rm -f "$pending"

rc=$post_rc
[ "$rc" -ne 0 ] || rc=$map_rc
[ "$rc" -eq 0 ] || die "$rc" "some rows were not delivered (see the lines above); the next run sends them again"
step "done"
