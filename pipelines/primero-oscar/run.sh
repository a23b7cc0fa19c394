#!/usr/bin/env bash
# F7, Primero <-> OSCaR case sync (make primero-oscar), hourly.
#
#   pipelines/primero-oscar/run.sh [DATE]   (DATE names the logs and is the day
#                                            ages are counted to; default today)
#
# Flow B: clients OSCaR referred -> Primero cases (upsert by lookup), then
# OSCaR's id links. Flow A: Primero cases referred to OSCaR -> OSCaR clients
# (upsert). B runs first, so that A sends the cases B changed in the same run
# and the next run has nothing left to send. Each direction has its cursor
# and its index under $STATE_DIR/primero-oscar/, moved only from what was
# delivered. A record that fails is reported and does not stop the others;
# the exit status is the worst of them. Variables: see env.example.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"

flow_init primero-oscar "$@"
require_env PRIMERO_URL PRIMERO_USER PRIMERO_PASSWORD OSCAR_URL OSCAR_EMAIL OSCAR_PASSWORD

state=$STATE_DIR/primero-oscar
mkdir -p "$state"
work=$(mktemp -d "$DATA_DIR/.primero-oscar.XXXXXX")
at_exit rm -rf "$work"
primero_api=${PRIMERO_URL%/}
oscar_api=${OSCAR_URL%/}
primero=(--auth primero --user-env PRIMERO_USER --password-env PRIMERO_PASSWORD --retries "${HTTP_RETRIES:-3}")
ca_args primero PRIMERO_CA_FILE
oscar=(--auth oscar --user-env OSCAR_EMAIL --password-env OSCAR_PASSWORD --retries "${HTTP_RETRIES:-3}")
ca_args oscar OSCAR_CA_FILE
started=$(date -u +%F)
rc=0
# Keep the worst exit status: 77 above 75 above 69 above 65 above the rest.
worst() {
    local r
    for r in 77 75 69 65; do
        if [ "$rc" = "$r" ] || [ "$1" = "$r" ]; then rc=$r; return; fi
    done
    [ "$rc" -ne 0 ] || rc=$1
}
# cursor NAME [VALUE]: read the cursor (default PRIMERO_OSCAR_SINCE), or write it atomically.
cursor() {
    local f=$state/$1.cursor
    if [ $# -eq 1 ]; then
        if [ -s "$f" ]; then cat "$f"; else echo "${PRIMERO_OSCAR_SINCE:-1970-01-01T00:00:00Z}"; fi
    else
        printf '%s\n' "$2" > "$f.tmp" && mv "$f.tmp" "$f"
    fi
}

step "check that Primero answers and takes the credentials (OSCaR is asked first thing below)"
http-get "$primero_api/api/v2/cases" "${primero[@]}" --query per=1 --query fields=id --quiet > /dev/null

# The result lines stay in $state until committed: a run killed while sending
# has what it delivered committed by the next one.
for pair in b:primero_index a:oscar_index; do
    pending=$state/${pair%%:*}_results.pending.ndjson
    if [ -s "$pending" ]; then
        step "commit the results an interrupted run left in $pending"
        index-diff --commit --index "$state/${pair#*:}.json" "$pending"
    fi
    rm -f "$pending"
done

# ---- Flow B: OSCaR -> Primero ----
since_b=$(cursor oscar)
since_b="${since_b:0:10} 00:00:00"
step "B: fetch the OSCaR clients referred externally and changed since $since_b"
http-get "$oscar_api/api/v1/organizations/clients" "${oscar[@]}" --query "since_date='$since_b'" \
    --query referred_external=true --records '.data[]' > "$work/oscar_clients.ndjson"

step "B: keep the new and changed referrals from OSCaR (a case id minted for each new one)"
json-map -f "$FLOW_DIR/oscar_referrals.jq" "$work/oscar_clients.ndjson" > "$work/referrals.ndjson"
index-diff --index "$state/primero_index.json" --key global_id --mint uuid \
    --hash-exclude external_id,external_id_display --on-duplicate last "$work/referrals.ndjson" > "$work/b_todo.ndjson"

step "B: map them to Primero cases"
b_ok=true
r=0
json-map --keep-going --arg today "$RUN_DATE" --lookup "services=$FLOW_DIR/services.json" \
    --lookup "province=$FLOW_DIR/province_users.json" \
    -f "$FLOW_DIR/to_primero.jq" "$work/b_todo.ndjson" > "$work/b_cases.ndjson" || r=$?
[ "$r" -eq 0 ] || { b_ok=false; worst "$r"; }

b_pending=$state/b_results.pending.ndjson
: > "$b_pending"
for by in case_id oscar_number; do
    # shellcheck disable=SC2016  # jq's variable
    json-map --arg by "$by" 'select(.lookup == $by)' "$work/b_cases.ndjson" > "$work/b_$by.ndjson"
    [ -s "$work/b_$by.ndjson" ] || continue
    step "B: upsert $(wc -l < "$work/b_$by.ndjson") cases into Primero, looked up by $by"
    r=0
    http-post --each "${primero[@]}" --body-field body --id-from .data.case_id \
        --lookup "$primero_api/api/v2/cases?remote=true&$by={body.data.$by}" \
        --update-url "$primero_api/api/v2/cases/{remote_id}" \
        "$primero_api/api/v2/cases" < "$work/b_$by.ndjson" | audit >> "$b_pending" || r=$?
    [ "$r" -eq 0 ] || { b_ok=false; worst "$r"; }
done

step "B: commit the delivered cases"
index-diff --commit --index "$state/primero_index.json" "$b_pending"
rm -f "$b_pending"

step "B: link in OSCaR the clients whose case Primero has now"
echo '{"data":[]}' > "$work/links.json"
if [ -s "$state/primero_index.json" ]; then
    json-map --lookup "index=$state/primero_index.json" -f "$FLOW_DIR/links.jq" "$work/referrals.ndjson" |
        json-map --slurp '{data: .}' > "$work/links.json"
fi
if [ "$(json-map '.data | length' "$work/links.json")" != 0 ]; then
    r=0
    http-post "${oscar[@]}" -X PUT --body "$work/links.json" --receipt-field message=.data.message \
        "$oscar_api/api/v1/organizations/clients/update_links/" | audit > /dev/null || r=$?
    [ "$r" -eq 0 ] || { b_ok=false; worst "$r"; }
fi
if $b_ok; then cursor oscar "${started}T00:00:00Z"; fi

# ---- Flow A: Primero -> OSCaR ----
since_a=$(cursor primero)
step "A: fetch the Primero cases changed since $since_a"
http-get "$primero_api/api/v2/cases" "${primero[@]}" --query "last_updated_at=$since_a.." \
    --query remote=true --paginate page --per 100 --records '.data[]' > "$work/cases.ndjson"

step "A: map the cases referred to OSCaR to OSCaR clients"
r=0
json-map --keep-going --rejects "$work/a_rejects.ndjson" --lookup "services=$FLOW_DIR/services.json" \
    -f "$FLOW_DIR/to_oscar.jq" "$work/cases.ndjson" > "$work/clients.ndjson" || r=$?
worst $r

step "A: keep the new and changed clients"
index-diff --index "$state/oscar_index.json" --key case_id --hash-exclude _updated --on-duplicate last \
    "$work/clients.ndjson" > "$work/a_todo.ndjson"

a_pending=$state/a_results.pending.ndjson
: > "$a_pending"
if [ -s "$work/a_todo.ndjson" ]; then
    step "A: upsert $(wc -l < "$work/a_todo.ndjson") clients into OSCaR"
    r=0
    http-post --each "${oscar[@]}" --body-field body --id-from .global_id \
        "$oscar_api/api/v1/organizations/clients/upsert/" < "$work/a_todo.ndjson" |
        audit > "$a_pending" || r=$?
    worst $r
fi

step "A: commit the delivered clients and move the cursor"
index-diff --commit --index "$state/oscar_index.json" "$a_pending"
mv "$a_pending" "$work/a_results.ndjson"
new_a=$({
    json-map '{t: "case", u: .last_updated_at}' "$work/cases.ndjson"
    json-map '{t: "todo", k: ._key, u: ._updated}' "$work/a_todo.ndjson"
    json-map 'select(.ok == true) | {t: "ok", k: ._key}' "$work/a_results.ndjson"
    if [ -s "$work/a_rejects.ndjson" ]; then json-map '{t: "rejected", u: .last_updated_at}' "$work/a_rejects.ndjson"; fi
} | json-map --slurp -r --arg old "$since_a" -f "$FLOW_DIR/cursor.jq")
cursor primero "$new_a"

[ "$rc" -eq 0 ] || die "$rc" "some records were not delivered (see the lines above); the next run sends them again"
step "done"
