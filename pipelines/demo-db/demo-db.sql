-- The demo database: a deterministic SQLite stand-in for the testing site's
-- scheduling database (flows 1-3) and for ReqCheck's source (flow 5).
-- Every name, address and number here is generated; none is real.
-- Build it with `make demo-db`, which runs this file through sqlite3.

PRAGMA foreign_keys = ON;

-- Scheduling: providers, patients, businesses and their requests, appointments.

CREATE TABLE providers (
    id            INTEGER PRIMARY KEY,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    npi           TEXT NOT NULL,
    address       TEXT,
    city          TEXT,
    state         TEXT,
    zip_code      TEXT,
    phone_number  TEXT
);

CREATE TABLE businesses (
    business_code     TEXT PRIMARY KEY,
    business_name     TEXT NOT NULL,
    owner_first_name  TEXT,
    owner_last_name   TEXT,
    business_phone    TEXT,
    mobile_phone      TEXT,
    email             TEXT,
    address           TEXT,
    city              TEXT,
    state             TEXT,
    zip_code          TEXT
);

-- One row per request for test slots; the liaisons fill in approved_confirm
-- (Y, N or empty) and slots_approved, matched on (business_code, hash).
CREATE TABLE business_requests (
    id                INTEGER PRIMARY KEY,
    business_code     TEXT NOT NULL REFERENCES businesses (business_code),
    hash              TEXT NOT NULL,
    slots_requested   INTEGER NOT NULL CHECK (slots_requested > 0),
    slots_approved    INTEGER CHECK (slots_approved >= 0),
    approved_confirm  TEXT CHECK (approved_confirm IN ('Y', 'N')),
    created           TIMESTAMP NOT NULL,
    UNIQUE (business_code, hash)
);

CREATE TABLE patients (
    id                    INTEGER PRIMARY KEY,
    patient_id            TEXT NOT NULL UNIQUE,
    first_name            TEXT NOT NULL,
    last_name             TEXT NOT NULL,
    middle_initial        TEXT,
    email                 TEXT,
    mobile_number         TEXT,
    phone_number          TEXT,
    address               TEXT,
    apt                   TEXT,
    city                  TEXT,
    state                 TEXT,
    zip_code              TEXT,
    county                TEXT,
    id_roles              INTEGER,
    gender                TEXT,
    dob                   DATE NOT NULL,
    language_pref         TEXT,
    patient_contact_pref  INTEGER,
    patient_consent       INTEGER,
    patient_consent_sms   INTEGER,
    patient_pui_reason_1  INTEGER,
    patient_pui_reason_2  INTEGER,
    patient_pui_reason_3  INTEGER,
    patient_pui_reason_4  INTEGER,
    patient_pui_reason_5  INTEGER,
    patient_pui_reason_6  INTEGER,
    patient_pui_reason_7  INTEGER,
    first_responder       INTEGER NOT NULL,
    caller                TEXT,
    provider_id           INTEGER REFERENCES providers (id),
    rx_date               TIMESTAMP
);

CREATE TABLE appointments (
    id              INTEGER PRIMARY KEY,
    patient_id      INTEGER NOT NULL REFERENCES patients (id),
    book_datetime   TIMESTAMP NOT NULL,
    start_datetime  TIMESTAMP NOT NULL,
    end_datetime    TIMESTAMP NOT NULL,
    notes           TEXT,
    hash            TEXT NOT NULL UNIQUE,
    business_code   TEXT REFERENCES businesses (business_code)
);
CREATE INDEX appointments_start ON appointments (start_datetime);

-- ReqCheck's source: patients and their vaccine doses.

