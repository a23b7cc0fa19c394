#!/usr/bin/env bash
# F3, business requisitions in, against the sandbox's Box and the SMTP server:
# a valid file is applied (the database rows change) and moved to
# processed/success; a file with one invalid row changes nothing and goes to
# processed/error, the error list naming rows and columns; the liaisons get a
# mail either way; a missing variable is 78, a Box outage 75.
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
test_init bz-in "${1:-}"

template=$ROOT/tests/fixtures/masstesting/Business_Request_Template.csv
demo_db
db() { sqlite3 -separator , "$T/demo.sqlite" "$@"; }

sb_box_env
export BOX_CA_FILE=$TEST_SANDBOX_CA
export BOX_BZ_IN_FOLDER='Parent/Business Liaisons/from city' BOX_BZ_IN_SUCCESS=100008 BOX_BZ_IN_ERROR=Parent/processed/error
export LIAISON_SMTP_URL=${TEST_SMTP_STARTTLS%:*} LIAISON_SMTP_PORT=${TEST_SMTP_STARTTLS##*:}
export LIAISON_USER_NAME=$TEST_SMTP_USER LIAISON_USER_PWD=$TEST_SMTP_PASSWORD
export LIAISON_MAIL_FROM=bz@city.example LIAISON_MAIL_TO=liaisons-$$@city.example LIAISON_CA_FILE=$TEST_SMTP_CA
mails() { grep -l "liaisons-$$@city.example" "$TEST_SMTP_MAILDIR"/*.json 2>/dev/null | sed 's/\.json$/.eml/' | sort -V; }
# A mail as text: folded headers and quoted-printable soft line breaks undone.
mail_text() { sed -e ':a' -e '/=\r\?$/{N;s/=\r\?\n//;ba' -e '}' "$1" | sed -e ':a' -e '$!N;s/\r\?\n[ \t]\+/ /;ta' -e 'P;D' | tr -d '\r' >"$T/mail.txt"; echo "$T/mail.txt"; }
# The names of the files in a Box folder, sorted, space-separated.
box_names() { sb_state box | jq -r --arg id "$1" '.files[] | select(.parent == $id) | .name' | sort | paste -sd' '; }
# Put a file from the liaisons into "from city" (100006).
drop() {
    jq -n --arg name "$1" --rawfile content "$2" '{parent_id: "100006", name: $name, content: $content}' \
        | curl -sf --cacert "$TEST_SANDBOX_CA" -H 'Content-Type: application/json' -d @- "$TEST_SANDBOX_URL/_sandbox/box/files" >/dev/null \
        || fail "adding $1 to the sandbox"
}
# The seeded files of "from city" are in another layout: out of the way first.
clear_inbound() { "$PHTOOLS_BIN/box-get" --ca-file "$TEST_SANDBOX_CA" --delete --id 200001 --id 200002 >/dev/null 2>&1 || fail "deleting the seeded files"; }
clear_inbound
# A liaisons' file: the template's header, one row per "CODE,HASH,CONFIRM,SLOTS"
# argument (the other columns from the database), then the template's empty rows, CRLF.
answers() {
    head -n 1 "$template"
    local a code hash confirm slots
    for a in "$@"; do
        IFS=, read -r code hash confirm slots <<<"$a"
        db "SELECT '$confirm', '$slots', r.slots_requested, b.business_name, r.business_code, b.owner_first_name,
                   b.owner_last_name, b.business_phone, b.mobile_phone, b.email, b.address, b.city, b.state,
                   b.zip_code, '5/6/20 11:00', '$hash'
            FROM business_requests r JOIN businesses b USING (business_code)
            WHERE r.business_code = '$code' AND r.hash = '$hash'
            UNION ALL SELECT '$confirm', '$slots', 1, 'Nobody', '$code', '', '', '', '', '', '', '', '', '', '', '$hash'
            WHERE NOT EXISTS (SELECT 1 FROM business_requests WHERE business_code = '$code' AND hash = '$hash')" | sed 's/$/\r/'
    done
    tail -n 3 "$template"
}
req() { db "SELECT business_code || ',' || hash FROM business_requests WHERE id = $1"; }
state() { db "SELECT id, approved_confirm, slots_approved FROM business_requests ORDER BY id"; }

# --- missing variables: 78, every one named, nothing done
run_flow 78 env -u LIAISON_USER_PWD -u BOX_BZ_IN_ERROR "$ROOT/pipelines/bz-in/run.sh"
assert_eq "bz-in: error: missing variables: BOX_BZ_IN_ERROR, LIAISON_USER_PWD (see pipelines/bz-in/env.example)" \
    "$(tail -n 1 "$ERR")" "the missing variables line"
run_flow 78 env -u DB_URL "$ROOT/pipelines/bz-in/run.sh"
assert_eq "bz-in: error: missing variables: DB_URL (see pipelines/bz-in/env.example)" \
    "$(tail -n 1 "$ERR")" "a missing DB_URL, with data/demo.sqlite in the repository"

# --- nothing in the inbound folder: 0, nothing done
run_flow 0 "$ROOT/pipelines/bz-in/run.sh"
assert_contains "$ERR" "no new files: nothing applied"
assert_eq "" "$(mails)" "mails with nothing to do"

# --- a valid file: applied in full, moved to processed/success, a mail
answers "$(req 9),Y,5" "$(req 10),N,0" "$(req 11),," "$(req 12),Y,12" >"$T/good.csv"
assert_eq 8 "$(grep -c . "$T/good.csv")" "lines of the valid file (4 rows and 3 of the template's empty ones)"
drop business_requisition_2020-05-06_1000.csv "$T/good.csv"
state >"$T/before"
run_flow 0 "$ROOT/pipelines/bz-in/run.sh"
assert_eq "9,Y,5|10,N,0|11,,|12,Y,12" "$(db "SELECT id, approved_confirm, slots_approved FROM business_requests WHERE id BETWEEN 9 AND 12 ORDER BY id" | paste -sd'|')" \
    "the answers in the database"
assert_eq "$(grep -v '^\(9\|10\|12\),' "$T/before")" "$(state | grep -v '^\(9\|10\|12\),')" "the other requests unchanged"
assert_eq "business_requisition_2020-05-06_1000.csv" "$(box_names 100008)" "processed/success"
assert_eq "" "$(box_names 100006)" "the inbound folder after the move"
assert_file "$DATA_DIR/bz-in/$(date +%F)/success/business_requisition_2020-05-06_1000.csv"
mails >"$T/mails"
assert_lines 1 "$T/mails" "mails after a valid file"
eml=$(mail_text "$(head -n 1 "$T/mails")")
assert_contains "$eml" "Subject: Business requisitions: business_requisition_2020-05-06_1000.csv applied" "the mail"
assert_contains "$eml" "4 answers recorded" "the mail"
assert_eq "box-get 2
smtp-send 1" "$(jq -r .tool "$LOG_DIR/$(date +%F)_bz-in.jsonl" | sort | uniq -c | awk '{ print $2, $1 }')" "receipts in the audit log"

# --- the same file again (applied, but a run stopped before the move): it passes, nothing changes
drop business_requisition_2020-05-06_1000.csv "$T/good.csv"
state >"$T/before"
run_flow 0 "$ROOT/pipelines/bz-in/run.sh"
assert_eq "$(cat "$T/before")" "$(state)" "the database after the same file again"
assert_eq "business_requisition_2020-05-06_1000 (2).csv business_requisition_2020-05-06_1000.csv" "$(box_names 100008)" "processed/success keeps both"
mails >"$T/mails"
assert_lines 2 "$T/mails" "mails after the same file again"

# --- a file with invalid rows: nothing applied, moved to processed/error, the errors mailed
answers "$(req 13),Y,3" "$(req 14),X,3" "$(req 15),Y,-1" "$(req 1),Y,2" "BAD-CODE,$(req 16 | cut -d, -f2),N,0" "$(req 17),Y," "999999BZ,999999RQ,Y,1" >"$T/bad.csv"
drop business_requisition_2020-05-06_1100.csv "$T/bad.csv"
state >"$T/before"
run_flow 65 "$ROOT/pipelines/bz-in/run.sh"
assert_eq "$(cat "$T/before")" "$(state)" "the database after a refused file"
assert_eq "" "$(box_names 100006)" "the inbound folder after a refused file"
assert_eq "business_requisition_2020-05-06_1100.csv" "$(box_names 100009)" "processed/error"
assert_file "$DATA_DIR/bz-in/$(date +%F)/error/business_requisition_2020-05-06_1100.csv"
errors="row 3: approved_confirm: must be Y, N or empty
row 4: slots_approved: must be a whole number of 0 or more
row 5: business_code,hash: this request was answered already
row 6: business_code: must be letters and digits only
row 7: slots_approved: is empty but approved_confirm is not
row 8: business_code,hash: no request has this pair"
assert_eq "$errors" "$(sed -n 's/^bz-in: business_requisition_2020-05-06_1100.csv: //p' "$ERR")" "the error list on stderr"
mails >"$T/mails"
assert_lines 3 "$T/mails" "mails after a refused file"
eml=$(mail_text "$(tail -n 1 "$T/mails")")
assert_contains "$eml" "Subject: Business requisitions: business_requisition_2020-05-06_1100.csv refused" "the error mail"
while IFS= read -r line; do assert_contains "$eml" "$line" "the error mail"; done <<<"$errors"
# No values in the errors: not the codes, the hashes nor the names.
assert_not_contains "$ERR" "$(req 14 | cut -d, -f1)" "stderr"
assert_not_contains "$ERR" "Demo Business" "stderr"

# --- a file whose columns are not the template's: refused, the missing columns named
printf 'request_id,approved\r\nREQ-1,Y\r\n' >"$T/other.csv"
drop other.csv "$T/other.csv"
run_flow 65 "$ROOT/pipelines/bz-in/run.sh"
assert_contains "$ERR" 'bz-in: other.csv: row 1: missing required columns "approved_confirm", "slots_approved", "business_code", "hash"'
assert_not_contains "$ERR" "$T/data/bz-in" "the error list (no local paths)"
assert_eq "business_requisition_2020-05-06_1100.csv other.csv" "$(box_names 100009)" "processed/error"
assert_eq "$(cat "$T/before")" "$(state)" "the database after a file of another layout"

# --- a Box outage: 75, nothing applied, the file left in the inbound folder
answers "$(req 20),Y,4" >"$T/later.csv"
drop business_requisition_2020-05-06_1200.csv "$T/later.csv"
sb_fault '{"path":"/box/*","status":503,"count":1000}'
run_flow 75 "$ROOT/pipelines/bz-in/run.sh"
assert_eq "$(cat "$T/before")" "$(state)" "the database after an outage"
assert_eq "business_requisition_2020-05-06_1200.csv" "$(box_names 100006)" "the inbound folder after an outage"
mails >"$T/mails"
assert_lines 4 "$T/mails" "mails after an outage"
test_done
