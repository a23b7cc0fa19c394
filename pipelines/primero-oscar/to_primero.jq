# Flow B: one OSCaR client referred to Primero (as index-diff emits it, with
# _key = global_id and _remote_id = the case_id minted for a client with no
# external_id yet) -> one Primero case upsert, {_key, _op, _hash, _remote_id,
# lookup, body: {data: {...}}}, for http-post --each --body-field body. A
# client linked to a case already (external_id = case_id) updates it, looked up
# by case_id (lookup "case_id"), without its owner, name, sex, birth date or
# location, which Primero keeps; one not linked yet is looked up by
# oscar_number and, when new, created with the minted case_id and owned by the
# province user of its village code's first two digits ($province,
# province_users.json), else by its organisation's agency user. $services is
# services.json (Primero subtype -> {type, OSCaR name}); the age is counted on
# $today (the flow's date). Empty values are left out.
def filled: . != null and . != "" and . != [];
def prune: with_entries(select(.value | filled));
def sex: {"male": "male", "female": "female", "other": "other"}[ascii_downcase] // "unknown";
def village: if filled then ("00000000" + tostring)[-8:] else null end;
# Whole years from a YYYY-MM-DD birth date to $today; null when not a date or out of 0..130.
def age:
  if type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$") then
    (($today[0:4] | tonumber) - (.[0:4] | tonumber) - (if $today[5:10] < .[5:10] then 1 else 0 end))
    | if . >= 0 and . <= 130 then . else null end
  else null end;

. as $client
| .organization_name as $org
| (.location_current_village_code // .organization_address_code | village) as $village
| (.external_id | filled) as $linked
| ((.external_id | select(filled)) // ._remote_id) as $case_id
| {
    _key, _op, _hash, _remote_id,
    lookup: (if $linked then "case_id" else "oscar_number" end),
    body: {data: ({
      oscar_number: .global_id,
      case_id: $case_id,
      case_id_display: ((.external_id_display | select(filled)) // $case_id[-7:]),
      oscar_short_id: .slug,
      mosvy_number: .mosvy_number,
      name_first: .given_name,
      name_last: .family_name,
      sex: (.gender | if filled then sex else null end),
      date_of_birth: .date_of_birth,
      age: (.date_of_birth | age),
      location_current: (.location_current_village_code | village),
      owned_by: ((if $village then $province[$village[0:2]] else null end) // "agency-\($org)-user"),
      owned_by_agency_id: "agency-\($org)",
      module_id: "primeromodule-cp",
      protection_status: "oscar_referral",
      consent_for_services: true,
      disclosure_other_orgs: true,
      oscar_status: .status,
      referral_notes_oscar: .reason_for_referral,
      services_section: [
        (.services // [])[] | .name as $name
        | ([$services | to_entries[] | select(.value.name == $name)] | first) as $known
        | {
            unique_id: .uuid,
            service_type: ($known.value.type // "other"),
            service_subtype: [($known.key // "other_other_service")],
            service_type_text: ($known.value.type // "other"),
            service_type_details_text: (if $known then null else $name end),
            service_response_type: (if (.enrollment_date | filled) then "service_being_provided_by_oscar_partner_47618" else "referral_from_oscar" end),
            oscar_case_worker_name: $client.case_worker_name,
            oscar_case_worker_telephone: $client.case_worker_mobile,
            oscar_referring_organization: "agency-\($org)",
            service_implementing_agency: "agency-\($org)"
          }
        | prune
      ]
    } | if $linked then del(.owned_by, .name_first, .name_last, .sex, .date_of_birth, .age, .location_current) else . end
      | prune)}
  }