CREATE TABLE rc_patients (
    patient_number  INTEGER PRIMARY KEY CHECK (patient_number > 0),
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    dob             DATE NOT NULL,
    gender          TEXT,
    race            TEXT,
    ethnicity       TEXT,
    address         TEXT,
    city            TEXT,
    state           TEXT,
    zip_code        TEXT,
    cell_phone      TEXT,
    email           TEXT,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE rc_vaccine_doses (
    id                 INTEGER PRIMARY KEY,
    patient_number     INTEGER NOT NULL REFERENCES rc_patients (patient_number),
    cvx_code           TEXT NOT NULL,
    mvx_code           TEXT,
    lot_number         TEXT,
    date_administered  DATE NOT NULL,
    provider_code      TEXT,
    updated_at         TIMESTAMP NOT NULL
);

-- Word lists for generated people. Index i picks (i mod count) + 1.
CREATE TEMP TABLE first_names (n INTEGER PRIMARY KEY, name TEXT);
INSERT INTO first_names (name) VALUES
    ('Ada'), ('Ben'), ('Cleo'), ('Dev'), ('Eli'), ('Fay'), ('Gus'), ('Hana'),
    ('Ivo'), ('Jun'), ('Kai'), ('Lena'), ('Milo'), ('Nia'), ('Omar'), ('Pia');
CREATE TEMP TABLE last_names (n INTEGER PRIMARY KEY, name TEXT);
INSERT INTO last_names (name) VALUES
    ('Abbot'), ('Brook'), ('Carver'), ('Dale'), ('Ellis'), ('Frost'), ('Grove'),
    ('Hale'), ('Irving'), ('Joss'), ('Keel'), ('Lund'), ('Marsh'), ('Noble');
CREATE TEMP TABLE streets (n INTEGER PRIMARY KEY, name TEXT);
INSERT INTO streets (name) VALUES
    ('Maple Ave'), ('Oak St'), ('Cedar Rd'), ('Elm Ct'), ('Birch Ln'), ('Pine Dr');

CREATE TEMP TABLE seq (i INTEGER PRIMARY KEY);
WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 400)
INSERT INTO seq SELECT i FROM s;

INSERT INTO providers (id, first_name, last_name, npi, address, city, state, zip_code, phone_number)
SELECT i,
       (SELECT name FROM first_names WHERE n = (i * 5) % 16 + 1),
       (SELECT name FROM last_names WHERE n = (i * 3) % 14 + 1),
       printf('19%08d', i * 7919),
       printf('%d %s', 100 + i * 37, (SELECT name FROM streets WHERE n = i % 6 + 1)),
       'Springfield', 'MI', printf('4%04d', 8000 + i),
       printf('555-01%02d', i)
FROM seq WHERE i <= 6;

INSERT INTO businesses (business_code, business_name, owner_first_name, owner_last_name,
                        business_phone, mobile_phone, email, address, city, state, zip_code)
SELECT printf('%06dBZ', 100000 + i * 4271),
       printf('Demo Business %d', i),
       (SELECT name FROM first_names WHERE n = (i * 7) % 16 + 1),
       (SELECT name FROM last_names WHERE n = (i * 5) % 14 + 1),
       printf('555-02%02d', i), printf('555-03%02d', i),
       printf('owner%d@example.org', i),
       printf('%d %s', 200 + i * 11, (SELECT name FROM streets WHERE n = (i + 2) % 6 + 1)),
       'Springfield', 'MI', printf('4%04d', 8100 + i)
FROM seq WHERE i <= 12;

-- Requests: the first eight are decided, the rest wait for the liaisons.
-- They are spread over the demo day, three an hour from 08:00.
INSERT INTO business_requests (business_code, hash, slots_requested, slots_approved, approved_confirm, created)
SELECT printf('%06dBZ', 100000 + ((i - 1) % 12 + 1) * 4271),
       printf('%06dRQ', 500000 + i * 7907),
       2 + (i * 7) % 19,
       CASE WHEN i <= 8 AND i % 4 <> 0 THEN 2 + (i * 7) % 19 WHEN i <= 8 THEN 0 END,
       CASE WHEN i <= 8 AND i % 4 <> 0 THEN 'Y' WHEN i <= 8 THEN 'N' END,
       datetime('2020-05-06 08:00:00', printf('+%d minutes', (i - 1) * 20))
FROM seq WHERE i <= 30;

-- 300 patients; some children (pediatric swab), some first responders.
INSERT INTO patients (id, patient_id, first_name, last_name, middle_initial, email, mobile_number,
                      phone_number, address, apt, city, state, zip_code, county, id_roles, gender, dob,
                      language_pref, patient_contact_pref, patient_consent, patient_consent_sms,
                      patient_pui_reason_1, patient_pui_reason_2, patient_pui_reason_3,
                      patient_pui_reason_4, patient_pui_reason_5, patient_pui_reason_6,
                      patient_pui_reason_7, first_responder, caller, provider_id, rx_date)
