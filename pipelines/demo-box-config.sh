#!/usr/bin/env bash
# The box_config.json of the sandbox's Box app (tests/sandbox, its key in
# tests/fixtures/sandbox/box-app.key.pem), which make demo and the flow tests
# give the Box flows as BOX_CONFIG:
#
#   pipelines/demo-box-config.sh FILE      (written mode 0600)
#
# json-map comes from PHTOOLS_BIN when set, else from PATH.
set -euo pipefail
umask 077
out=${1:?usage: pipelines/demo-box-config.sh FILE}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -z "${PHTOOLS_BIN:-}" ] || PATH=$PHTOOLS_BIN:$PATH
# $(cat) drops the key's last newline: given back with "\n".
# shellcheck disable=SC2016  # $key is jq's
json-map -n --arg key "$(cat "$root/tests/fixtures/sandbox/box-app.key.pem")" '{
        boxAppSettings: {clientID: "sandbox-box-client", clientSecret: "sandbox-box-secret",
            appAuth: {publicKeyID: "sbkey001", privateKey: ($key + "\n"), passphrase: "sandbox-box-passphrase"}},
        enterpriseID: "900001"}' >"$out"
