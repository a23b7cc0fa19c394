#!/usr/bin/env bash
# One batch of spooled test events to ReportStream, for batch-split --exec in run.sh:
#
#   send.sh < events.ndjson
#
# json-map maps each event to a row (report.jq, codes.json), csv-shape writes
# the CSV in columns.txt's order, and http-post sends it to $RS_URL/api/reports
# with the client header and a token for a signed client assertion
# (RS_PRIVATE_KEY_FILE) or the function key (RS_FUNCTION_KEY). Its receipt (the
# report id, submission id, item count, and each warning's and error's field
# and tracking ids) goes to stdout; one warning line per warning or item error
# goes to stderr, naming the field and the Result_IDs, never a value.
#
# Exit status, which batch-split turns into what happens to the events:
#   0   accepted (2xx): the events go to sent/
#   65  refused as a whole (400), or events that cannot be mapped: they go to
#       error/ (run.sh gives --reject-code 65) and are not retried
#   other (75 outage, 77 credentials, 69 other refusals): they stay in the
#       spool for the next run
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"
here=$FLOW_DIR
tmp=$(mktemp -d)
at_exit rm -rf "$tmp"

json-map --lookup codes="$here/codes.json" -f "$here/report.jq" |
    csv-shape --from ndjson --columns-file "$here/columns.txt" -o "$tmp/report.csv"

if [ -n "${RS_PRIVATE_KEY_FILE:-}" ]; then
    auth=(--auth reportstream-jwt --private-key-file "$RS_PRIVATE_KEY_FILE" --client-id "$RS_CLIENT_ID")
else
    auth=(--auth function-key --token-env RS_FUNCTION_KEY)
fi
opts=()
ca_args opts RS_CA_FILE
url=${RS_URL%/}/api/reports
if [ -n "${RS_OPTION:-}" ]; then url="$url?option=$RS_OPTION"; fi

# One line per warning or error entry of the answer (level $1): its kind,
# scope, field and tracking ids; ReportStream's messages are left out, as
# they may quote a value.
items() {
    # shellcheck disable=SC2016  # a jq filter
    json-map -r --arg level "$1" '(.id // "-") as $id
        | ((.warnings // [])[] | {kind: "warning", e: .}), ((.errors // [])[] | {kind: "error", e: .})
        | "reportstream: \($level): report \($id): \(.kind) (\(.e.scope // "item")) on \(.e.field // "-") for Result_ID \((.e.trackingIds // []) | join(", "))"' \
        "$tmp/answer.json" >&2
}

# A 400 is ReportStream refusing the report itself: exit 65 tells it from the
# other refusals (69).
rc=0
http-post "${auth[@]}" "${opts[@]}" -H "client: $RS_CLIENT_ID" --content-type text/csv --exit-on 400=65 \
    --response "$tmp/answer.json" --id-from .id \
    --receipt-field submission_id=.submissionId \
    --receipt-field items=.reportItemCount \
    --receipt-field warnings='[.warnings[]? | {scope, field, trackingIds}]' \
    --receipt-field errors='[.errors[]? | {scope, field, trackingIds}]' \
    "$url" <"$tmp/report.csv" || rc=$?

if [ "$rc" -eq 0 ]; then
    items warning || true
    exit 0
fi
if [ "$rc" -eq 65 ]; then
    items error || true
    echo "reportstream: error: ReportStream refused the report as a whole (400): its events go to error/" >&2
    exit 65
fi
exit "$rc"
