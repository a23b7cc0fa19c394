#!/usr/bin/env bash
# F6, test results to ReportStream (make reportstream, every 2 minutes): the
# testing app drops one JSON test event per file into the spool folder; each
# run sends up to RS_BATCH of them, oldest first, as one CSV report.
#
#   pipelines/reportstream/run.sh [DATE]   (DATE only names the logs; default today)
#
# Variables: pipelines/reportstream/env.example. batch-split peeks at the spool
# (nothing is removed before ReportStream answers) and runs send.sh on the batch:
#   2xx        the events move to SPOOL_DIR/sent/; warnings and item errors are
#              logged by Result_ID (send.sh)
#   400        the batch moves to SPOOL_DIR/error/, not retried; exit 65
#   otherwise  the events stay in the spool for the next run; exit 75 (outage),
#              77 (credentials) or 69 (refused)
# An event file that is not a JSON object is set aside in SPOOL_DIR/error/ on
# its own (once it is 10 s old: its writer may still be at it) and does not
# block the batch. Receipts go to log/DATE_reportstream.jsonl.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"
flow_init reportstream "$@"

# A signed client assertion (RS_PRIVATE_KEY_FILE) or, failing that, the older function key.
auth_var=RS_PRIVATE_KEY_FILE
if [ -z "${RS_PRIVATE_KEY_FILE:-}" ] && [ -n "${RS_FUNCTION_KEY:-}" ]; then auth_var=RS_FUNCTION_KEY; fi
require_env RS_URL RS_CLIENT_ID "$auth_var"
if [ -n "${RS_PRIVATE_KEY_FILE:-}" ] && [ ! -r "$RS_PRIVATE_KEY_FILE" ]; then
    die 78 "cannot read RS_PRIVATE_KEY_FILE"
fi
RS_BATCH=${RS_BATCH:-500}
[[ $RS_BATCH =~ ^[1-9][0-9]{0,5}$ ]] || die 78 "RS_BATCH must be a whole number from 1"
SPOOL_DIR=${SPOOL_DIR:-$DATA_DIR/reportstream/spool}
mkdir -p "$SPOOL_DIR"
export RS_SEND=$FLOW_DIR/send.sh

step "send up to $RS_BATCH events from $SPOOL_DIR to $RS_URL"
# shellcheck disable=SC2016  # sh -c expands $RS_SEND (spaces and all)
batch-split --spool "$SPOOL_DIR" --size "$RS_BATCH" --reject-code 65 --exec '"$RS_SEND"' | audit >/dev/null
step "done"
