#!/usr/bin/env bash
# make bench: time each tool against the peer people would reach for, on the
# same synthetic data, and write the ratios to bench/RESULTS.md.
#
#   BENCH_ROWS=1000000 (default)  rows of synthetic data
#   BENCH_RUNS=3 (default)        runs per command; the best wall time counts
#   BENCH_SKIP_INSTALL=1          do not install missing peers, report them skipped
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${BENCH_ROWS:-1000000}
runs=${BENCH_RUNS:-3}
bin=target/release
data=bench/data
out=bench/out
peers=bench/peers
mkdir -p "$data" "$out" "$peers"
export PATH="$PWD/$peers/bin:$PATH"

log() { printf 'bench: %s\n' "$*" >&2; }

# --- peers -------------------------------------------------------------------
install_peers() {
    [ "${BENCH_SKIP_INSTALL:-}" = 1 ] && return 0
    tests/ensure-packages.sh jq:jq mlr:miller /usr/bin/time:time sqlite3:sqlite3 psql:postgresql-client \
        || log "could not install Debian peers"
    command -v xsv >/dev/null || cargo install --locked --quiet --root "$peers" xsv || log "xsv not installed"
    command -v jaq >/dev/null || cargo install --locked --quiet --root "$peers" jaq || log "jaq not installed"
}

# --- data --------------------------------------------------------------------
# Synthetic people: invented names from small lists, nothing real.
generate() {
    local csv=$data/people-$rows.csv ndjson=$data/people-$rows.ndjson
    if [ ! -s "$csv" ]; then
        log "generating $rows synthetic rows"
        awk -v n="$rows" 'BEGIN {
            split("Ada,Ben,Cleo,Dev,Eli,Fay,Gus,Hana,Ivo,Jun", first, ",")
            split("Abbot,Brook,Carver,Dale,Ellis,Frost,Grove,Hale,Irving,Joss", last, ",")
            split("Springfield,Riverton,Lakeside,Hillview,Fairmont", city, ",")
            srand(42)
            print "id,first_name,last_name,dob,zip,city,state,phone,email,result,collected_at,notes"
            for (i = 1; i <= n; i++) {
                f = first[1 + int(rand() * 10)]; l = last[1 + int(rand() * 10)]
                printf "%d,%s,%s,19%02d-%02d-%02d,0%04d,%s,MI,313-555-%04d,%s.%s%d@example.org,%s,2020-05-%02dT%02d:%02d:00,\"note, with comma %d\"\n",
                    i, f, l, int(rand() * 99), 1 + int(rand() * 12), 1 + int(rand() * 28), int(rand() * 9999),
                    city[1 + int(rand() * 5)], int(rand() * 9999), tolower(f), tolower(l), i,
                    (rand() < 0.1 ? "POSITIVE" : "NEGATIVE"), 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), i
            }
        }' > "$csv.tmp" && mv "$csv.tmp" "$csv"
    fi
    if [ ! -s "$ndjson" ]; then
        "$bin/csv-shape" --to ndjson "$csv" > "$ndjson.tmp" && mv "$ndjson.tmp" "$ndjson"
    fi
    CSV=$csv
    NDJSON=$ndjson
}

# --- timing ------------------------------------------------------------------
# best_of CMD: sets BEST to the best wall time in seconds over $runs runs,
# and RSS_KB to the peak resident size of the last run when GNU time is there.
best_of() {
    local best="" t0 t1 s
    BEST=""
    RSS_KB=""
    for _ in $(seq "$runs"); do
        t0=$(date +%s%N)
        if [ -x /usr/bin/time ]; then
            /usr/bin/time -f %M -o "$out/rss" bash -c "$1" >/dev/null
            RSS_KB=$(tail -n 1 "$out/rss")
        else
            bash -c "$1" >/dev/null
        fi
        t1=$(date +%s%N)
        s=$(( (t1 - t0) / 1000000 ))
        if [ -z "$best" ] || [ "$s" -lt "$best" ]; then best=$s; fi
    done
    BEST=$(printf '%d.%03d' $((best / 1000)) $((best % 1000)))
}

