//! Seed corpora: small hand-written inputs per target (with a planted password hash where
//! the format carries hashes) plus the repository's samples and, when present, the shared
//! third-party fixtures.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::check::NEEDLE;
use crate::hashgen;
use crate::Target;

/// A bcrypt string (cost 10, 22 salt + 31 hash characters) made of the marker.
pub const BCRYPT_PLANT: &str = "$2b$10$FuzzPlantedSecretSaltXFuzzPlantedSecretHashABCDEFGHIJ";
/// Canonical base64 of 64 bytes that starts with the marker (a Firebase hash or signer key).
pub const B64_PLANT: &str =
    "FuzzPlantedSecretAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
/// Canonical base64 of 17 bytes that starts with the marker (a salt).
pub const SALT_PLANT: &str = "FuzzPlantedSecretSaltAA=";

/// The workspace root (where `samples/` and `mappings/` live).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/fixtures` beside the workspace, when it exists.
pub fn shared_fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    dir.is_dir().then_some(dir)
}

/// Every seed of `target`: built-in ones first, then samples and fixtures that exist
/// (gzipped files also decompressed, so both layers get mutated).
pub fn load(target: &Target) -> Vec<Vec<u8>> {
    let mut seeds = (target.builtin)();
    let root = workspace_root();
    let mut files: Vec<PathBuf> = target.samples.iter().map(|s| root.join(s)).collect();
    if let Some(fixtures) = shared_fixtures() {
        files.extend(target.fixtures.iter().map(|f| fixtures.join(f)));
        if target.name == "password-hash" {
            files.push(fixtures.join("hash-vectors.json"));
        }
    }
    for path in files {
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        if target.name == "password-hash" {
            seeds.extend(hash_strings(&data).iter().map(|s| hashgen::encoded_seed(s)));
            continue;
        }
        if data.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            if flate2::read::MultiGzDecoder::new(&data[..])
                .read_to_end(&mut plain)
                .is_ok()
            {
                seeds.push(plain);
            }
        }
        seeds.push(data);
    }
    seeds
}

/// Every string value starting with `$` in a JSON document (the hash vectors).
fn hash_strings(json: &[u8]) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) if s.starts_with('$') => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            serde_json::Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(json) {
        walk(&v, &mut out);
    }
    out
}

/// Gzip `data` (for seeds and the gzip-wrapping mutation).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

fn seeds(list: &[&str]) -> Vec<Vec<u8>> {
    list.iter().map(|s| s.as_bytes().to_vec()).collect()
}

pub fn json_records() -> Vec<Vec<u8>> {
    let mut out = seeds(&[
        "[{\"a\":1},{\"b\":\"x\\\"y}\"}]",
        "{\"kind\":\"k\",\"users\":[{\"id\":1},\n{\"id\":2}],\"nextPageToken\":\"t\"}",
        "{\"a\":1}\n{\"b\":[2,{\"c\":null}]}\r\n\n{\"d\":\"\\u00e9\"}\n",
        "{\n  \"a\": 1\n}\n{\n  \"b\": {\n    \"c\": 2\n  }\n}\n",
        "[\n  {\n    \"a\": 1\n  },\n  {\n    \"a\": 2\n  }\n]\n",
        "{\"a\":[[[[[[[[[[{}]]]]]]]]]]}",
    ]);
    out.push(gzip(b"{\"a\":1}\n{\"a\":2}\n"));
    out
}

pub fn open_input() -> Vec<Vec<u8>> {
    let mut out = seeds(&["\u{feff}{\"a\":1}\n", "", "  \n"]);
    out.push(b"\xff\xfe{\x00}\x00".to_vec());
    out.push(gzip("\u{feff}[{\"a\":1}]".as_bytes()));
    out
}

/// Okta user CSV with the (never read) password column holding the marker.
pub const OKTA_PASSWORD_COLUMN: usize = 6;

