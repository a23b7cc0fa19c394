#!/usr/bin/env bash
# The demo database is deterministic and holds what the flows expect:
#   tests/demo-db.sh [BIN_DIR]     (BIN_DIR defaults to target/debug)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/target/debug}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

check() { # check WHAT EXPECTED ACTUAL
    if [ "$2" == "$3" ]; then
        printf 'demo-db: ok: %s\n' "$1"
    else
        printf 'demo-db: FAILED: %s: expected %s, got %s\n' "$1" "$2" "$3" >&2
        failed=1
    fi
}

"$root/pipelines/demo-db/build.sh" "$work/a.sqlite"
"$root/pipelines/demo-db/build.sh" "$work/b.sqlite"
check "mode 0600" 600 "$(stat -c %a "$work/a.sqlite")"

dump() { # every table, in a fixed order, through db-extract
    local t
    for t in providers businesses business_requests patients appointments rc_patients rc_vaccine_doses; do
        "$bin/db-extract" --db "sqlite:$1" --query "SELECT * FROM $t ORDER BY 1"
    done
}
check "two builds hold the same rows" "$(dump "$work/a.sqlite" | sha256sum)" "$(dump "$work/b.sqlite" | sha256sum)"

count() { "$bin/db-extract" --db "sqlite:$work/a.sqlite" "$@" | tail -n 1; }
check "appointments on the demo day, by a half-open date range" 280 \
    "$(count --query 'SELECT count(*) AS n FROM appointments WHERE start_datetime >= ? AND start_datetime < ?' --param 2020-05-07 --param 2020-05-08)"
check "under-16 patients on the demo day" 49 \
    "$(count --query "SELECT count(*) AS n FROM patients WHERE dob > date('2020-05-07', '-16 years')")"
check "appointments with a business code" 75 \
    "$(count --query 'SELECT count(business_code) AS n FROM appointments')"
check "pending business requests" 22 \
    "$(count --query 'SELECT count(*) AS n FROM business_requests WHERE approved_confirm IS NULL')"
check "ReqCheck doses" 600 "$(count --query 'SELECT count(*) AS n FROM rc_vaccine_doses')"
# updated_at steps 7 hours at a time over a week: 12 of every 24 patients
# fall in its second half, so 8 full rounds of 24 give 96.
check "ReqCheck patients updated since the heartbeat date" 96 \
    "$(count --query 'SELECT count(*) AS n FROM rc_patients WHERE updated_at >= ?' --param '2024-05-04 14:00:00')"
exit "$failed"
