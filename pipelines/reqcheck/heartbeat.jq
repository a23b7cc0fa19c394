# ReqCheck's heartbeat answer as the bound of the datasets' SQL: its last import
# (the earlier of the last patient and the last dose import), less $overlap
# seconds, as 'YYYY-MM-DD HH:MM:SS' in UTC, rounded down to the second. ReqCheck
# dates an import when it receives it, after the flow extracted the records: a
# record changed in between would be missed without the overlap; sending one
# again is harmless (patients are upserted, a patient's doses replaced).
# No import yet (null) means everything.
if .last_update_date != null then .last_update_date | fromdate | . - ($overlap | tonumber)
elif .last_update_date_timestamp != null then .last_update_date_timestamp - ($overlap | tonumber)
else 0 end
| if . < 0 then 0 else . end
| floor | strftime("%Y-%m-%d %H:%M:%S")
