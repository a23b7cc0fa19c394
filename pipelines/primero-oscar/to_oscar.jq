# Flow A: one Primero case (http-get of /api/v2/cases) -> one OSCaR client
# upsert, {case_id, _updated, body: {organization: {...}}}, for http-post
# --each --body-field body. Only cases with a service referred to OSCaR
# (service_response_type referral_to_oscar) are kept; those whose
# organisation is demo are dropped. $services is services.json (Primero
# service subtype -> {type, OSCaR name}). Empty values are left out.
def filled: . != null and . != "" and . != [];
def prune: with_entries(select(.value | filled));
def org: if type == "string" then ltrimstr("agency-") else null end;
def village: if filled then ("00000000" + tostring)[-8:] else null end;
def day: if type == "string" then gsub("/"; "-")[0:10] else null end;
def service_name($row):
  ($services | to_entries | map(select(.value.type == $row.service_type)) | first | .value.name) // "Other";

[(.services_section // [])[] | select(.service_response_type == "referral_to_oscar")] as $referrals
| select($referrals | length > 0)
| (([$referrals[] | .service_implementing_agency | select(filled)] | first | org)
   // (.owned_by_agency_id // .owned_by_agency | org)) as $org
| select($org != "demo")
| ((.transitions // []) | sort_by(.created_at // "") | last) as $last_transition
| {
    case_id,
    _updated: .last_updated_at,
    body: {organization: ({
      external_id: .case_id,
      external_id_display: .case_id_display,
      global_id: .oscar_number,
      level_of_risk: .risk_level,
      mosvy_number: .mosvy_number,
      given_name: .name_first,
      family_name: .name_last,
      gender: .sex,
      date_of_birth: (.date_of_birth | day),
      location_current_village_code: (.location_current | village),
      address_current_village_code: (.location_current | village),
      reason_for_referral: $last_transition.notes,
      external_case_worker_name: .owned_by,
      external_case_worker_id: .owned_by_id,
      external_case_worker_mobile: .owned_by_phone,
      resource: "primero",
      is_referred: true,
      organization_name: $org,
      organization_id: $org,
      date_of_referral: ([$referrals[] | .service_response_day_time | day | select(filled)] | max),
      services: [
        $referrals[] | . as $row
        | if (.service_subtype // []) | length > 0
          then .service_subtype[] | {uuid: $row.unique_id, name: ($services[.].name // "Other")}
          else {uuid: .unique_id, name: service_name($row)}
          end
        | prune
      ],
      transaction_id: $last_transition.id
    } | prune)}
  }
