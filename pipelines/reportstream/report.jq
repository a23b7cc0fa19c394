# One test event of the spool (the testing app's JSON) as one row of
# ReportStream's CSV, keyed by its columns (columns.txt gives their order).
# $codes is codes.json: ethnicity H/N/U, sex M/F/O/A/U/N, race CDC codes,
# result SNOMED codes, status F/C/W. A value not in a map is sent as it is, so
# that ReportStream flags it by the row's tracking id (Result_ID) rather than
# the flow dropping it; a missing one is sent as the map's "unknown" code.
# Dates become yyyyMMdd, datetimes yyyyMMddHHmmss (in UTC when the event gives
# a zone), booleans Y/N/UNK. The event's shape: tests/fixtures/reportstream/event.json.
def obj: if type == "object" then . else {} end;
def s: if . == null then "" elif type == "string" then . else tostring end;
def code($map; $missing):
  if . == null or . == "" then $missing
  else s as $v | ($map[$v | ascii_downcase] // $v) end;
def digits: s | gsub("[^0-9]"; "");
def ymd: digits | .[0:8];
def ymdhms:
  if . == null or . == "" then ""
  elif s | test("(Z|[+-][0-9]{2}:?[0-9]{2})$") then
    (try (s | fromdate | floor | strftime("%Y%m%d%H%M%S")) catch (digits | .[0:14]))
  else digits | .[0:14] end;
def yn:
  if . == true then "Y" elif . == false then "N" elif . == null or . == "" then "UNK"
  else (s | ascii_downcase) as $v
    | if ["y", "yes", "true", "1"] | index([$v]) then "Y"
      elif ["n", "no", "false", "0"] | index([$v]) then "N"
      else "UNK" end
  end;

(.patient | obj) as $p
| (.lab | obj) as $lab
| (.facility | obj) as $fac
| (.provider | obj) as $doc
| (.status | code($codes.status; "F")) as $status
| {
    Patient_last_name: ($p.last_name | s),
    Patient_first_name: ($p.first_name | s),
    Patient_middle_name: ($p.middle_name | s),
    Patient_suffix: ($p.suffix | s),
    Patient_race: ($p.race | code($codes.race; "UNK")),
    Patient_DOB: ($p.birth_date | ymd),
    Patient_gender: ($p.sex | code($codes.sex; "U")),
    Patient_ethnicity: ($p.ethnicity | code($codes.ethnicity; "U")),
    Patient_street: ($p.street | s),
    Patient_street_2: ($p.street_2 | s),
    Patient_city: ($p.city | s),
    Patient_county: ($p.county | s),
    Patient_state: ($p.state | s),
    Patient_zip_code: ($p.zip_code | s),
    Patient_country: ($p.country // "USA" | s),
    Patient_phone_number: ($p.phone_number | s),
    Patient_email: ($p.email | s),
    Patient_ID: ($p.id | s),
    Patient_role: ($p.role | s),
    Patient_tribal_affiliation: ($p.tribal_affiliation | s),
    Patient_preferred_language: ($p.preferred_language | s),
    Employed_in_healthcare: ($p.employed_in_healthcare | yn),
    Resident_congregate_setting: ($p.resident_congregate_setting | yn),
    Result_ID: (.result_id | s),
    Corrected_result_ID: (.corrected_result_id | s),
    Test_correction_reason: (.correction_reason | s),
    Test_result_status: $status,
    Order_result_status: $status,
    Observation_result_status: $status,
    Test_result_code: (.result | code($codes.result; "")),
    Specimen_collection_date_time: (.collected_at | ymdhms),
    Ordering_provider_ID: ($doc.npi | s),
    First_test: (.first_test | yn),
    Symptomatic_for_disease: (.symptomatic | yn),
    Illness_onset_date: (.symptom_onset | ymd),
    Testing_lab_name: ($lab.name | s),
    Testing_lab_CLIA: ($lab.clia | s),
    Testing_lab_state: ($lab.state | s),
    Testing_lab_street: ($lab.street | s),
    Testing_lab_street_2: ($lab.street_2 | s),
    Testing_lab_zip_code: ($lab.zip_code | s),
    Testing_lab_county: ($lab.county | s),
    Testing_lab_phone_number: ($lab.phone_number | s),
    Testing_lab_city: ($lab.city | s),
    Processing_mode_code: "P",
    Ordering_facility_city: ($fac.city | s),
    Ordering_facility_county: ($fac.county | s),
    Ordering_facility_name: ($fac.name | s),
    Organization_name: (.organization_name | s),
    Ordering_facility_phone_number: ($fac.phone_number | s),
    Ordering_facility_email: ($fac.email | s),
    Ordering_facility_state: ($fac.state | s),
    Ordering_facility_street: ($fac.street | s),
    Ordering_facility_street_2: ($fac.street_2 | s),
    Ordering_facility_zip_code: ($fac.zip_code | s),
    Ordering_provider_last_name: ($doc.last_name | s),
    Ordering_provider_first_name: ($doc.first_name | s),
    Ordering_provider_street: ($doc.street | s),
    Ordering_provider_street_2: ($doc.street_2 | s),
    Ordering_provider_city: ($doc.city | s),
    Ordering_provider_state: ($doc.state | s),
    Ordering_provider_zip_code: ($doc.zip_code | s),
    Ordering_provider_county: ($doc.county | s),
    Ordering_provider_phone_number: ($doc.phone_number | s),
    Ordered_test_code: (.test_code | s),
    Specimen_source_site_code: (.specimen_source_site_code // "53342003" | s),
    Specimen_type_code: (.specimen_type_code | s),
    Instrument_ID: (.instrument_id | s),
    Device_ID: (.device_id | s),
    Test_date: (.tested_at | ymdhms),
    Date_result_released: (.released_at | ymdhms),
    Order_test_date: (.ordered_at | ymdhms),
    Site_of_care: (.site_of_care | s)
  }
