# Flow B's links: for an OSCaR referral (as OSCaR listed it) with no
# external_id yet whose case the index ($index, primero_index.json) holds as
# delivered, the ids OSCaR is to learn: {external_id, external_id_display,
# global_id}. Taken from the index, not from this run's results, so that the
# clients of a run stopped before its links get them in the next run.
select((.external_id // "") == "")
| .global_id as $global_id
| $index[$global_id]
| select(. != null and .delivered == true and .remote_id != null)
| {external_id: .remote_id, external_id_display: .remote_id[-7:], global_id: $global_id}
