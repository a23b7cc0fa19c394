-- The business requests created in a window [:start, :end), with their
-- business, in the order they came in. created is formatted by bz-out.jq.
SELECT r.approved_confirm,
       r.slots_approved,
       r.slots_requested,
       b.business_name,
       r.business_code,
       b.owner_first_name,
       b.owner_last_name,
       b.business_phone,
       b.mobile_phone,
       b.email,
       b.address,
       b.city,
       b.state,
       b.zip_code,
       r.created,
       r.hash
FROM business_requests r
JOIN businesses b ON b.business_code = r.business_code
WHERE r.created >= :start AND r.created < :end
ORDER BY r.created, r.id
