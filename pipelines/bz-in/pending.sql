-- The requests still waiting for the liaisons' answer: the only ones a file
-- from the city may change.
SELECT business_code, hash
FROM business_requests
WHERE approved_confirm IS NULL