pub fn okta_csv() -> Vec<Vec<u8>> {
    vec![
        format!(
            "id,status,login,email,firstName,lastName,credentials.password.value,department,created\n\
             00u1,ACTIVE,ada@x.io,ada@x.io,Ada,Lovelace,{B64_PLANT},R&D,2021-03-01T09:15:00.000Z\n\
             00u2,Pending user action,bob,,Bob,\"Smith Jr\",{B64_PLANT},\"multi, \nline\",2021-03-01\r\n\
             00u3,Deactivated,carol,c@x.io,,,{B64_PLANT},,\n"
        )
        .into_bytes(),
        "\u{feff}User Id,Status,Username,Primary email,Display name,Created,Last login\r\n\
         \"00u9\",\"Active\",\"dan@x.io\",\"dan@x.io\",\"Dan \"\"D\"\" Dee\",\"2023-11-02T14:00:00.000Z\",\"\"\r\n"
            .as_bytes()
            .to_vec(),
        b"profile.login,profile.email,profile.customAttr\nx,x@x.io,\"[1,2]\"\n".to_vec(),
    ]
}

pub fn okta_json() -> Vec<Vec<u8>> {
    vec![format!(
        "[{{\"id\":\"00u1\",\"status\":\"ACTIVE\",\"created\":\"2021-01-01T00:00:00.000Z\",\
         \"lastLogin\":null,\"profile\":{{\"login\":\"a@x.io\",\"email\":\"a@x.io\",\"firstName\":\"A\",\
         \"nums\":[1,2],\"obj\":{{\"k\":true}}}},\"credentials\":{{\"password\":{{\"value\":\"{B64_PLANT}\"}},\
         \"emails\":[{{\"value\":\"a@x.io\",\"status\":\"VERIFIED\",\"type\":\"PRIMARY\"}}],\
         \"provider\":{{\"type\":\"OKTA\",\"name\":\"OKTA\"}}}},\"_links\":{{}}}},\n\
         {{\"id\":\"00u2\",\"status\":\"SUSPENDED\",\"profile\":{{\"login\":\"b\"}},\"credentials\":{{\"password\":\
         {{\"hash\":{{\"algorithm\":\"BCRYPT\",\"workFactor\":10,\"salt\":\"{SALT_PLANT}\",\"value\":\"{B64_PLANT}\"}}}},\
         \"provider\":{{\"type\":\"IMPORT\",\"name\":\"IMPORT\"}}}}}}]\n"
    )
    .into_bytes()]
}

pub fn okta_memberships() -> Vec<Vec<u8>> {
    seeds(&[
        "group,login\nEngineering,ada@x.io\nSales,bob\nEngineering,carol\n",
        "Group Name,Group Id,Primary email,User Id\n\"Eng, West\",00g1,ada@x.io,00u1\n",
        "id,login,firstName,lastName,status\n00u1,ada@x.io,Ada,L,ACTIVE\n",
        "[{\"id\":\"00u1\",\"profile\":{\"login\":\"ada@x.io\",\"email\":\"ada@x.io\"}},\
         {\"id\":\"00g1\",\"type\":\"OKTA_GROUP\",\"profile\":{\"name\":\"Eng\",\"description\":\"d\"}}]",
    ])
}

/// The users file the membership target reads beside the fuzzed membership file.
pub const OKTA_MEMBERSHIP_USERS: &str =
    "id,login,email\n00u1,ada@x.io,ada@x.io\n00u2,bob,bob@x.io\n";

pub fn auth0_json() -> Vec<Vec<u8>> {
    vec![
        format!(
            "{{\"user_id\":\"auth0|u1\",\"email\":\"a@x.io\",\"email_verified\":\"true\",\"password_hash\":\"{BCRYPT_PLANT}\",\
             \"created_at\":\"2021-03-14T09:26:53.589Z\",\"identities\":[{{\"provider\":\"auth0\",\"user_id\":\"u1\",\
             \"connection\":\"Username-Password-Authentication\",\"isSocial\":false}}],\"app_metadata\":{{\"roles\":[\"admin\"]}}}}\n\
             {{\"user_id\":\"google-oauth2|123\",\"blocked\":true,\"identities\":[{{\"provider\":\"google-oauth2\",\"user_id\":123,\
             \"access_token\":\"{B64_PLANT}\",\"profileData\":{{\"email\":\"g@x.io\"}}}}],\"custom_password_hash\":{{\"algorithm\":\"bcrypt\",\
             \"hash\":{{\"value\":\"{BCRYPT_PLANT}\"}}}}}}\n"
        )
        .into_bytes(),
        b"{\"start\":0,\"limit\":50,\"length\":1,\"total\":1,\"users\":[{\"user_id\":\"samlp|c|x@y.z\",\"last_login\":\"bad\"}]}"
            .to_vec(),
        gzip(b"[{\"user_id\":\"auth0|1\"},{\"user_id\":7}]"),
    ]
}

