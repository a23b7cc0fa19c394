# ReqCheck's heartbeat answer as the bound of the datasets' SQL: its last import
# (the earlier of the last patient and the last dose import) as
# 'YYYY-MM-DD HH:MM:SS' in UTC, rounded down to the second so that nothing of
# that second is missed. No import yet (null) means everything.
if .last_update_date != null then .last_update_date | fromdate
elif .last_update_date_timestamp != null then .last_update_date_timestamp
else 0 end
| floor | strftime("%Y-%m-%d %H:%M:%S")
