#!/usr/bin/env bash
# Run every flow test (tests/flows/*.sh but this one and the lib*.sh files)
# one after the other, against the tools in BIN_DIR, and report each:
#
#   tests/servers/with-servers.sh tests/flows/run.sh target/debug
#
# Exits 1 when any test fails (each still runs), 0 when all pass.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-target/debug}
failed=()
count=0
for t in "$here"/*.sh; do
    name=$(basename "$t")
    case $name in run.sh | lib*.sh) continue ;; esac
    count=$((count + 1))
    start=$SECONDS
    if bash "$t" "$bin"; then
        echo "flows: $name ok ($((SECONDS - start))s)" >&2
    else
        echo "flows: $name FAILED (exit $?, $((SECONDS - start))s)" >&2
        failed+=("$name")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "flows: ${#failed[@]} of $count failed: ${failed[*]}" >&2
    exit 1
fi
echo "flows: all $count passed" >&2
