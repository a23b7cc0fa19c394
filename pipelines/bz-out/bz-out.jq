# created as the template writes it: 2020-05-06 08:20:00 (or 2020-05-06T08:20:00) -> 5/6/20 8:20
# (month, day and hour without a leading zero, a two-digit year).
def unpad: tostring | ltrimstr("0") | if . == "" then "0" else . end;
.created |= (
  tostring | split("T") | join(" ") | (split(" ") | .[0] | split("-")) as $d
  | (split(" ") | .[1] // "00:00:00" | split(":")) as $t
  | "\($d[1] | unpad)/\($d[2] | unpad)/\($d[0][2:4]) \($t[0] | unpad):\($t[1])"
)
