#!/usr/bin/env bash
# F4, printer PDFs: the requisition PDFs the printing company returned in
# PRINTER_PICKBOX/DATE, to the city's Box folder for DATE (MM-DD-YYYY under
# BOX_PRINTER_PDFS_PARENT). A PDF already uploaded (same name and sha256, per
# the index state/printer-pdfs/DATE.json) is not sent again.
#
#   pipelines/printer-pdfs/run.sh [DATE]     (make printer-pdfs DATE=YYYY-MM-DD; default today)
#
# Variables: see env.example beside this script. Receipts go to
# log/DATE_printer-pdfs.jsonl. The index moves only for the PDFs Box confirmed.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"

flow_init printer-pdfs "$@"
require_env BOX_CONFIG BOX_PRINTER_PDFS_PARENT

pickbox=${PRINTER_PICKBOX:-$DATA_DIR/pickbox}/$RUN_DATE
box_day=$(date -d "$RUN_DATE" +%m-%d-%Y)
index=$STATE_DIR/printer-pdfs/$RUN_DATE.json
work=$STATE_DIR/printer-pdfs/.$RUN_DATE
box=()
ca_args box BOX_CA_FILE
box_folder_args box put "$BOX_PRINTER_PDFS_PARENT" "$box_day"

[ -d "$pickbox" ] || die 66 "no pickup folder $pickbox"
mkdir -p "$work"
at_exit rm -rf "$work"

step "list the PDFs in $pickbox"
{
    echo name,sha256
    find "$pickbox" -mindepth 1 -maxdepth 1 -type f -iname '*.pdf' -printf '%f\n' | LC_ALL=C sort | while IFS= read -r pdf; do
        printf '"%s",%s\n' "${pdf//\"/\"\"}" "$(sha256sum <"$pickbox/$pdf" | cut -d' ' -f1)"
    done
} >"$work/pdfs.csv"

step "keep those not uploaded yet (index $index)"
index-diff --index "$index" --key name,sha256 --from csv "$work/pdfs.csv" >"$work/todo.ndjson"
mapfile -t names < <(json-map -r .name "$work/todo.ndjson")
if [ "${#names[@]}" -eq 0 ]; then
    step "every PDF of $RUN_DATE is in Box already: nothing sent"
    exit 0
fi

step "upload ${#names[@]} PDFs to Box ($BOX_PRINTER_PDFS_PARENT/$box_day)"
files=()
for n in "${names[@]}"; do files+=("$pickbox/$n"); done
rc=0
box-put "${box[@]}" "${files[@]}" >"$work/receipts.ndjson" || rc=$?
audit <"$work/receipts.ndjson" >/dev/null

step "mark the uploaded PDFs in the index"
cat "$work/todo.ndjson" "$work/receipts.ndjson" | json-map -s -f "$FLOW_DIR/commit.jq" >"$work/results.ndjson"
[ ! -s "$work/results.ndjson" ] || index-diff --commit --index "$index" "$work/results.ndjson"
[ "$rc" -eq 0 ] || exit "$rc"
step "done: ${#names[@]} PDFs uploaded; receipts in $AUDIT"
