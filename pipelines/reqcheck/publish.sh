#!/usr/bin/env bash
# One batch of one ReqCheck dataset, for batch-split --exec in run.sh:
#
#   publish.sh patient_data|vaccine_dose_data   < batch.ndjson
#
# The batch's NDJSON records become the payload {"DATASET":[...]} (a
# vaccine_dose_data batch holds one line per patient with its "doses", which are
# flattened here), then PUBLISH_TO=api posts it to $REQCHECK_URL/DATASET and
# prints http-post's receipt (ReqCheck's status, import id and error ids kept
# in its fields), and PUBLISH_TO=file writes it to $PAYLOAD_DIR/$BATCH_NAME
# (mode 0600, complete or not at all). Exit status: http-post's.
# shellcheck source=pipelines/lib.sh
. "$(dirname "$0")/../lib.sh"
dataset=${1:?usage: publish.sh patient_data|vaccine_dose_data}
case $dataset in
patient_data) payload='{patient_data: .}' ;;
vaccine_dose_data) payload='{vaccine_dose_data: [.[].doses[]]}' ;;
*)
    echo "reqcheck: error: publish.sh: unknown dataset $dataset" >&2
    exit 64
    ;;
esac

if [ "${PUBLISH_TO:-api}" = file ]; then
    out=$PAYLOAD_DIR/$BATCH_NAME
    json-map --slurp "$payload" >"$out.tmp"
    mv "$out.tmp" "$out"
    exit 0
fi

ca=()
ca_args ca REQCHECK_CA_FILE
json-map --slurp "$payload" |
    http-post --auth basic --user-env REQCHECK_USER --password-env REQCHECK_PASSWORD "${ca[@]}" \
        --receipt-field reqcheck_status=.status \
        --receipt-field data_import_id=.data_import_id \
        --receipt-field error_objects_ids=.error_objects_ids \
        "${REQCHECK_URL%/}/$dataset"
