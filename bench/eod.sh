#!/usr/bin/env bash
# The F1 flow (pipelines/eod) end to end on BENCH_EOD_ROWS (default 100,000)
# synthetic appointments of one day, against the local sshd, SMTP server and
# the sandbox's Box: extract, the three files, SFTP, mail and Box. Each run
# starts from an empty sandbox and audit log, so every run mails and uploads
# everything. Servers it starts are stopped again.
#
#   bench/eod.sh [BIN_DIR]        (default target/release; make bench calls it)
#
# Prints one line, "SECONDS ROWS BYTES" (best wall time of BENCH_RUNS runs,
# the appointments, the bytes of the three files), on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${BENCH_EOD_ROWS:-100000}
runs=${BENCH_RUNS:-3}
bin=${1:-target/release}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
data=bench/data
work=$PWD/bench/out/eod
day=2020-06-01
log() { printf 'bench eod: %s\n' "$*" >&2; }
stamp() {
    local line
    while IFS= read -r line; do
        printf '%d %s\n' $((($(date +%s%N) - $1) / 1000000)) "$line"
    done
}

# Synthetic appointments on one day for the demo database's synthetic patients.
db=$data/eod-$n.sqlite
if [ ! -s "$db" ]; then
    log "building $n synthetic appointments"
    [ -s data/demo.sqlite ] || pipelines/demo-db/build.sh data/demo.sqlite
    mkdir -p "$data"
    cp data/demo.sqlite "$db.tmp"
    sqlite3 "$db.tmp" "
        WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
        INSERT INTO appointments (patient_id, book_datetime, start_datetime, end_datetime, notes, hash, business_code)
        SELECT i % 300 + 1, '2020-05-31 08:00:00',
               printf('$day %02d:%02d:00', 5 + i * 14 / $n, (i * 14 * 60 / $n) % 60),
               printf('$day %02d:%02d:00', 6 + i * 14 / $n, (i * 14 * 60 / $n) % 60),
               NULL, printf('%07dBN', i), CASE WHEN i % 10 = 0 THEN '108542BZ' END
        FROM s"
    mv "$db.tmp" "$db"
fi

started=()
# shellcheck disable=SC2317  # called by the EXIT trap
stop_started() {
    local s
    for s in "${started[@]}"; do tests/servers/"$s".sh stop || true; done
}
trap stop_started EXIT
for s in sshd smtp sandbox; do
    if ! tests/servers/"$s".sh status; then
        tests/servers/"$s".sh start
        started+=("$s")
    fi
    eval "$(tests/servers/"$s".sh env)"
done

rm -rf "$work"
mkdir -p "$work"
export PHTOOLS_BIN=$bin DB_URL=sqlite:$PWD/$db
export DATA_DIR=$work/data LOG_DIR=$work/log STATE_DIR=$work/state
sftp_user=${TEST_SFTP_URL#sftp://}
sftp_hostport=${TEST_SFTP_URL##*@}
export PRINT_SFTP_HOST=${sftp_hostport%:*} PRINT_SFTP_PORT=${sftp_hostport##*:} PRINT_SFTP_USERNAME=${sftp_user%@*}
export PRINT_SFTP_IDENTITY=$TEST_SFTP_DIR/client_key PRINT_SFTP_KNOWN_HOSTS=$TEST_SFTP_DIR/known_hosts
export PRINT_SFTP_DIR=eod-bench
export HEALTH_NETWORK_SMTP_URL=${TEST_SMTP_STARTTLS%:*} HEALTH_NETWORK_SMTP_PORT=${TEST_SMTP_STARTTLS##*:}
export HEALTH_NETWORK_USER_NAME=$TEST_SMTP_USER HEALTH_NETWORK_USER_PWD=$TEST_SMTP_PASSWORD
export HEALTH_NETWORK_MAIL_FROM=eod@city.example HEALTH_NETWORK_MAIL_TO=bench@health.example
export HEALTH_NETWORK_CA_FILE=$TEST_SMTP_CA
pipelines/demo-box-config.sh "$work/box_config.json"
export BOX_CONFIG=$work/box_config.json BOX_CA_FILE=$TEST_SANDBOX_CA
export BOX_API_URL=$TEST_SANDBOX_URL/box/2.0 BOX_UPLOAD_URL=$TEST_SANDBOX_URL/box/upload/api/2.0
export BOX_EOD_PARENT='Parent/Daily Drive Thru Documents' BOX_EOD_TRANSPORTATION=Parent/transportation

best=
for _ in $(seq "$runs"); do
    curl -sS --fail --cacert "$TEST_SANDBOX_CA" -X POST "$TEST_SANDBOX_URL/_sandbox/reset" >/dev/null
    rm -rf "$LOG_DIR"
    t0=$(date +%s%N)
    # Each line of the flow's stderr stamped with the milliseconds since the start.
    pipelines/eod/run.sh "$day" 2>&1 >/dev/null | stamp "$t0" >"$work/stderr" || {
        log "the flow failed; see $work/stderr"
        exit 1
    }
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    log "run: $ms ms; its steps began at (ms):"
    sed -n 's/^\([0-9]*\) eod: /    \1 /p' "$work/stderr" >&2
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
rm -rf "$TEST_SFTP_DIR/home/eod-bench"
rows=$(($(wc -l <"$DATA_DIR/$day/patient_appointments.csv") - 1))
bytes=$(cat "$DATA_DIR/$day"/*.csv | wc -c)
rm -rf "$DATA_DIR"
printf '%d.%03d %d %d\n' $((best / 1000)) $((best % 1000)) "$rows" "$bytes"
