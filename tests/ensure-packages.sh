#!/usr/bin/env bash
# Install Debian packages for commands that are missing: ensure-packages.sh CMD:PACKAGE ...
# CMD may also be the absolute path of a file the package installs (a header).
# Used by `make test` and `make bench` so that a fresh Debian machine needs nothing by hand.
set -euo pipefail

missing=()
for pair in "$@"; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || [ -f "$cmd" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
else
    echo "ensure-packages: error: need root or sudo to install: ${missing[*]}" >&2
    exit 77
fi
echo "ensure-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
