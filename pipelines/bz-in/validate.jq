# The errors of a liaisons' file, one line per failing field: "row N: column:
# reason" (N is the spreadsheet row, the header being row 1), never a value.
# Run with --slurp over the file's records (csv-shape --to ndjson) and
# --lookup requests=FILE ({"BUSINESS_CODE/HASH": {"confirm", "slots"}} for every
# request, its answer so far as text, "" for none). A row may answer a pending
# request, or repeat the answer a decided one has.
# Rows whose every field is empty (the template's trailing rows) are ignored.
# slots_approved may be empty only when approved_confirm is (no answer yet).
def text: if . == null then "" else tostring end;
def alnum: test("^[A-Za-z0-9]+$");
to_entries[]
| (.key + 2) as $row
| .value as $r
| select([$r[] | text | select(. != "")] | length > 0)
| ($r.approved_confirm | text) as $confirm
| ($r.slots_approved | text) as $slots
| ($r.business_code | text) as $code
| ($r.hash | text) as $hash
| (if $confirm == "Y" or $confirm == "N" or $confirm == "" then empty
   else "approved_confirm: must be Y, N or empty" end),
  (if ($slots | test("^[0-9]+$")) or ($slots == "" and $confirm == "") then empty
   elif $slots == "" then "slots_approved: is empty but approved_confirm is not"
   else "slots_approved: must be a whole number of 0 or more" end),
  (if $code | alnum then empty else "business_code: must be letters and digits only" end),
  (if $hash | alnum then empty else "hash: must be letters and digits only" end),
  (if ($code | alnum) and ($hash | alnum) then
     $requests["\($code)/\($hash)"] as $known
     | if $known == null then "business_code,hash: no request has this pair"
       elif $known.confirm != "" and ($known.confirm != $confirm or $known.slots != $slots)
       then "business_code,hash: this request was answered already"
       else empty end
   else empty end)
| "row \($row): \(.)"
