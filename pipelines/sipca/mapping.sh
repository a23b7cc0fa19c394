#!/usr/bin/env bash
# F8 step 1, the SIPCA mapping (make sipca-mapping): rerun when the dhis2
# program changes. Reads the program's stages, data elements and option sets
# from dhis2, joins them with mapping_de.json (Kobo column -> data element
# name) and mapping_optionSet.json (option set name -> Kobo value -> option
# code), and writes $DATA_DIR/sipca/mapping_generated.json for run.sh. Every
# data element no Kobo column maps is reported by name; so are mapped names the
# program lacks and option codes its option sets lack (those are exit 65).
# Variables: see env.example.
#
#   pipelines/sipca/mapping.sh [DATE]  (DATE names the logs; default today)
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"

flow_init sipca "$@"
if [ -n "${DHIS2_TOKEN:-}" ]; then require_env DHIS2_URL; else require_env DHIS2_URL DHIS2_USER DHIS2_PASSWORD; fi

maps=${SIPCA_MAPPING_DIR:-$FLOW_DIR}
out=$DATA_DIR/sipca/mapping_generated.json
program=${DHIS2_PROGRAM:-SIPCAprg001}
auth=(--auth basic --user-env DHIS2_USER --password-env DHIS2_PASSWORD)
[ -z "${DHIS2_TOKEN:-}" ] || auth=(--auth dhis2-token --token-env DHIS2_TOKEN)
ca=()
ca_args ca DHIS2_CA_FILE
mkdir -p "$DATA_DIR/sipca"
work=$(mktemp -d "$DATA_DIR/sipca/.mapping.XXXXXX")
at_exit rm -rf "$work"

step "fetch program $program from dhis2"
http-get "${DHIS2_URL%/}/api/programs/$program" "${auth[@]}" "${ca[@]}" --quiet \
    --query 'fields=id,programStages[id,name,programStageDataElements[compulsory,dataElement[name,valueType,id,optionSet[name,id,valueType,options[name,code]]]]]' \
    > "$work/program.ndjson"

step "join with mapping_de.json and mapping_optionSet.json"
json-map --lookup "de=$maps/mapping_de.json" --lookup "os=$maps/mapping_optionSet.json" \
    -f "$FLOW_DIR/mapping.jq" "$work/program.ndjson" > "$work/mapping_generated.json"

json-map -r '.unmapped[]' "$work/mapping_generated.json" | while IFS= read -r name; do
    echo "sipca: warning: data element not mapped from any Kobo column: $name" >&2
done
bad=$(json-map -r '(.unknown[] | "mapping_de.json names a data element the program does not have: \(.)"), (.bad_codes[] | "mapping_optionSet.json has a code the option set does not have: \(.)")' "$work/mapping_generated.json")
if [ -n "$bad" ]; then
    printf '%s\n' "$bad" | sed 's/^/sipca: error: /' >&2
    exit 65
fi

mv "$work/mapping_generated.json" "$out"
step "wrote $out ($(json-map -r '.columns | length' "$out") columns mapped, $(json-map -r '.unmapped | length' "$out") data elements unmapped)"
