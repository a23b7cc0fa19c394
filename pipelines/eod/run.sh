#!/usr/bin/env bash
# F1, end-of-day files: the appointments of DATE for the printing company
# (SFTP), the health network (mail) and the city (Box).
#
#   pipelines/eod/run.sh [DATE]        (make eod DATE=YYYY-MM-DD; default today)
#
# Variables: see env.example beside this script. Receipts go to
# log/DATE_eod.jsonl, stderr also to log/DATE_eod.log. A rerun for the same
# DATE writes the same files, renames them over the old ones on SFTP, makes a
# new Box version only when a file changed, and mails the master file again
# only when it changed (or with EOD_RESEND_MAIL=1).
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"

flow_init eod "$@"
vars=(DB_URL PRINT_SFTP_HOST PRINT_SFTP_USERNAME
    HEALTH_NETWORK_SMTP_URL HEALTH_NETWORK_USER_NAME HEALTH_NETWORK_USER_PWD
    HEALTH_NETWORK_MAIL_FROM HEALTH_NETWORK_MAIL_TO
    BOX_CONFIG BOX_EOD_PARENT BOX_EOD_TRANSPORTATION)
[ -n "${PRINT_SFTP_PASSWORD:-}${PRINT_SFTP_IDENTITY:-}" ] || vars+=(PRINT_SFTP_PASSWORD)
require_env "${vars[@]}"

day_after=$(date -d "$RUN_DATE + 1 day" +%F)
box_day=$(date -d "$RUN_DATE" +%m-%d-%Y)
out=$DATA_DIR/$RUN_DATE
master=$out/patient_appointments_master.csv
printer=$out/patient_appointments.csv
form=$out/patients_form_print.csv
records=$out/.appointments.ndjson
db=() box=() mail=()
db_args db
ca_args box BOX_CA_FILE
ca_args mail HEALTH_NETWORK_CA_FILE
# The layouts' columns that the database no longer has: written empty, in place.
gone=ssn,language_pref_other,patient_pui,doctor_provider,doctor_provider_other,provider_patient_id
# The columns every file is made from; one missing fails the run, naming it.
needed=book_datetime,start_datetime,end_datetime,first_name,last_name,dob,first_responder,hash,business_code

# The three files from one json-map pass, which gives every value of the
# three layouts (eod.jq --arg file all): tee hands the records to the master
# and print form writers through FIFOs and to the printer file's writer on
# its stdout. The first failure's code is the run's, json-map's first (tee's
# only follows a writer's); a writer that saw the records end early wrote a
# short file, so then none of the three stays.
write_files() {
    local work status master_pid form_pid written
    work=$(mktemp -d "$out/.eod.XXXXXX")
    at_exit rm -rf "$work"
    mkfifo "$work/master" "$work/form"
    csv-shape --from ndjson --columns-file "$FLOW_DIR/master.columns" --row-number car_number \
        --add-empty "$gone,pcp_first_name,pcp_last_name,pcp_phone_number,pcp_address,pcp_city,pcp_state,pcp_zip_code" \
        --quote-spaces -o "$master" <"$work/master" &
    master_pid=$!
    csv-shape --from ndjson --rename dob=record_dob --rename form_dob=dob \
        --rename first_responder=record_first_responder --rename form_first_responder=first_responder \
        --columns-file "$FLOW_DIR/form_print.columns" --row-number car_number --add-empty "$gone" --quote-spaces \
        -o "$form" <"$work/form" &
    form_pid=$!
    set +e
    json-map -f "$FLOW_DIR/eod.jq" --arg file all "$records" \
        | tee --output-error=warn-nopipe "$work/master" "$work/form" \
        | csv-shape --from ndjson --rename start_datetime=record_start_datetime \
            --rename printer_start_datetime=start_datetime --rename dob=record_dob --rename form_dob=dob \
            --select 'car_number,start_datetime,name,dob,Patient Type' --row-number car_number --quote-spaces -o "$printer"
    written=("${PIPESTATUS[@]}")
    wait "$master_pid"
    written+=("$?")
    wait "$form_pid"
    written+=("$?")
    set -e
    for status in "${written[0]}" "${written[3]}" "${written[4]}" "${written[2]}" "${written[1]}"; do
        if [ "$status" -ne 0 ]; then
            rm -f "$master" "$printer" "$form"
            exit "$status"
        fi
    done
}

# "mailed" when the audit log holds a receipt of this master file mailed
# (not dry). An audit log json-map cannot read stops the run before anything
# is sent, rather than mailing the file again.
mailed_before() {
    local sha
    [ -s "$AUDIT" ] || return 0
    # (Run as $(mailed_before), where set -e does not hold: each failure is checked.)
    sha=$(sha256sum "$master" | cut -d' ' -f1) || die 74 "cannot read $master"
    # shellcheck disable=SC2016  # $sha is jq's
    json-map -r --arg sha "$sha" \
        'select(.tool == "smtp-send" and (.dry_run | not) and any(.attachments[]?; .sha256 == $sha)) | "mailed"' "$AUDIT" \
        || die "$?" "cannot read the audit log $AUDIT to tell whether the master file was mailed; mend or move it, then run again"
}

send_sftp() {
    sftp-put --env-prefix PRINT_SFTP --remote-dir "${PRINT_SFTP_DIR:+$PRINT_SFTP_DIR/}$RUN_DATE" --mkdir "$printer" "$form"
}

send_mail() {
    smtp-send --env-prefix HEALTH_NETWORK "${mail[@]}" --subject "Patient appointments $RUN_DATE" \
        --body "The master patient file for $RUN_DATE is attached ($count appointments)." --attach "$master"
}

send_box() {
    local day=() transportation=()
    box_folder_args day put "$BOX_EOD_PARENT" "$box_day"
    box_folder_args transportation put "$BOX_EOD_TRANSPORTATION"
    box-put "${box[@]}" "${day[@]}" "$master" "$printer" "$form"
    box-put "${box[@]}" "${transportation[@]}" --name "patients_form_print_$RUN_DATE.csv" "$form"
}

step "extract the appointments of $RUN_DATE"
mkdir -p "$out"
at_exit rm -f "$records"
db-extract "${db[@]}" --query-file "$FLOW_DIR/appointments.sql" --param "$RUN_DATE" --param "$day_after" --to ndjson >"$records"
# Every record of one query has the same columns: the first one tells.
head -n 1 "$records" | csv-shape --from ndjson --to ndjson --require "$needed" >/dev/null
count=$(wc -l <"$records")
if [ "$count" -eq 0 ]; then
    step "no appointments on $RUN_DATE: nothing written or sent"
    exit 0
fi

step "write the three files ($count appointments)"
write_files

mailed=$(mailed_before)
# The three deliveries run side by side; a failed one does not stop the others.
step "send the printer files to the printing company (SFTP, ${PRINT_SFTP_DIR:+$PRINT_SFTP_DIR/}$RUN_DATE)"
background sftp send_sftp
if [ -n "$mailed" ] && [ "${EOD_RESEND_MAIL:-0}" != 1 ]; then
    step "the health network already has this master file (see $AUDIT): not mailed again"
else
    step "mail the master file to the health network"
    background mail send_mail
fi
step "upload the three files to Box ($BOX_EOD_PARENT/$box_day) and the print file to transportation"
background box send_box
wait_all

step "done: $count appointments; receipts in $AUDIT"
