#!/usr/bin/env bash
# Build the demo database from demo-db.sql: build.sh OUT.sqlite
# The file appears under its name only when complete, with mode 0600.
set -euo pipefail
out=${1:?usage: pipelines/demo-db/build.sh OUT.sqlite}
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../tests/ensure-packages.sh" sqlite3:sqlite3
mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
rm -f "$tmp"
(umask 077 && sqlite3 -bail "$tmp" < "$here/demo-db.sql")
chmod 600 "$tmp"
mv "$tmp" "$out"
trap - EXIT
