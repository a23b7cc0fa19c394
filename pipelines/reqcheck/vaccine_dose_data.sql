-- ReqCheck vaccine doses: ReqCheck replaces all of a patient's doses with those
-- of each import, so a patient with any dose changed since the last import
-- gets all of their doses sent, never only the changed ones.
-- ? is that moment as 'YYYY-MM-DD HH:MM:SS' (UTC); see patient_data.sql.
-- Ordered by patient, so that json-map can keep each patient's doses together
-- in one batch. The column names are ReqCheck's keys.
SELECT d.patient_number,
       d.cvx_code,
       d.mvx_code,
       d.lot_number,
       d.date_administered,
       d.provider_code,
       d.updated_at AS hd_imfile_updated_at
FROM rc_vaccine_doses AS d
WHERE d.patient_number IN (SELECT patient_number FROM rc_vaccine_doses WHERE updated_at >= ?)
ORDER BY d.patient_number, d.date_administered, d.id
