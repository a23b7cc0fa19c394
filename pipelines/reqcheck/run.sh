#!/usr/bin/env bash
# F5, ReqCheck extract (make reqcheck, nightly): the immunization records changed
# since ReqCheck's last import go to ReqCheck, patients first, then doses.
#
#   pipelines/reqcheck/run.sh [DATE]      (DATE only names the logs; default today)
#
# Variables: pipelines/reqcheck/env.example. PUBLISH_TO=file writes the payloads
# to data/DATE/reqcheck/ instead of posting them, without contacting ReqCheck
# (everything is extracted), for a dry first run against production data.
# Receipts go to log/DATE_reqcheck.jsonl. A partial_failure answer is a warning
# naming ReqCheck's error object ids; the run fails only when a request is
# refused or cannot be sent (the exit code of http-post: 75 try again later,
# 77 credentials, 69 refused).
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"
flow_init reqcheck "$@"

export PUBLISH_TO=${PUBLISH_TO:-api}
case $PUBLISH_TO in
api) require_env DATABASE_URL REQCHECK_URL REQCHECK_USER REQCHECK_PASSWORD ;;
file) require_env DATABASE_URL ;;
*) die 78 "PUBLISH_TO must be api or file (see pipelines/reqcheck/env.example)" ;;
esac
export REQCHECK_BATCH=${REQCHECK_BATCH:-500}
[[ $REQCHECK_BATCH =~ ^[1-9][0-9]{0,5}$ ]] || die 78 "REQCHECK_BATCH must be a whole number from 1"
REQCHECK_OVERLAP=${REQCHECK_OVERLAP:-300}
[[ $REQCHECK_OVERLAP =~ ^[0-9]{1,7}$ ]] || die 78 "REQCHECK_OVERLAP must be a number of seconds"
export REQCHECK_PUBLISH=$FLOW_DIR/publish.sh
export PAYLOAD_DIR=$DATA_DIR/$RUN_DATE/reqcheck
ca=()
ca_args ca REQCHECK_CA_FILE
tmp=$(mktemp -d)
at_exit rm -rf "$tmp"

# Each http-post receipt of a batch that ReqCheck only partly imported becomes
# one warning line with ReqCheck's error object ids (never a record value).
# A warning that cannot be written does not fail a run whose batches were sent.
warn_partial() {
    json-map -r 'select(.fields.reqcheck_status? == "partial_failure")
        | "reqcheck: warning: \(.target | split("/") | last): import \(.fields.data_import_id): partial_failure, ReqCheck error objects \(.fields.error_objects_ids | map(tostring) | join(", "))"' >&2 || true
}

if [ "$PUBLISH_TO" = api ]; then
    step "heartbeat: ask ReqCheck for its last import"
    http-post --auth basic --user-env REQCHECK_USER --password-env REQCHECK_PASSWORD "${ca[@]}" \
        --no-body --response "$tmp/heartbeat.json" \
        --receipt-field last_update_date=.last_update_date "${REQCHECK_URL%/}/heartbeat" | audit >/dev/null
    since=$(json-map -r --arg overlap "$REQCHECK_OVERLAP" -f "$FLOW_DIR/heartbeat.jq" "$tmp/heartbeat.json")
else
    step "file mode: every record, payloads to $PAYLOAD_DIR, nothing sent"
    since=$(echo '{}' | json-map -r --arg overlap 0 -f "$FLOW_DIR/heartbeat.jq")
    mkdir -p "$PAYLOAD_DIR"
    rm -f "$PAYLOAD_DIR"/patient_data-*.json "$PAYLOAD_DIR"/vaccine_dose_data-*.json
fi

step "patient_data: extract the patients changed since $since (UTC; the last import less ${REQCHECK_OVERLAP}s)"
db-extract --to ndjson --query-file "$FLOW_DIR/patient_data.sql" --param "$since" -o "$tmp/patients.ndjson"
step "patient_data: $(wc -l <"$tmp/patients.ndjson") patients, in batches of $REQCHECK_BATCH"
# The batch command is single-quoted: sh -c expands $REQCHECK_PUBLISH (spaces and all).
# shellcheck disable=SC2016
json-map -f "$FLOW_DIR/patient_data.jq" "$tmp/patients.ndjson" |
    batch-split -n "$REQCHECK_BATCH" --name 'patient_data-{n}.json' --exec '"$REQCHECK_PUBLISH" patient_data' |
    audit | warn_partial

step "vaccine_dose_data: extract every dose of the patients with a dose changed since $since (UTC)"
db-extract --to ndjson --query-file "$FLOW_DIR/vaccine_dose_data.sql" --param "$since" -o "$tmp/doses.ndjson"
step "vaccine_dose_data: $(wc -l <"$tmp/doses.ndjson") doses, in batches of $REQCHECK_BATCH patients"
# shellcheck disable=SC2016
json-map --slurp -f "$FLOW_DIR/vaccine_dose_data.jq" "$tmp/doses.ndjson" |
    batch-split -n "$REQCHECK_BATCH" --name 'vaccine_dose_data-{n}.json' --exec '"$REQCHECK_PUBLISH" vaccine_dose_data' |
    audit | warn_partial

step "done"
