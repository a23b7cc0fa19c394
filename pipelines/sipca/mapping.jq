# The dhis2 program (one record from http-get) with $de (mapping_de.json: Kobo
# column -> data element name) and $os (mapping_optionSet.json: option set name
# -> Kobo value -> option code) -> mapping_generated.json: for each mapped Kobo
# column its data element id, value type and option codes; the names of the
# stage's data elements no column maps ("unmapped"), of the names in
# mapping_de.json the program does not have ("unknown"), and of the option
# codes in mapping_optionSet.json the option set does not have ("bad_codes").
.programStages[0] as $stage
| [$stage.programStageDataElements[] | .compulsory as $c | .dataElement + {compulsory: $c}] as $des
| ($de | to_entries | map({key: .value, value: .key}) | from_entries) as $column_of
| {
    program: .id,
    programStage: $stage.id,
    columns: (
      [ $des[] | select($column_of[.name] != null)
        | {
            key: $column_of[.name],
            value: {
              dataElement: .id,
              name: .name,
              valueType: .valueType,
              compulsory: .compulsory,
              options: (if .optionSet then ($os[.optionSet.name] // {}) else null end)
            }
          } ]
      | from_entries),
    unmapped: [ $des[] | select($column_of[.name] == null) | .name ],
    unknown: ([$des[].name] as $names | [ $de[] | select(. as $n | $names | index($n) | not) ]),
    bad_codes: [ $des[] | select(.optionSet) | .optionSet as $set
                 | ($os[$set.name] // {}) | to_entries[]
                 | select(.value as $code | [$set.options[].code] | index($code) | not)
                 | "\($set.name): \(.value)" ]
  }
