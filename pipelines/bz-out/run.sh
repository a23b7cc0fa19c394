#!/usr/bin/env bash
# F2, business requisitions out: the requests created in a window, in the
# layout of Business_Request_Template.csv, to the business liaisons' Box folder.
#
#   pipelines/bz-out/run.sh            (make bz-out; hourly)
#
# The window is the last full hour; START and END ('YYYY-MM-DD HH:MM[:SS]')
# override it (END defaults to an hour after START); the run's day (its logs)
# is START's, and DATE is not read. The file is business_requisition_YYYY-MM-DD_HH00.csv, named
# after START. An empty window writes and sends nothing. Variables: see
# env.example beside this script. Receipts go to log/DATE_bz-out.jsonl.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"

START=${START:-$(date -d '1 hour ago' '+%F %H:00:00')}
start=$(date -d "$START" '+%F %H:%M:%S' 2>/dev/null) || die 64 "START must be a time as 'YYYY-MM-DD HH:MM'"
# END defaults to an hour after START.
END=${END:-$(date -d "@$(($(date -d "$start" +%s) + 3600))" '+%F %H:%M:%S')}
end=$(date -d "$END" '+%F %H:%M:%S' 2>/dev/null) || die 64 "END must be a time as 'YYYY-MM-DD HH:MM'"
flow_init bz-out "${start%% *}"
require_env DB_URL BOX_CONFIG BOX_BZ_OUT_FOLDER
[[ $start < $end ]] || die 64 "START ($start) must come before END ($end)"

name=business_requisition_$(date -d "$start" '+%F_%H')00.csv
out=$DATA_DIR/bz-out
file=$out/$name
db=() box=()
db_args db
ca_args box BOX_CA_FILE
box_folder_args box put "$BOX_BZ_OUT_FOLDER"

step "extract the requests created from $start to $end"
mkdir -p "$out"
records=$out/.requests.ndjson
at_exit rm -f "$records"
db-extract "${db[@]}" --query-file "$FLOW_DIR/requests.sql" --named "start=$start" --named "end=$end" --to ndjson >"$records"
count=$(wc -l <"$records")
if [ "$count" -eq 0 ]; then
    step "no requests from $start to $end: nothing written or sent"
    exit 0
fi

step "write $name ($count requests)"
json-map -f "$FLOW_DIR/bz-out.jq" "$records" \
    | csv-shape --from ndjson --columns-file "$FLOW_DIR/request.columns" -o "$file"

step "upload it to the liaisons' Box folder ($BOX_BZ_OUT_FOLDER)"
box-put "${box[@]}" "$file" | audit >/dev/null

step "done: $count requests; receipts in $AUDIT"
