# One patient row of patient_data.sql (db-extract NDJSON) as a ReqCheck
# patient record. Dates become YYYY-MM-DD and timestamps ISO 8601 in UTC
# (the database keeps UTC); empty and null values are left out, since
# ReqCheck takes a missing optional field as unknown.
def day: if . == null then . else tostring | .[0:10] end;
def stamp: if . == null then . else tostring | .[0:19] | sub(" "; "T") + "Z" end;
.dob |= day
| .hd_mpfile_updated_at |= stamp
| .patient_number |= (tostring | tonumber)
| with_entries(select(.value != null and .value != ""))