/// Column of `password_hash` in the Auth0 CSV seed.
pub const AUTH0_CSV_HASH_COLUMN: usize = 3;

pub fn auth0_csv() -> Vec<Vec<u8>> {
    vec![
        format!(
            "user_id,email,email_verified,password_hash,given_name,user_metadata.theme,app_metadata.plan,department\n\
             'auth0|u1,'a@x.io,true,{BCRYPT_PLANT},'Ann,'dark,'pro,Sales\n\
             \"'auth0|u2\",\"'b@x.io\",false,,\"'Bo, Jr\",,,\n"
        )
        .into_bytes(),
        b"Id\tGiven Name\tFamily Name\tEmail\tCreated At\nauth0|9\tZ\tY\tz@x.io\t2021-01-01T00:00:00Z\n".to_vec(),
    ]
}

pub fn auth0_hashes() -> Vec<Vec<u8>> {
    vec![format!(
        "{{\"_id\":{{\"$oid\":\"64b0c1a2e4f5a6b7c8d9e0f1\"}},\"email\":\"a@x.io\",\"passwordHash\":\"{BCRYPT_PLANT}\",\
         \"connection\":\"Username-Password-Authentication\",\"identifiers\":[{{\"type\":\"email\",\"value\":\"a@x.io\"}}]}}\n\
         {{\"_id\":{{\"$oid\":\"64b0c1a2e4f5a6b7c8d9e0f2\"}},\"alt_id\":\"legacy-2\",\"passwordHash\":\"{BCRYPT_PLANT}\"}}\n\
         {{\"_id\":{{\"$oid\":\"64b0c1a2e4f5a6b7c8d9e0f3\"}},\"identifiers\":[{{\"type\":\"email\",\"value\":\"c@x.io\"}}],\
         \"passwordHash\":\"$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHQ$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}}\n"
    )
    .into_bytes()]
}

/// The users file the hash and roles targets read beside the fuzzed file.
pub const AUTH0_USERS: &str = "{\"user_id\":\"auth0|64b0c1a2e4f5a6b7c8d9e0f1\",\"email\":\"a@x.io\"}\n\
    {\"user_id\":\"auth0|legacy-2\",\"email\":\"b@x.io\"}\n\
    {\"user_id\":\"auth0|u3\",\"email\":\"c@x.io\",\"identities\":[{\"provider\":\"auth0\",\"user_id\":\"u3\",\"connection\":\"Username-Password-Authentication\"}]}\n";

pub fn auth0_roles() -> Vec<Vec<u8>> {
    seeds(&[
        "{\"roles\":[{\"id\":\"rol_1\",\"name\":\"editor\",\"description\":\"d\",\"users\":[\"auth0|u3\",\
         {\"user_id\":\"auth0|legacy-2\",\"email\":\"b@x.io\"},{\"email\":\"c@x.io\"}]},{\"name\":\"viewer\",\"members\":[]}]}",
        "{\"groups\":[{\"_id\":\"g1\",\"name\":\"Eng\",\"members\":[\"auth0|u3\"],\"roles\":[\"r1\"],\"nested\":[\"g2\"]},\
         {\"_id\":\"g2\",\"name\":\"Backend\",\"members\":[]}],\"roles\":[{\"_id\":\"r1\",\"name\":\"dev\",\"applicationId\":\"a\"}],\
         \"permissions\":[],\"configuration\":[]}",
    ])
}

pub fn firebase_json() -> Vec<Vec<u8>> {
    vec![format!(
        "{{\"users\": [\r\n{{\"localId\":\"fz1\",\"email\":\"a@x.io\",\"emailVerified\":true,\"passwordHash\":\"{B64_PLANT}\",\
         \"salt\":\"{SALT_PLANT}\",\"displayName\":\"A B\",\"createdAt\":\"1704100000456\",\"lastSignedInAt\":\"1736942400123\",\
         \"disabled\":false,\"customAttributes\":\"{{\\\"role\\\":\\\"admin\\\"}}\",\"providerUserInfo\":[{{\"providerId\":\
         \"google.com\",\"rawId\":\"123\",\"email\":\"a@x.io\",\"displayName\":\"A\"}}]}},\r\n\
         {{\"localId\":\"fz2\",\"phoneNumber\":\"+15550100\",\"passwordHash\":\"UkVEQUNURUQ=\",\"salt\":\"c2FsdA==\"}}\r\n]}}"
    )
    .into_bytes()]
}

