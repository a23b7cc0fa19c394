-- The appointments of one day, with their patient and referring doctor, in
-- appointment order (the order gives the car numbers). ? = the day, ? = the
-- next day. Columns the database no longer has are left out here and written
-- empty by the column files (see master.columns).
SELECT a.book_datetime,
       a.start_datetime,
       a.end_datetime,
       a.notes,
       p.first_name,
       p.last_name,
       p.middle_initial,
       p.email,
       p.mobile_number,
       p.phone_number,
       p.address,
       p.apt,
       p.city,
       p.state,
       p.zip_code,
       p.county,
       p.id_roles,
       p.gender,
       p.dob,
       p.language_pref,
       p.patient_id,
       p.patient_contact_pref,
       p.patient_consent,
       p.patient_consent_sms,
       p.patient_pui_reason_1,
       p.patient_pui_reason_2,
       p.patient_pui_reason_3,
       p.patient_pui_reason_4,
       p.patient_pui_reason_5,
       p.patient_pui_reason_6,
       p.patient_pui_reason_7,
       d.first_name AS doctor_first_name,
       d.last_name AS doctor_last_name,
       d.npi AS doctor_npi,
       d.address AS doctor_address,
       d.city AS doctor_city,
       d.state AS doctor_state,
       d.zip_code AS doctor_zip_code,
       d.phone_number AS doctor_phone_number,
       p.rx_date,
       p.caller,
       p.first_responder,
       a.hash,
       a.business_code
FROM appointments a
JOIN patients p ON p.id = a.patient_id
LEFT JOIN providers d ON d.id = p.provider_id
WHERE a.start_datetime >= ? AND a.start_datetime < ?
ORDER BY a.start_datetime, a.id
