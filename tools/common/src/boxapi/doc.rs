//! Man-page text the Box tools share: the AUTH section and the ENVIRONMENT
//! entries, so that box-put and box-get say the same thing.

/// The entries of the AUTH section, for `ToolDoc::auth`.
pub const AUTH: &[(&str, &str)] = &[
    (
        "jwt",
        "Server authentication with a JWT app, as the Box CLI's box_config.json sets it up (--config FILE or BOX_CONFIG). The app's encrypted PKCS#8 private key (appAuth.privateKey) is decrypted with appAuth.passphrase, or with the passphrase in the variable named by --passphrase-env. An assertion signed RS256 with it (kid = appAuth.publicKeyID, iss = clientID, sub = enterpriseID with box_sub_type enterprise, or the user of --as-user with box_sub_type user, aud = the token URL, a random jti, exp 45 seconds ahead) is exchanged for a token at the token URL with the app's clientID and clientSecret. This is the default when --config or BOX_CONFIG is given.",
    ),
    (
        "ccg",
        "Client credentials: BOX_CLIENT_ID and BOX_CLIENT_SECRET are exchanged for a token for BOX_SUBJECT_TYPE (enterprise or user) BOX_SUBJECT_ID, or for the user of --as-user. The default when BOX_CLIENT_ID is set and no config file is given.",
    ),
    (
        "token",
        "A developer token from BOX_TOKEN, sent as it is, for trying things by hand: it lasts an hour and cannot be renewed by the tool. The default when only BOX_TOKEN is set.",
    ),
    (
        "Renewal and refusals",
        "The token is fetched at the first request and kept for the run; it is fetched again a minute before it runs out, and when Box answers 401 to a request, that request is sent once more with a new token (jwt and ccg). A refused grant (400 invalid_grant or invalid_client, 401, 403) is exit 77; a box_config.json that cannot be read or parsed, a key that cannot be decrypted (a wrong passphrase) or a missing variable is exit 78. Messages name the file, field or URL, never the client secret, the key, the passphrase or a token.",
    ),
];

/// The ENVIRONMENT entries of the Box flags, for `ToolDoc::environment`.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "BOX_CONFIG",
        "The path of the app's box_config.json (JWT auth), when --config is not given.",
    ),
    (
        "BOX_CLIENT_ID, BOX_CLIENT_SECRET, BOX_SUBJECT_TYPE, BOX_SUBJECT_ID",
        "The client-credentials grant (--auth ccg): the app's client id and secret, and for whom the token is (enterprise or user, and its id). BOX_CLIENT_SECRET may instead be in the file named by BOX_CLIENT_SECRET_FILE.",
    ),
    (
        "BOX_TOKEN",
        "A developer token (--auth token), or BOX_TOKEN_FILE naming a file that holds it.",
    ),
    (
        "NAME, NAME_FILE",
        "With --passphrase-env NAME: the passphrase of the app's private key, or a file holding it, instead of appAuth.passphrase.",
    ),
    (
        "BOX_API_URL, BOX_UPLOAD_URL",
        "Box's API and upload URLs, when --api-url and --upload-url are not given (default https://api.box.com/2.0 and https://upload.box.com/api/2.0); the tests point them at the sandbox.",
    ),
    crate::http::doc::TRUST,
    crate::http::doc::PROXY,
];
