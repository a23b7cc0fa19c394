# The values of the end-of-day files, from one appointment record of
# appointments.sql. --arg file picks the layout:
#   master      the record, with pediatric_swab and ereqnumber
#   printer     start_datetime "May 07 05:00AM", name "Last, First", dob, Patient Type
#   form_print  the record, with age, prescription_content, last_name_abbrv,
#               app_start "Thursday 7th, May 2020 05:00 AM", first_responder
#               Yes/No, dob YYYY-MM-DD, pediatric_swab and ereqnumber
#   all         the master record with the values only the other two have,
#               those whose names the master file also uses prefixed:
#               printer_start_datetime, form_dob (the printer's dob too) and
#               form_first_responder; run.sh writes all three files from it
# Ages are whole years on the appointment date, so that a rerun gives the
# same files. The car numbers are added by csv-shape --row-number.

def ymd: tostring | .[0:10];
# A timestamp as the partners read it: YYYY-MM-DD HH:MM:SS (db-extract gives
# ISO 8601's T, and a fraction when there is one).
def datetime:
  if type == "string" and length >= 19 then .[0:10] + " " + .[11:19] else . end;
# Whole years from the date of birth B to the day D (both YYYY-MM-DD...).
def years($b; $d):
  ($d[0:4] | tonumber) - ($b[0:4] | tonumber)
  - (if $d[5:10] < $b[5:10] then 1 else 0 end);
def ordinal:
  . as $n
  | (if ($n % 100) >= 11 and ($n % 100) <= 13 then "th"
     elif $n % 10 == 1 then "st"
     elif $n % 10 == 2 then "nd"
     elif $n % 10 == 3 then "rd"
     else "th" end) as $suffix
  | "\($n)\($suffix)";
def yes_no: if . == 1 or . == "1" or . == true then "Yes" else "No" end;
def has_business: .business_code != null and (.business_code | tostring) != "";

# Each layout is one merge into the wide record (each merge copies it: the
# small objects are merged first), and the values every layout shares are
# worked out once.
def datetimes($start_text):
  {
    book_datetime: (.book_datetime | datetime), start_datetime: $start_text,
    end_datetime: (.end_datetime | datetime), rx_date: (.rx_date | datetime)
  };
def app_start($start; $start_text):
  ($start | strftime("%A ")) + ($start_text[8:10] | tonumber | ordinal) + ($start | strftime(", %B %Y %I:%M %p"));
def printer_start: strftime("%b %d %I:%M%p");
def patient_type: if has_business then "Critical Infrastructure Employee" else "General Public" end;
def prescription_content: if has_business then "CRITICAL INFRASTRUCTURE EMPLOYEE" else "" end;
def last_name_abbrv: .last_name | tostring | (.[0:1] | ascii_upcase) + .[1:2];

(.start_datetime | datetime) as $start_text
| ($start_text | strptime("%Y-%m-%d %H:%M:%S")) as $start
| years(.dob | ymd; $start_text[0:10]) as $age
| (if $age < 16 then "Yes" else "No" end) as $pediatric
| if $file == "master" then
    . + (datetimes($start_text) + {pediatric_swab: $pediatric, ereqnumber: .hash})
  elif $file == "printer" then
    {
      start_datetime: ($start | printer_start),
      name: "\(.last_name), \(.first_name)",
      dob: (.dob | ymd),
      "Patient Type": patient_type
    }
  elif $file == "form_print" then
    . + (datetimes($start_text) + {
      dob: (.dob | ymd),
      age: $age,
      prescription_content: prescription_content,
      last_name_abbrv: last_name_abbrv,
      app_start: app_start($start; $start_text),
      first_responder: (.first_responder | yes_no),
      pediatric_swab: $pediatric,
      ereqnumber: .hash
    })
  elif $file == "all" then
    # A sum of small objects: jaq builds an object of n keys in about n*n
    # steps (15 keys: 17 us against 7.5 us as pairs).
    . + (datetimes($start_text)
      + {pediatric_swab: $pediatric, ereqnumber: .hash}
      + {form_dob: (.dob | ymd), age: $age}
      + {prescription_content: prescription_content, last_name_abbrv: last_name_abbrv}
      + {app_start: app_start($start; $start_text), form_first_responder: (.first_responder | yes_no)}
      + {printer_start_datetime: ($start | printer_start), name: "\(.last_name), \(.first_name)"}
      + {"Patient Type": patient_type})
  else
    error("--arg file must be master, printer, form_print or all")
  end