pub fn firebase_csv() -> Vec<Vec<u8>> {
    let mut row = vec![String::new(); 52];
    let set = |row: &mut Vec<String>, i: usize, v: &str| {
        if let Some(cell) = row.get_mut(i) {
            *cell = v.to_string();
        }
    };
    set(&mut row, 0, "fzuid1");
    set(&mut row, 1, "jane@x.io");
    set(&mut row, 2, "true");
    set(&mut row, 3, B64_PLANT);
    set(&mut row, 4, SALT_PLANT);
    set(&mut row, 5, "\"Doe, Jane\"");
    set(&mut row, 7, "1234");
    set(&mut row, 8, "jane@gmail.example");
    set(&mut row, 23, "1704100000456");
    set(&mut row, 24, "1736942400123");
    set(&mut row, 26, "false");
    set(&mut row, 27, "\"{\"\"role\"\":\"\"admin\"\"}\"");
    let modern = format!("{},\n", row.join(","));
    // The 2019 layout: 28 columns, customAttributes raw and unquoted.
    let old = format!(
        "fzuid2,old@x.io,false,{B64_PLANT},{SALT_PLANT},Old Name,,,,,,,,,,,,,,,,,,1704100000456,,+15550100,false,{{\"a\":1,\"b\":2}},\r\n"
    );
    vec![format!("{modern}{old}").into_bytes(), modern.into_bytes()]
}

pub fn password_hash() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [
        BCRYPT_PLANT,
        "$2a$04$FuzzPlantedSecretSaltXFuzzPlantedSecretHashABCDEFGHIJ",
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        "$argon2i$m=16,t=2,p=1$FuzzPlantedSecret$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHQ$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "$pbkdf2$i=10$FuzzPlantedSecret$AAECAwQFBgcI",
        "$1$FuzzPlantedSecret$def",
        "5f4dcc3b5aa765d61d8327deb882cf99",
        "",
    ]
    .iter()
    .map(|s| hashgen::encoded_seed(s))
    .collect();
    out.push(hashgen::pbkdf2_seed(2, 100, b"saltsalt", &[7; 32]));
    out.push(hashgen::digest_seed(1, 0, b"", &[1; 20]));
    out.push(hashgen::digest_seed(3, 3, b"pepper", &[2; 64]));
    out.push(hashgen::firebase_seed(B64_PLANT, SALT_PLANT));
    out.push(hashgen::firebase_seed("UkVEQUNURUQ=", "c2FsdA=="));
    out.push(hashgen::raw_seed(hashgen::BCRYPT_RAW, BCRYPT_PLANT));
    out.push(hashgen::raw_seed(
        hashgen::ARGON2_RAW,
        "$argon2d$v=16$m=8,t=1,p=1$FuzzPlantedSecret$FuzzPlantedSecretAA",
    ));
    out.push(hashgen::raw_seed(hashgen::UNKNOWN_RAW, NEEDLE));
    out
}

pub fn mapping() -> Vec<Vec<u8>> {
    vec![
        b"source = \"okta\"\nrealm = \"r\"\n".to_vec(),
        format!(
            "source = \"firebase\"\nrealm = \"acme\"\n\n[passwords]\nproviders = [\"firebase-scrypt\"]\n\n\
             [passwords.firebase]\nsigner_key = \"{B64_PLANT}\"\nsalt_separator = \"Bw==\"\nrounds = 8\nmem_cost = 14\n"
        )
        .into_bytes(),
        b"source = \"auth0\"\nrealm = \"r\"\n[username]\nfrom = [\"username\", \"{email}\"]\n\
          [[attributes.map]]\nfrom = \"app_metadata.plan\"\nto = \"plan\"\ntransforms = [\"trim\", \"lowercase\"]\n\
          [[filters]]\nname = \"f\"\nexclude = { any = [{ field = \"email\", matches = \"^x\" }] }\n"
            .to_vec(),
    ]
}