rows_md=()
# skipped NAME TARGET PEER WHY: the table row of a case that could not run.
skipped() {
    log "$1 vs $3: skipped ($4)"
    rows_md+=("| $1 | | $3 | skipped ($4) | | ≥ $2 | |")
}

# compare NAME TARGET OURS_CMD PEER_NAME PEER_CMD: one table row. TARGET is
# the least ratio asked for, like 1.2x, or - for a comparison without one.
compare() {
    local name=$1 target=$2 ours=$3 peer=$4 peer_cmd=$5 ours_s peer_s ours_rss ratio verdict
    log "$name vs $peer"
    best_of "$ours"; ours_s=$BEST; ours_rss=$RSS_KB
    if ! command -v "${peer_cmd%% *}" >/dev/null 2>&1; then
        rows_md+=("| $name | $ours_s | $peer | skipped (not installed) | | $target | |")
        return
    fi
    best_of "$peer_cmd"; peer_s=$BEST
    ratio=$(awk -v a="$peer_s" -v b="$ours_s" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    if [ "$target" = - ]; then
        verdict="no target"
    else
        verdict=$(awk -v r="$ratio" -v t="${target%x}" 'BEGIN { print (r + 0 >= t + 0 ? "met" : "NOT met") }')
        target="≥ $target"
    fi
    rows_md+=("| $name | $ours_s | $peer | $peer_s | ${ratio}x | $target | $verdict (${ours_rss:-?} KB peak) |")
}

install_peers
generate
filter='{id: .id, name: (.last_name + ", " + .first_name), zip: .zip, result: .result}'

compare "csv-shape select+reorder" 1.2x "$bin/csv-shape --select email,last_name,id,zip $CSV" \
    xsv "xsv select email,last_name,id,zip $CSV"
compare "csv-shape select+reorder" 8x "$bin/csv-shape --select email,last_name,id,zip $CSV" \
    mlr "mlr --csv cut -o -f email,last_name,id,zip $CSV"
compare "csv-shape CSV to NDJSON" 3x "$bin/csv-shape --to ndjson $CSV" \
    mlr "mlr --icsv --ojsonl cat $CSV"
compare "json-map record mapping" 2x "$bin/json-map '$filter' $NDJSON" \
    jq "jq -c '$filter' $NDJSON"
compare "json-map record mapping" - "$bin/json-map '$filter' $NDJSON" \
    jaq "jaq -c '$filter' $NDJSON"
compare "batch-split 500-line files" 0.5x "rm -rf $out/bs && $bin/batch-split -n 500 --out-dir $out/bs $NDJSON" \
    split "rm -rf $out/sp && mkdir -p $out/sp && split -l 500 $NDJSON $out/sp/x"

# db-extract: the synthetic people as a table, all of it out as CSV with a
# header, against each engine's own shell. The SQLite file is built once with
# the sqlite3 CLI and kept under $data.
sqlite_bench() {
    local db=$data/people-$rows.sqlite
    if ! command -v sqlite3 >/dev/null; then
        skipped "db-extract SQLite to CSV" 1.0x sqlite3 "not installed"
        return 0
    fi
    if [ ! -s "$db" ]; then
        log "building a $rows-row SQLite table"
        rm -f "$db.tmp"
        sqlite3 "$db.tmp" <<SQL
CREATE TABLE people (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, dob DATE, zip TEXT,
    city TEXT, state TEXT, phone TEXT, email TEXT, result TEXT, collected_at TIMESTAMP, notes TEXT);
.import --csv --skip 1 $CSV people
SQL
        mv "$db.tmp" "$db"
    fi
    compare "db-extract SQLite to CSV" 1.0x \
        "$bin/db-extract --db sqlite:$db --query 'SELECT * FROM people'" \
        sqlite3 "sqlite3 -csv -header $db 'SELECT * FROM people'"
}
sqlite_bench

# PostgreSQL: the same rows in a typed table, with three columns derived from
# them so that every common type is read (integer, bigint, numeric, text,
# date, timestamp, boolean), loaded once and kept by the server. The server
# is tests/servers/postgres.sh, started here when it is not running and then
# stopped again at the end.
postgres_cases() {
    local url re='^postgres://([^:@]+):([^@]+)@([^:/]+):([0-9]+)/(.+)$'
    url=$(tests/servers/postgres.sh env)
    url=${url#*=}
    if ! [[ $url =~ $re ]]; then
        skipped "db-extract PostgreSQL to CSV" 0.8x psql "unexpected URL from postgres.sh"
        return 0
    fi
    # psql and db-extract (--password-env) both take the password from the environment.
    export PGUSER=${BASH_REMATCH[1]} PGPASSWORD=${BASH_REMATCH[2]} PGHOST=${BASH_REMATCH[3]}
    export PGPORT=${BASH_REMATCH[4]} PGDATABASE=${BASH_REMATCH[5]}
    if [ "$(psql -X -At -c 'SELECT count(*) FROM bench_people' 2>/dev/null)" != "$rows" ]; then
        log "loading $rows rows into PostgreSQL"
        psql -X -q -v ON_ERROR_STOP=1 <<SQL || { skipped "db-extract PostgreSQL to CSV" 0.8x psql "loading failed"; return 0; }
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_people;
CREATE TABLE bench_people (id integer PRIMARY KEY, first_name text, last_name text, dob date,
    zip text, city text, state text, phone text, email text, result text,
    collected_at timestamp, notes text,
    positive boolean GENERATED ALWAYS AS (result = 'POSITIVE') STORED,
    person_key bigint GENERATED ALWAYS AS (id::bigint * 1000003) STORED,
    fee numeric(8,2) GENERATED ALWAYS AS ((id % 100000)::numeric / 100) STORED);
\\copy bench_people (id, first_name, last_name, dob, zip, city, state, phone, email, result, collected_at, notes) from '$CSV' csv header
VACUUM (FREEZE, ANALYZE) bench_people;
SQL
    fi
    compare "db-extract PostgreSQL to CSV" 0.8x \
        "$bin/db-extract --db postgres://$PGUSER@$PGHOST:$PGPORT/$PGDATABASE --password-env PGPASSWORD --query 'SELECT * FROM bench_people'" \
        psql "psql -X -c '\\copy (SELECT * FROM bench_people) to stdout csv header'"
}
postgres_bench() {
    local pg=tests/servers/postgres.sh started=""
    if ! command -v psql >/dev/null; then
        skipped "db-extract PostgreSQL to CSV" 0.8x psql "not installed"
        return 0
    fi
    if ! "$pg" status; then
        if [ "${BENCH_SKIP_INSTALL:-}" = 1 ] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
            skipped "db-extract PostgreSQL to CSV" 0.8x psql "no PostgreSQL server installed"
            return 0
        fi
        "$pg" start || {
            skipped "db-extract PostgreSQL to CSV" 0.8x psql "the server did not start"
            return 0
        }
        started=1
        trap 'tests/servers/postgres.sh stop' EXIT
    fi
    postgres_cases
    if [ -n "$started" ]; then
        "$pg" stop
        trap - EXIT
    fi
}
postgres_bench

# index-diff: a nightly snapshot of $rows records against an index of $rows
# keys (1% changed, 1% new, 1% gone), with ids minted and deletions marked,
# as in the Kobo flow. Each run starts from a fresh copy of the index, and
# that copy is part of the time.
index_setup() {
    local base=$data/index-$rows.json snap=$data/snapshot-$rows.csv
    if [ ! -s "$base" ]; then
        log "building a $rows-key index"
        rm -f "$out/index-build.json"
        "$bin/index-diff" --index "$out/index-build.json" --key id --mint uuid --from csv "$CSV" \
            | "$bin/json-map" -c '{_key, _hash, _remote_id, ok: true}' \
            | "$bin/index-diff" --commit --index "$out/index-build.json"
        mv "$out/index-build.json" "$base"
    fi
    if [ ! -s "$snap" ]; then
        awk -F, -v n="$rows" 'NR == 1 { print; next }
            $1 % 100 == 1 { next }
            $1 % 100 == 2 { sub(/NEGATIVE|POSITIVE/, "INCONCLUSIVE") }
            { print }
            END { for (i = 1; i <= n / 100; i++) printf "%d,New,Person,1990-01-01,01234,Riverton,MI,313-555-0000,new%d@example.org,NEGATIVE,2020-05-01T08:00:00,\n", n + i, i }' \
            "$CSV" > "$snap.tmp" && mv "$snap.tmp" "$snap"
    fi
    INDEX_BASE=$base
    SNAPSHOT=$snap
}
index_setup
index_diff="cp $INDEX_BASE $out/index.json && $bin/index-diff --index $out/index.json --key id --mint dhis2-uid --emit new,changed,deleted --from csv $SNAPSHOT 2>/dev/null"
log "index-diff $rows records against $rows keys"
best_of "$index_diff"; index_s=$BEST; index_rss=$RSS_KB
index_mb=$(( ${index_rss:-0} / 1024 ))
index_verdict=$(awk -v s="$index_s" -v m="$index_mb" 'BEGIN { print (s + 0 <= 3 && m <= 300 ? "met" : "NOT met") }')
index_lines=$(bash -c "$index_diff" | wc -l)
compare "index-diff snapshot vs index" - "$index_diff" \
    mlr "mlr --icsv --ojsonl join --np --ul --ur -j id -f $CSV $SNAPSHOT"

# sftp-put: a 200 MB file to OpenSSH's sshd on loopback, against OpenSSH's
# sftp -b with the same server, key and known_hosts. The server is
# tests/servers/sshd.sh, started here when it is not running and then
# stopped again at the end.
sftp_bench() {
    local sshd=tests/servers/sshd.sh file=$data/sftp-200MB.bin dir port user
    if ! "$sshd" status; then
        "$sshd" start || { log "sshd did not start: sftp-put skipped"; return 0; }
        SFTP_BENCH_STARTED=1
        trap 'tests/servers/sshd.sh stop' EXIT
    fi
    eval "$("$sshd" env)"
    dir=$TEST_SFTP_DIR
    user=${TEST_SFTP_URL#sftp://}
    user=${user%@*}
    port=${TEST_SFTP_URL##*:}
    [ -s "$file" ] || head -c 200000000 /dev/urandom > "$file"
    printf 'put %s sftp-bench-peer.bin\n' "$file" > "$out/sftp.batch"
    compare "sftp-put 200 MB upload" 0.9x \
        "$bin/sftp-put --host 127.0.0.1 --port $port --user $user --identity $dir/client_key --known-hosts $dir/known_hosts --name sftp-bench.bin $file" \
        sftp "sftp -q -b $out/sftp.batch -i $dir/client_key -o UserKnownHostsFile=$dir/known_hosts -o BatchMode=yes -P $port $user@127.0.0.1"
    rm -f "$dir/home/sftp-bench.bin" "$dir/home/sftp-bench-peer.bin"
    if [ "${SFTP_BENCH_STARTED:-}" = 1 ]; then
        "$sshd" stop
        trap - EXIT
    fi
}
sftp_bench

# http-post --each: one request per record to the sandbox's ReqCheck over
# HTTPS on loopback, against a shell loop of curl, one process per record.
# Both check the sandbox's certificate and log in with Basic auth (curl
# reads the password from a netrc file, http-post from the environment).
# The curl loop takes minutes, so this case runs once.
http_bench() {
    local n=${BENCH_HTTP_RECORDS:-10000} dir=$out/sandbox records pid url saved_runs=$runs
    records=$data/reqcheck-$n.ndjson
    command -v curl >/dev/null || tests/ensure-packages.sh curl:curl || true
    if [ ! -s "$records" ]; then
        awk -v n="$n" 'BEGIN {
            split("Ada,Ben,Cleo,Dev,Eli,Fay,Gus,Hana,Ivo,Jun", first, ",")
            split("Abbot,Brook,Carver,Dale,Ellis,Frost,Grove,Hale,Irving,Joss", last, ",")
            for (i = 1; i <= n; i++)
                printf "{\"patient_data\":[{\"patient_number\":%d,\"first_name\":\"%s\",\"last_name\":\"%s\",\"dob\":\"2015-%02d-%02d\",\"hd_mpfile_updated_at\":\"2026-11-01 08:00:00\"}]}\n",
                    i, first[1 + i % 10], last[1 + int(i / 10) % 10], 1 + i % 12, 1 + i % 28
        }' > "$records.tmp" && mv "$records.tmp" "$records"
    fi
    rm -rf "$dir" && mkdir -p "$dir"
    "$bin/sandbox" --port 0 --dir "$dir" > "$dir/url" 2> "$dir/log" &
    pid=$!
    for _ in $(seq 50); do [ -s "$dir/url" ] && break; sleep 0.1; done
    if [ ! -s "$dir/url" ]; then
        kill "$pid" 2>/dev/null || true
        skipped "http-post --each $n records" 2x curl "the sandbox did not start"
        return 0
    fi
    url=$(head -n 1 "$dir/url")/reqcheck/patient_data
    printf 'machine 127.0.0.1 login reqcheck password reqcheck-secret\n' > "$dir/netrc"
    chmod 600 "$dir/netrc"
    # shellcheck disable=SC2016  # $line belongs to the generated loop
    printf 'while IFS= read -r line; do curl -sS -o /dev/null --fail --cacert %s --netrc-file %s -H "content-type: application/json" --data-binary "$line" %s || exit 1; done < %s\n' \
        "$dir/ca.pem" "$dir/netrc" "$url" "$records" > "$dir/curl-loop.sh"
    runs=1
    export HTTP_USER=reqcheck HTTP_PASSWORD=reqcheck-secret
    compare "http-post --each $n records" 2x \
        "$bin/http-post --each --auth basic --ca-file $dir/ca.pem $url < $records" \
        curl "bash $dir/curl-loop.sh"
    runs=$saved_runs
    unset HTTP_USER HTTP_PASSWORD
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
http_bench

# F1 end to end (bench/eod.sh): BENCH_EOD_ROWS (100,000) synthetic
# appointments through pipelines/eod against the local sshd, SMTP server and
# the sandbox's Box; the target is at most 5 s.
if eod=$(bench/eod.sh "$bin"); then
    read -r eod_s eod_rows eod_bytes <<<"$eod"
    eod_verdict=$(awk -v s="$eod_s" 'BEGIN { print (s + 0 <= 5 ? "met" : "NOT met") }')
    eod_line="F1 end to end (pipelines/eod): $eod_rows appointments of one day extracted, written as the three files ($((eod_bytes / 1000000)) MB), sent by SFTP, mailed and uploaded to Box (four files) in $eod_s s (best of $runs); the target is at most 5 s: $eod_verdict."
else
    eod_line="F1 end to end (pipelines/eod): the flow failed; see bench/out/eod/stderr."
fi

# Streaming: peak memory of csv-shape on a tenth of the rows against all of them.
head -n $((rows / 10 + 1)) "$CSV" > "$out/tenth.csv"
best_of "$bin/csv-shape --to ndjson $out/tenth.csv"; small_rss=$RSS_KB
best_of "$bin/csv-shape --to ndjson $CSV"; full_rss=$RSS_KB

{
    echo "# Benchmark results"
    echo
    echo "Produced by \`make bench\` (\`bench/run.sh\`, BENCH_ROWS=$rows, best of $runs runs) on $(date -u +%Y-%m-%d)."
    echo
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB, $(rustc --version)."
    echo "Peers: $(xsv --version 2>/dev/null | head -1 | sed 's/^/xsv /'), $(mlr --version 2>/dev/null), $(jq --version 2>/dev/null), $(jaq --version 2>/dev/null), $(split --version | head -1), $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 | sed 's/^/sqlite3 /'), $(psql --version 2>/dev/null | cut -d' ' -f1,3), $(curl --version 2>/dev/null | head -1 | cut -d' ' -f1,2)."
    echo
    echo "Ratio = peer time / our time (higher is faster for us)."
    echo
    echo "| case | ours (s) | peer | peer (s) | ratio | target | result |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows_md[@]}"
    echo
    echo "index-diff: $index_lines records emitted from $rows against a $rows-key index (new, changed and deleted, ids minted, index rewritten) in $index_s s with ${index_mb} MB peak; the target is at most 3 s and 300 MB: $index_verdict. Miller's join only lists unpaired keys, a lighter job than a content diff."
    echo
    echo "$eod_line"
    echo
    echo "Streaming: csv-shape --to ndjson peaked at ${small_rss:-?} KB on $((rows / 10)) rows and ${full_rss:-?} KB on $rows rows."
} > bench/RESULTS.md
cat bench/RESULTS.md
