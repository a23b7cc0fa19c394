#!/usr/bin/env bash
# pipelines/lib.sh itself: missing variables (78), a bad date (64), the lock
# (75), ENV_FILE, the stderr log, the audit log and the files' modes.
# shellcheck source=tests/flows/lib.sh
. "$(dirname "$0")/lib.sh"
test_init foundation "${1:-}"

mkdir -p "$T/demo"
cat >"$T/demo/run.sh" <<SCRIPT
#!/usr/bin/env bash
. "$ROOT/pipelines/lib.sh"
flow_init demo "\${1:-}"
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

test_done
