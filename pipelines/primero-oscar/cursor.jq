# The new cursor of flow A, from one slurped array of tagged lines:
# {t: "case", u} for every case fetched, {t: "todo", k, u} for every client
# sent, {t: "ok", k} for every one delivered, {t: "rejected", u} for every case
# the mapping refused. When something was not delivered, the cursor stops at
# the earliest such case (the range is inclusive, and the index keeps the
# delivered ones from being sent again); else it moves to the latest case
# fetched; with nothing fetched (or no times) it stays at $old.
([.[] | select(.t == "ok") | .k]) as $ok
| ([.[] | select(.t == "todo") | select(.k as $k | $ok | index([$k]) | not) | .u]
   + [.[] | select(.t == "rejected") | .u]) as $pending
| if ($pending | length) > 0 then ([$pending[] | select(. != null)] | min) // $old
  else ([.[] | select(.t == "case") | .u | select(. != null)] | max) // $old
  end
