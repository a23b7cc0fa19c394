# One row of the Kobo export (as index-diff emits it, with _key, _op, _hash and
# _remote_id, the dhis2 uid minted for its _uuid) -> one record for
# http-post --each: {_key, _op, _hash, _remote_id, _kobo, _run_date, payload}, where
# payload is the /api/tracker body holding the one COMPLETED event and
# _run_date ($run_date, the flow's date) names the saved files.
# $map is mapping_generated.json, $ou mapping_orgUnits.json (Kobo facility ->
# org unit id). An unknown facility, a missing assessment date or an answer with
# no option code is an error for this row only (json-map --keep-going).
def filled: . != null and . != "";
. as $row
| (if .ASSESSMENT_DATE | filled then .ASSESSMENT_DATE[0:10]
   else error("ASSESSMENT_DATE is empty") end) as $date
| (if .FACILITY | filled then ($ou[.FACILITY] // error("FACILITY is not in mapping_orgUnits.json"))
   else error("FACILITY is empty") end) as $orgunit
| {
    _key, _op, _hash, _remote_id,
    _kobo: (._id // ._uuid),
    _run_date: $run_date,
    payload: {
      events: [{
        event: ._remote_id,
        program: $map.program,
        programStage: $map.programStage,
        orgUnit: $orgunit,
        status: "COMPLETED",
        occurredAt: $date,
        completedAt: $date,
        dataValues: [
          $map.columns | to_entries[] | .key as $column | .value as $de
          | $row[$column] | select(filled) | tostring as $raw
          | ($raw | ascii_downcase) as $lower
          | if $de.options then
              ($de.options[$raw] // $de.options[$lower]
               // error("an answer with no option code in mapping_optionSet.json"))
            elif $de.valueType == "BOOLEAN" then
              ({"yes": "true", "no": "false", "true": "true", "false": "false", "1": "true", "0": "false"}[$lower]
               // error("a yes/no answer that is neither"))
            elif $de.valueType == "TRUE_ONLY" then
              (if $lower == "yes" or $lower == "true" or $lower == "1" then "true" else empty end)
            else $raw end
          | {dataElement: $de.dataElement, value: .}
        ]
      }]
    }
  }
