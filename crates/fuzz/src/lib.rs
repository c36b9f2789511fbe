//! Fuzz targets for every kc-migrate parser and for the mapping loader.
//!
//! Each target is a `pub fn <target>(data: &[u8]) -> Summary` that feeds arbitrary bytes
//! through one public entry point, drains everything it yields, and *panics* when an
//! invariant breaks (the parsers themselves must never panic either):
//!
//! - every item is an item or a [`kcm_model::RecordError`] whose provenance names one of the
//!   given input files and a line ≥ 1 that exists in that file;
//! - the number of items stays within the number of input bytes plus a small constant;
//! - a password hash planted in the seeds (the text [`check::NEEDLE`]) never shows up in an
//!   error message, a diagnostic or `Debug` output while it sits in its secret field.
//!
//! The stable-Rust mutation driver (`src/main.rs`, see the README) runs them for a fixed
//! time; `tests/` holds the property tests and the regression corpus.
//!
//! Targets that need a path write the input into a per-thread scratch folder, reused between
//! runs ([`scratch`]).

pub mod check;
pub mod hashgen;
pub mod mutate;
pub mod scratch;
pub mod seeds;
mod targets;

pub use check::Summary;
pub use targets::{
    auth0_csv, auth0_hashes, auth0_json, auth0_roles, dump, firebase_csv, firebase_json,
    json_records, mapping, okta_csv, okta_json, okta_memberships, open_input, password_hash,
    plant_of,
};

/// One fuzz target: its name on the command line, the function, and where its seeds come
/// from.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]) -> Summary,
    /// Seed files, relative to the workspace root (samples, mappings).
    pub samples: &'static [&'static str],
    /// Seed files relative to the shared fixtures folder, used when it exists.
    pub fixtures: &'static [&'static str],
    /// Small hand-written seeds, with planted secrets where the format carries hashes.
    pub builtin: fn() -> Vec<Vec<u8>>,
    /// Tokens the mutator likes to insert for this format.
    pub dictionary: &'static [&'static [u8]],
}

const JSON_DICT: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"null",
    b"true",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"\"users\":[",
    b"{\"users\": [",
    b"\n{",
    b"\r\n",
    b"\"\":",
    b"{}",
    b"[]",
];
const CSV_DICT: &[&[u8]] = &[
    b"\"", b",", b"\"\"", b"\n", b"\r\n", b"\r", b",,,,", b"\"a,b\"", b"'", b"\t", b"null", b"[]",
    b"{", b"=cmd", b"\"\n\"",
];
const TOML_DICT: &[&[u8]] = &[
    b"[",
    b"]",
    b"[[",
    b"]]",
    b"=",
    b"\"",
    b"'",
    b"'''",
    b"\"\"\"",
    b"#",
    b"\n",
    b"{",
    b"}",
    b",",
    b"true",
    b"1979-05-27T07:32:00Z",
    b"inf",
    b"nan",
    b"0x7fffffffffffffff",
    b"\\u0000",
    b"env:",
    b"[passwords.firebase]\n",
    b"[[roles.rules]]\n",
    b"[[filters]]\n",
    b"source = ",
    b"{ field = \"email\", exists = false }",
    b"constant(",
    b"regex(",
];
const HASH_DICT: &[&[u8]] = &[
    b"$",
    b"$2b$",
    b"$2a$04$",
    b"$argon2id$",
    b"v=19$",
    b"m=",
    b",t=",
    b",p=",
    b"$pbkdf2-sha256$",
    b"i=",
    b",l=",
    b"=",
    b"==",
    b".",
    b"/",
    b"+",
    b"4294967295",
    b"2147483648",
    b"0",
];

