-- Every request and its answer so far. A file may answer a pending request
-- (approved_confirm NULL), or repeat the answer a request already has (a file
-- applied but not yet moved when a run stopped, dropped in again).
SELECT business_code, hash, approved_confirm, slots_approved
FROM business_requests
