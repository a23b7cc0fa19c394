# Flow B's selection: the OSCaR clients referred to Primero. Not those that
# are not referred (OSCaR also lists the clients created since the date), nor
# those of the demo organisation, nor Primero's own referrals that flow A put
# in OSCaR (resource primero), which would only come back.
def filled: . != null and . != "";
select(.is_referred == true)
| select(.organization_name | filled)
| select(.organization_name != "demo")
| select((.resource // "" | ascii_downcase) != "primero")
