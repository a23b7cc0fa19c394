# The result lines for index-diff --commit: the records of the diff (they
# have a _key) that a box-put receipt confirms, by name and sha256. Run with
# --slurp over the diff's records followed by box-put's receipts.
(map(select(.tool == "box-put" and (.dry_run | not)))
 | map({key: "\(.name)/\(.sha256)", value: .remote_id}) | from_entries) as $done
| .[]
| select(._key != null and $done["\(.name)/\(.sha256)"] != null)
| {_key, _hash, _remote_id: $done["\(.name)/\(.sha256)"], ok: true}