SELECT i,
       printf('2005%08d', i * 104729 % 100000000),
       (SELECT name FROM first_names WHERE n = (i * 7) % 16 + 1),
       (SELECT name FROM last_names WHERE n = (i * 11) % 14 + 1),
       CASE WHEN i % 5 = 0 THEN char(65 + i % 26) END,
       CASE WHEN i % 9 <> 0 THEN printf('patient%d@example.org', i) END,
       printf('555-1%03d', i), NULL,
       printf('%d %s', 1000 + (i * 53) % 9000, (SELECT name FROM streets WHERE n = (i * 5) % 6 + 1)),
       CASE WHEN i % 7 = 0 THEN printf('%d', i % 40 + 1) END,
       CASE i % 3 WHEN 0 THEN 'Springfield' WHEN 1 THEN 'Riverton' ELSE 'Lakeside' END,
       'MI', printf('4%04d', 8200 + (i * 13) % 700), 'Demo County',
       1 + i % 3,
       CASE i % 2 WHEN 0 THEN 'female' ELSE 'male' END,
       date('2020-05-07', printf('-%d days', 365 * (2 + (i * 37) % 85) + (i * 17) % 365)),
       CASE WHEN i % 6 = 0 THEN 'Spanish' ELSE 'English' END,
       i % 2, 1, i % 3 = 0,
       i % 4 = 0, i % 6 = 0, 0, i % 10 = 0, 0, 0, 0,
       i % 8 = 0,
       CASE WHEN i % 4 = 0 THEN 'essential-worker' ELSE 'patient' END,
       i % 6 + 1,
       datetime('2020-05-05 00:00:00', printf('-%d days', i % 3))
FROM seq WHERE i <= 300;

-- 280 appointments on the demo day 2020-05-07, five a slot from 05:00,
-- and 20 on the next day, so that a date filter has something to exclude.
INSERT INTO appointments (id, patient_id, book_datetime, start_datetime, end_datetime, notes, hash, business_code)
SELECT i, i,
       datetime('2020-05-06 06:00:00', printf('+%d minutes', (i * 97) % 840)),
       datetime(CASE WHEN i <= 280 THEN '2020-05-07 05:00:00' ELSE '2020-05-08 05:00:00' END,
                printf('+%d minutes', ((i - 1) % 280 / 5) * 15)),
       datetime(CASE WHEN i <= 280 THEN '2020-05-07 06:00:00' ELSE '2020-05-08 06:00:00' END,
                printf('+%d minutes', ((i - 1) % 280 / 5) * 15)),
       CASE WHEN i % 25 = 0 THEN 'drive-through lane 2' END,
       printf('%06d%s%s', (i * 611953) % 1000000, char(65 + i % 26), char(65 + (i * 7) % 26)),
       CASE WHEN i % 4 = 0 THEN printf('%06dBZ', 100000 + ((i / 4) % 12 + 1) * 4271) END
FROM seq WHERE i <= 300;

-- ReqCheck: 200 patients, two to four doses each, updated over a week so
-- that the heartbeat date picks a part of them.
INSERT INTO rc_patients (patient_number, first_name, last_name, dob, gender, race, ethnicity,
                         address, city, state, zip_code, cell_phone, email, updated_at)
SELECT 10000 + i,
       (SELECT name FROM first_names WHERE n = (i * 3) % 16 + 1),
       (SELECT name FROM last_names WHERE n = (i * 5) % 14 + 1),
       date('2024-01-01', printf('-%d days', 30 + (i * 131) % 6000)),
       CASE i % 3 WHEN 0 THEN 'F' WHEN 1 THEN 'M' ELSE 'U' END,
       CASE i % 4 WHEN 0 THEN '2106-3' WHEN 1 THEN '2054-5' WHEN 2 THEN '2028-9' ELSE '2131-1' END,
       CASE i % 3 WHEN 0 THEN '2135-2' ELSE '2186-5' END,
       printf('%d %s', 10 + (i * 29) % 990, (SELECT name FROM streets WHERE n = (i * 2) % 6 + 1)),
       'Springfield', 'MI', printf('4%04d', 8300 + i % 90),
       printf('555-2%03d', i),
       CASE WHEN i % 5 <> 0 THEN printf('family%d@example.org', i) END,
       datetime('2024-05-01 02:00:00', printf('+%d hours', (i * 7) % 168))
FROM seq WHERE i <= 200;

INSERT INTO rc_vaccine_doses (patient_number, cvx_code, mvx_code, lot_number, date_administered,
                              provider_code, updated_at)
SELECT p.patient_number,
       CASE (p.patient_number + d.i) % 5 WHEN 0 THEN '08' WHEN 1 THEN '20' WHEN 2 THEN '10'
                                         WHEN 3 THEN '03' ELSE '21' END,
       CASE (p.patient_number + d.i) % 3 WHEN 0 THEN 'MSD' WHEN 1 THEN 'SKB' ELSE 'PMC' END,
       printf('LOT%05d', (p.patient_number * 31 + d.i * 7) % 100000),
       date(p.dob, printf('+%d days', 60 * d.i)),
       'DEMO-CLINIC',
       p.updated_at
FROM rc_patients AS p
JOIN seq AS d ON d.i <= 2 + p.patient_number % 3
ORDER BY p.patient_number, d.i;