/// Every target, in the order `--target all` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "json-records",
        run: json_records,
        samples: &[
            "samples/okta/users.json",
            "samples/auth0/users.ndjson.gz",
            "samples/auth0/password-hashes.ndjson",
            "samples/auth0/roles.json",
            "samples/firebase/users.json",
            "samples/firebase/emulator-accounts.json",
        ],
        fixtures: &[
            "auth0/go-auth0-recordings-mgmt-api.json",
            "auth0/derived_clerk-auth0-password-export.ndjson",
            "okta/okta-openapi-examples-users.json",
            "firebase/faker_app_flutter_firebase_emulator-accounts.json",
        ],
        builtin: seeds::json_records,
        dictionary: JSON_DICT,
    },
    Target {
        name: "open-input",
        run: open_input,
        samples: &["samples/auth0/users.ndjson.gz", "samples/okta/users.csv"],
        fixtures: &[],
        builtin: seeds::open_input,
        dictionary: JSON_DICT,
    },
    Target {
        name: "okta-csv",
        run: okta_csv,
        samples: &[
            "samples/okta/users.csv",
            "samples/okta/users-api-columns.csv",
        ],
        fixtures: &["okta/derived_rockstar-style_export-users.csv"],
        builtin: seeds::okta_csv,
        dictionary: CSV_DICT,
    },
    Target {
        name: "okta-json",
        run: okta_json,
        samples: &["samples/okta/users.json"],
        fixtures: &[
            "okta/okta-openapi-examples-users.json",
            "okta/okta-terraform-provider-vcr-users.json",
            "okta/derived_okta-terraform-vcr_users-list.json",
        ],
        builtin: seeds::okta_json,
        dictionary: JSON_DICT,
    },
    Target {
        name: "okta-memberships",
        run: okta_memberships,
        samples: &["samples/okta/group-memberships.csv"],
        fixtures: &[
            "okta/derived_rockstar-style_export-group-members.csv",
            "okta/okta-terraform-vcr_group-members-response.json",
            "okta/okta-terraform-vcr_user-groups-response.json",
        ],
        builtin: seeds::okta_memberships,
        dictionary: CSV_DICT,
    },
    Target {
        name: "auth0-json",
        run: auth0_json,
        samples: &["samples/auth0/users.ndjson.gz"],
        fixtures: &[
            "auth0/auth0-docs_user-profile-examples.json",
            "auth0/LogtoMigrationTools_auth0-users.json",
            "auth0/go-auth0-recordings-mgmt-api.json",
        ],
        builtin: seeds::auth0_json,
        dictionary: JSON_DICT,
    },
    Target {
        name: "auth0-csv",
        run: auth0_csv,
        samples: &["samples/auth0/users.csv"],
        fixtures: &[],
        builtin: seeds::auth0_csv,
        dictionary: CSV_DICT,
    },
    Target {
        name: "auth0-hashes",
        run: auth0_hashes,
        samples: &["samples/auth0/password-hashes.ndjson"],
        fixtures: &[
            "auth0/derived_clerk-auth0-password-export.ndjson",
            "auth0/clerk-migration-script_auth0-password-export.json",
        ],
        builtin: seeds::auth0_hashes,
        dictionary: JSON_DICT,
    },
    Target {
        name: "auth0-roles",
        run: auth0_roles,
        samples: &["samples/auth0/roles.json"],
        fixtures: &["auth0/auth0-docs_authorization-extension-export.json"],
        builtin: seeds::auth0_roles,
        dictionary: JSON_DICT,
    },
    Target {
        name: "firebase-json",
        run: firebase_json,
        samples: &[
            "samples/firebase/users.json",
            "samples/firebase/emulator-accounts.json",
        ],
        fixtures: &[
            "firebase/redacted_chrisvogt-metrics_auth-export.json",
            "firebase/redacted_weevi1-hr-disciplinary-system_auth-export.json",
            "firebase/redacted_stellarminds-be-migration_firebase-users.json",
            "firebase/alrossell-demo-data_emulator-accounts.json",
        ],
        builtin: seeds::firebase_json,
        dictionary: JSON_DICT,
    },
    Target {
        name: "firebase-csv",
        run: firebase_csv,
        samples: &[
            "samples/firebase/users.csv",
            "samples/firebase/users-2019.csv",
        ],
        fixtures: &[
            "firebase/firebase-tools-spec_expected-export-v15.csv",
            "firebase/firebase-scrypt-readme_users-legacy-2017.csv",
        ],
        builtin: seeds::firebase_csv,
        dictionary: CSV_DICT,
    },
    Target {
        name: "password-hash",
        run: password_hash,
        samples: &[],
        fixtures: &[],
        builtin: seeds::password_hash,
        dictionary: HASH_DICT,
    },
    Target {
        name: "mapping",
        run: mapping,
        samples: &[
            "mappings/okta.toml",
            "mappings/auth0.toml",
            "mappings/firebase.toml",
        ],
        fixtures: &[],
        builtin: seeds::mapping,
        dictionary: TOML_DICT,
    },
];

/// An open bug in a crate this crate does not own, recognised by its panic message so that
/// long fuzz runs and the property tests look past it (its reproducer and ignored test live
/// in `regressions/` and `tests/regressions.rs`). Remove the entry once the owner fixes it.
#[derive(Debug)]
pub struct KnownBug {
    /// Targets that reach the bug.
    pub targets: &'static [&'static str],
    /// Texts that all appear in the panic message.
    pub message: &'static [&'static str],
    pub owner: &'static str,
    pub what: &'static str,
}

pub const KNOWN_BUGS: &[KnownBug] = &[];

/// The known bug a panic of `target` with this message is, if any.
pub fn known_bug(target: &str, message: &str) -> Option<&'static KnownBug> {
    KNOWN_BUGS
        .iter()
        .find(|b| b.targets.contains(&target) && b.message.iter().all(|m| message.contains(m)))
}

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
