#!/usr/bin/env bash
# F3, business requisitions in: the liaisons' answers (approved_confirm,
# slots_approved) from Box's "from city" folder, checked, applied and filed.
#
#   pipelines/bz-in/run.sh [DATE]     (make bz-in; hourly; DATE names the logs
#                                      and data/bz-in/DATE/, default today)
#
# For each CSV file in BOX_BZ_IN_FOLDER: every row is checked (approved_confirm
# Y, N or empty; slots_approved a whole number; business_code and hash letters
# and digits, naming a pending request, or repeating the answer a decided one
# has, so that a file applied but not moved when a run stopped passes again;
# empty rows ignored). A file with any
# error changes nothing and is moved to BOX_BZ_IN_ERROR; a valid one is applied
# in one transaction (db-load) and moved to BOX_BZ_IN_SUCCESS. A Box move takes
# the file out of the inbound folder only once it is in its new folder. Either
# way the liaisons get a mail: the number of answers applied, or the error list
# (rows and columns, no values). Exit 65 when a file was refused (after every
# file was handled), 0 when all were applied or there were none.
# Variables: see env.example beside this script. Receipts go to
# log/DATE_bz-in.jsonl, the files to data/bz-in/DATE/{success,error}/.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"

flow_init bz-in "$@"
require_env DB_URL BOX_CONFIG BOX_BZ_IN_FOLDER BOX_BZ_IN_SUCCESS BOX_BZ_IN_ERROR \
    LIAISON_SMTP_URL LIAISON_USER_NAME LIAISON_USER_PWD LIAISON_MAIL_FROM LIAISON_MAIL_TO

db=() box=() mail=() inbound=() to_success=() to_error=()
db_args db
ca_args box BOX_CA_FILE
ca_args mail LIAISON_CA_FILE
box_folder_args inbound get "$BOX_BZ_IN_FOLDER"
box_folder_args to_success move "$BOX_BZ_IN_SUCCESS"
box_folder_args to_error move "$BOX_BZ_IN_ERROR"
out=$DATA_DIR/bz-in/$RUN_DATE
inbox=$out/inbox
work=$out/.work
mkdir -p "$inbox" "$work" "$out/success" "$out/error"
at_exit rm -rf "$work"

step "download the new CSV files from Box ($BOX_BZ_IN_FOLDER)"
box-get "${box[@]}" "${inbound[@]}" --glob '*.csv' --glob '*.CSV' \
    --out-dir "$inbox" | audit >"$work/downloads.ndjson"
if [ ! -s "$work/downloads.ndjson" ]; then
    step "no new files: nothing applied"
    exit 0
fi

# One mail to the liaisons about FILE: SUBJECT, and the body from BODY_FILE.
notify() {
    smtp-send --env-prefix LIAISON "${mail[@]}" --subject "$1" --body-file "$2" | audit >/dev/null
}

refused=0
while IFS= read -r -u 3 receipt; do
    name=$(json-map -r .name <<<"$receipt")
    file=$inbox/$name
    step "check $name"
    : >"$work/errors"
    if ! csv-shape --skip-empty-rows --require approved_confirm,slots_approved,business_code,hash \
        --to ndjson "$file" 2>"$work/shape.err" >"$work/rows.ndjson"; then
        # The file itself is unreadable: csv-shape's one line names the row or the columns.
        msg=$(tail -n 1 "$work/shape.err")
        msg=${msg#csv-shape: error: }
        echo "${msg//"$file: "/}" >"$work/errors"
    else
        # Rows counted from the file itself, so that the numbers are the spreadsheet's.
        csv-shape --pad-ragged --to ndjson "$file" >"$work/all.ndjson"
        db-extract "${db[@]}" --query-file "$FLOW_DIR/requests.sql" --to ndjson \
            | json-map -s 'def text: if . == null then "" else tostring end;
                map({key: "\(.business_code)/\(.hash)", value: {confirm: (.approved_confirm | text), slots: (.slots_approved | text)}})
                | from_entries' >"$work/requests.json"
        json-map -s -r --lookup "requests=$work/requests.json" -f "$FLOW_DIR/validate.jq" "$work/all.ndjson" >"$work/errors"
    fi
    rows=$(wc -l <"$work/rows.ndjson")

    if [ ! -s "$work/errors" ]; then
        step "apply $name ($rows rows) in one transaction"
        rc=0
        csv-shape --skip-empty-rows --select business_code,hash,approved_confirm,slots_approved "$file" \
            | db-load "${db[@]}" --table business_requests --key business_code,hash --mode update \
                --columns approved_confirm,slots_approved 2>"$work/load.err" >"$work/load.ndjson" || rc=$?
        cat "$work/load.err" >&2
        if [ "$rc" -eq 65 ]; then
            sed -n 's/^db-load: \(Row [0-9]*\)/\1/p' "$work/load.err" >"$work/errors"
            [ -s "$work/errors" ] || echo "the database refused the file" >"$work/errors"
        elif [ "$rc" -ne 0 ]; then
            die "$rc" "$name: not applied (db-load exit $rc); it stays in the inbound folder for the next run"
        fi
    fi

    if [ -s "$work/errors" ]; then
        refused=1
        step "$name has $(wc -l <"$work/errors") errors: nothing applied; to $BOX_BZ_IN_ERROR"
        sed "s/^/$FLOW_NAME: $name: /" "$work/errors" >&2
        box-get "${box[@]}" "${to_error[@]}" <<<"$receipt" | audit >/dev/null
        mv -f "$file" "$out/error/$name"
        {
            echo "The file $name was not applied: nothing in it was changed."
            echo "It is now in the error folder. Please correct these rows and drop it in again:"
            echo
            cat "$work/errors"
        } >"$work/body"
        notify "Business requisitions: $name refused" "$work/body"
    else
        step "$name applied ($rows rows); to $BOX_BZ_IN_SUCCESS"
        box-get "${box[@]}" "${to_success[@]}" <<<"$receipt" | audit >/dev/null
        mv -f "$file" "$out/success/$name"
        echo "The file $name was applied: $rows answers recorded. It is now in the success folder." >"$work/body"
        notify "Business requisitions: $name applied" "$work/body"
    fi
done 3<"$work/downloads.ndjson"

if [ "$refused" -eq 1 ]; then
    die 65 "a file was refused (see above); the liaisons were sent its errors"
fi
step "done; receipts in $AUDIT"
