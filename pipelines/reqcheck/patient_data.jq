# One patient row of patient_data.sql (db-extract NDJSON) as a ReqCheck
# patient record. Dates become YYYY-MM-DD and timestamps ISO 8601 in UTC
# (the database keeps UTC); empty and null values are left out, since
# ReqCheck takes a missing optional field as unknown. A patient_number of
# digits becomes a number; anything else goes as it is, for ReqCheck to refuse
# that record alone (a partial_failure) rather than stopping the whole run.
def day: if . == null then . else tostring | .[0:10] end;
def stamp: if . == null then . else tostring | .[0:19] | sub(" "; "T") + "Z" end;
.dob |= day
| .hd_mpfile_updated_at |= stamp
| .patient_number |= (if type == "string" and test("^[0-9]+$") then tonumber else . end)
| with_entries(select(.value != null and .value != ""))
