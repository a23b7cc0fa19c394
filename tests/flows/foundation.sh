#!/usr/bin/env bash
# pipelines/lib.sh itself: missing variables (78), a bad date (64), the lock
# (75), ENV_FILE, the stderr log, the audit log, the files' modes, the day
# (argument, DATE, today), the tools' flags (db_args, ca_args,
# box_folder_args) and at_exit.
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
test_init foundation "${1:-}"

mkdir -p "$T/demo"
cat >"$T/demo/run.sh" <<SCRIPT
#!/usr/bin/env bash
. "$ROOT/pipelines/lib.sh"
flow_init demo "\$@"
require_env DEMO_A DEMO_B DEMO_C
step "working"
echo '{"tool":"demo","name":"x"}' | audit >/dev/null
echo data >"\$DATA_DIR/out.csv"
if [ -n "\${DEMO_SLEEP:-}" ]; then sleep "\$DEMO_SLEEP"; fi
echo "bin: \$(command -v csv-shape)"
SCRIPT
chmod +x "$T/demo/run.sh"

run_flow 78 env -u DEMO_A -u DEMO_C DEMO_B=1 "$T/demo/run.sh" 2020-05-07
assert_eq "demo: error: missing variables: DEMO_A, DEMO_C (see pipelines/demo/env.example)" "$(tail -n 1 "$ERR")" "missing variables line"
assert_contains "$LOG_DIR/2020-05-07_demo.log" "missing variables: DEMO_A, DEMO_C" "the stderr log"

export DEMO_A=1 DEMO_B=2
printf 'DEMO_C=from-env-file\n' >"$T/env"
run_flow 64 env ENV_FILE="$T/env" "$T/demo/run.sh" 2020-02-30
assert_contains "$ERR" "demo: error: DATE must be a date as YYYY-MM-DD"
run_flow 64 env ENV_FILE="$T/env" "$T/demo/run.sh" 20200507

run_flow 0 env ENV_FILE="$T/env" "$T/demo/run.sh" 2020-05-07
assert_contains "$ERR" "demo: working"
assert_contains "$LOG_DIR/2020-05-07_demo.log" "demo: working" "the stderr log"
assert_eq '{"tool":"demo","name":"x"}' "$(cat "$LOG_DIR/2020-05-07_demo.jsonl")" "the audit log"
assert_mode 600 "$DATA_DIR/out.csv"
assert_mode 600 "$LOG_DIR/2020-05-07_demo.jsonl"
assert_eq "bin: $PHTOOLS_BIN/csv-shape" "$(cat "$OUT")" "tools from PHTOOLS_BIN"

# A second run while the first holds the lock.
DEMO_C=x DEMO_SLEEP=3 "$T/demo/run.sh" 2020-05-08 >/dev/null 2>&1 &
first=$!
for _ in $(seq 50); do
    grep -q working "$LOG_DIR/2020-05-08_demo.log" 2>/dev/null && break
    sleep 0.1
done
run_flow 75 env DEMO_C=x "$T/demo/run.sh" 2020-05-08
assert_contains "$ERR" "demo: error: another run holds $STATE_DIR/demo.lock"
wait "$first"
assert_eq 0 "$?" "the first run"

# The day: the argument, else DATE, else today.
run_flow 0 env ENV_FILE="$T/env" DATE=2020-05-09 "$T/demo/run.sh"
assert_file "$LOG_DIR/2020-05-09_demo.log"
run_flow 0 env ENV_FILE="$T/env" DATE=2020-05-09 "$T/demo/run.sh" 2020-05-10
assert_file "$LOG_DIR/2020-05-10_demo.log"
run_flow 0 env -u DATE ENV_FILE="$T/env" "$T/demo/run.sh"
assert_file "$LOG_DIR/$(date +%F)_demo.log"
run_flow 64 env ENV_FILE="$T/env" DATE=20200509 "$T/demo/run.sh"

# The tools' flags from the variables, and the cleanup at exit.
cat >"$T/demo/flags.sh" <<'SCRIPT'
#!/usr/bin/env bash
. "$FLOW_LIB"
show() { printf '%s:' "$1"; shift; printf ' [%s]' "$@"; echo; }
db=() ca=() put=() day=() get=() move=() byid=() inid=() moveid=()
db_args db
ca_args ca DEMO_CA_FILE
ca_args ca DEMO_UNSET_CA_FILE
box_folder_args put put 'Parent/a b'
box_folder_args day put 'Parent/a b' 05-07-2020
box_folder_args get get 'Parent/from city'
box_folder_args move move 'Parent/processed/ok'
box_folder_args byid put 123
box_folder_args inid put 123 05-07-2020
box_folder_args moveid move 456
show db "${db[@]}"
show ca "${ca[@]}"
for a in put day get move byid inid moveid; do
    declare -n flags=$a
    show "$a" "${flags[@]}"
done
mkdir -p "$DEMO_WORK/it's here"
at_exit rm -rf "$DEMO_WORK/it's here"
SCRIPT
chmod +x "$T/demo/flags.sh"
mkdir -p "$T/work"
run_flow 0 env FLOW_LIB="$ROOT/pipelines/lib.sh" DEMO_WORK="$T/work" DB_URL=sqlite:/tmp/x.sqlite DB_PASSWORD=secret \
    DEMO_CA_FILE="/etc/a ca.pem" "$T/demo/flags.sh"
assert_eq "db: [--db] [sqlite:/tmp/x.sqlite] [--password-env] [DB_PASSWORD]
ca: [--ca-file] [/etc/a ca.pem]
put: [--path] [Parent/a b] [--mkdir]
day: [--path] [Parent/a b/05-07-2020] [--mkdir]
get: [--path] [Parent/from city]
move: [--move-to] [Parent/processed/ok]
byid: [--folder] [123]
inid: [--root] [123] [--path] [05-07-2020] [--mkdir]
moveid: [--move-to-folder] [456]" "$(cat "$OUT")" "the flags"
assert_no_file "$T/work/it's here"
run_flow 0 env FLOW_LIB="$ROOT/pipelines/lib.sh" DEMO_WORK="$T/work" DB_URL=sqlite:/tmp/x.sqlite "$T/demo/flags.sh"
assert_eq "db: [--db] [sqlite:/tmp/x.sqlite]" "$(head -n 1 "$OUT")" "the flags without DB_PASSWORD"
assert_eq "ca: []" "$(sed -n 2p "$OUT")" "no --ca-file without its variable"

test_done
