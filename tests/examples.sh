#!/usr/bin/env bash
# Run the transcripts in Markdown files as tests, so the documentation cannot rot.
#
# A ```console block holds commands after "$ " and the exact stdout expected
# after each. Every block runs in a fresh directory holding a copy of
# tests/fixtures/masstesting, with the freshly built tools first on PATH.
#
#   tests/examples.sh README.md [BIN_DIR]     (BIN_DIR defaults to target/debug)
set -euo pipefail

file=${1:?usage: tests/examples.sh FILE.md [BIN_DIR]}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${2:-$root/target/debug}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=0
passed=0
block=0
in_block=0
commands=()
expected=()

run_block() {
    local dir="$work/block-$block" i actual
    mkdir -p "$dir"
    cp "$root"/tests/fixtures/masstesting/* "$dir/"
    for i in "${!commands[@]}"; do
        actual=$(cd "$dir" && PATH="$bin:$PATH" bash -o pipefail -c "${commands[$i]}" 2>&1) || true
        # $(...) drops trailing newlines from the actual output; drop the expected one's too.
        if [ "$actual" == "${expected[$i]%$'\n'}" ]; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            printf 'examples: %s: block %d: $ %s\n--- expected\n%s\n--- actual\n%s\n' \
                "$file" "$block" "${commands[$i]}" "${expected[$i]%$'\n'}" "$actual" >&2
        fi
    done
}

while IFS= read -r line || [ -n "$line" ]; do
    if [ $in_block -eq 0 ]; then
        if [ "$line" == '```console' ]; then
            in_block=1
            block=$((block + 1))
            commands=()
            expected=()
        fi
        continue
    fi
    if [ "$line" == '```' ]; then
        run_block
        in_block=0
    elif [[ $line == '$ '* ]]; then
        commands+=("${line#\$ }")
        expected+=("")
    elif [ ${#commands[@]} -gt 0 ]; then
        last=$((${#commands[@]} - 1))
        expected[last]+="$line"$'\n'
    fi
done < "$file"

echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
