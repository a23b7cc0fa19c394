-- ReqCheck patients: every patient changed since the last import.
-- ? is that moment as 'YYYY-MM-DD HH:MM:SS' (UTC), the text form SQLite stores
-- its timestamps in, so that the comparison is right even as text (an ISO 'T'
-- would sort after the space and drop the rest of that day). >= keeps the
-- records of the heartbeat's own second: sending one twice is a harmless upsert.
-- The column names are ReqCheck's keys; patient_data.jq converts the values.
SELECT patient_number,
       first_name,
       last_name,
       dob,
       email,
       address,
       city,
       state,
       zip_code,
       cell_phone,
       race,
       ethnicity,
       gender,
       updated_at AS hd_mpfile_updated_at
FROM rc_patients
WHERE updated_at >= ?
ORDER BY patient_number
