# Every dose row of vaccine_dose_data.sql (json-map --slurp) as ReqCheck dose
# records, one output line per patient: {"patient_number", "doses": [...]}.
# ReqCheck replaces all of a patient's doses with those of each import, so a
# patient's doses must never be split between two batches: batch-split cuts
# these lines, and publish.sh flattens a batch's doses into the payload.
# Dates become YYYY-MM-DD and timestamps ISO 8601 in UTC; booleans (1/0,
# Y/N, yes/no, true/false) become true/false; empty and null values are left out.
def day: if . == null then . else tostring | .[0:10] end;
def stamp: if . == null then . else tostring | .[0:19] | sub(" "; "T") + "Z" end;
def flag:
  if type == "boolean" then .
  elif (tostring | ascii_downcase) as $v | ["1", "y", "yes", "true", "t"] | index([$v]) then true
  elif (tostring | ascii_downcase) as $v | ["0", "n", "no", "false", "f"] | index([$v]) then false
  else . end;
def dose:
  .date_administered |= day
  | .hd_imfile_updated_at |= stamp
  | .patient_number |= (if type == "string" and test("^[0-9]+$") then tonumber else . end)
  | if .expiration_date then .expiration_date |= day else . end
  | if has("history_flag") and .history_flag != null then .history_flag |= flag else . end
  | with_entries(select(.value != null and .value != ""));
map(dose)
| group_by(.patient_number)[]
| {patient_number: .[0].patient_number, doses: .}
