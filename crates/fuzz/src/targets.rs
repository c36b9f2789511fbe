//! The fuzz targets: bytes in, everything drained, invariants asserted (see the crate docs).
//!
//! Source targets also push every item through a [`Transformer`] built from the matching
//! `mappings/<source>.toml`, so the transform stage sees hostile records too and its
//! accounting identity (every record read is accounted for) is checked.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use kcm_credentials::{
    provider_for, to_credential, verify, FirebaseScryptParams, HashCapabilities,
};
use kcm_model::{PasswordHash, Provenance, Secret, SourceItem, SourceKind, SourceResult, User};
use kcm_source_io::{Input, JsonRecords, ReadOptions, SourceError, SourceInputs, SourceStream};
use kcm_transform::{Mapping, Outcome, TransformOptions, Transformer};

use crate::check::{self, InputFile, Plant, SourceCheck, Summary, NEEDLE};
use crate::{hashgen, scratch, seeds};

/// Record size limit for source targets: small enough that mutated inputs reach it.
const MAX_RECORD_BYTES: usize = 64 * 1024;
/// A second, tiny limit the JSON splitter is also run with.
const SMALL_MAX_RECORD_BYTES: usize = 256;
/// Wrapper key the JSON splitter is given (the one every source uses).
const WRAPPER_KEYS: [&str; 1] = ["users"];

type ReadFn = fn(&SourceInputs, &ReadOptions) -> Result<SourceStream, SourceError>;

const OKTA_CSV_PLANT: Plant = Plant::CsvColumns {
    columns: &[seeds::OKTA_PASSWORD_COLUMN],
    header: Some("credentials.password.value"),
    whole_lines: false,
};
const OKTA_JSON_PLANT: Plant = Plant::JsonAfter(&[
    "\"credentials\":{\"password\":{\"value\":\"",
    "\"credentials\":{\"password\":{\"hash\":{\"algorithm\":\"BCRYPT\",\"workFactor\":10,\"salt\":\"",
    "\"workFactor\":10,\"salt\":\"FuzzPlantedSecretSaltAA=\",\"value\":\"",
]);
const AUTH0_JSON_PLANT: Plant = Plant::JsonAfter(&[
    "{\"user_id\":\"auth0|u1\",\"email\":\"a@x.io\",\"email_verified\":\"true\",\"password_hash\":\"",
    "\"identities\":[{\"provider\":\"google-oauth2\",\"user_id\":123,\"access_token\":\"",
    "\"custom_password_hash\":{\"algorithm\":\"bcrypt\",\"hash\":{\"value\":\"",
]);
const AUTH0_CSV_PLANT: Plant = Plant::CsvColumns {
    columns: &[seeds::AUTH0_CSV_HASH_COLUMN],
    header: Some("password_hash"),
    whole_lines: false,
};
const AUTH0_HASHES_PLANT: Plant = Plant::JsonAfter(&["\"passwordHash\":\""]);
const FIREBASE_JSON_PLANT: Plant = Plant::JsonAfter(&[
    "^{\"users\": [\r\n{\"localId\":\"fz1\",\"email\":\"a@x.io\",\"emailVerified\":true,\"passwordHash\":\"",
    "^{\"users\": [\r\n{\"localId\":\"fz1\",\"email\":\"a@x.io\",\"emailVerified\":true,\"passwordHash\":\"FuzzPlantedSecretAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\",\"salt\":\"",
]);
const FIREBASE_CSV_PLANT: Plant = Plant::CsvColumns {
    columns: &[3, 4],
    header: None,
    whole_lines: true,
};
const MAPPING_PLANT: Plant = Plant::TomlKeys(&["signer_key", "salt_separator"]);

/// Where the seeds of `target` plant the marker ([`Plant::Nowhere`] for formats without
/// secrets); for the source targets, the fuzzed file's plant.
pub fn plant_of(target: &str) -> Plant {
    match target {
        "mapping" => MAPPING_PLANT,
        "password-hash" => Plant::Anywhere,
        _ => source_setup(target, &[]).map_or(Plant::Nowhere, |s| s.fuzzed.plant),
    }
}

/// The sample mapping of a source, compiled once per process (`None` when absent).
fn sample_mapping(kind: SourceKind) -> Option<Mapping> {
    static MAPPINGS: OnceLock<BTreeMap<SourceKind, Mapping>> = OnceLock::new();
    MAPPINGS
        .get_or_init(|| {
            [SourceKind::Okta, SourceKind::Auth0, SourceKind::Firebase]
                .into_iter()
                .filter_map(|k| {
                    let path =
                        seeds::workspace_root().join(format!("mappings/{}.toml", k.as_str()));
                    Mapping::from_path(path).ok().map(|m| (k, m))
                })
                .collect()
        })
        .get(&kind)
        .cloned()
}

/// Push one source result through the transformer and check the outcome count.
fn transform_one(tx: &mut Transformer, check: &SourceCheck, r: SourceResult) {
    let membership = matches!(r, Ok(SourceItem::Membership(_)));
    let outcomes = tx.push(r);
    let expected = usize::from(!membership);
    assert_eq!(
        outcomes.len(),
        expected,
        "the transformer returned {} outcomes for one source item",
        outcomes.len()
    );
    for o in &outcomes {
        if let Outcome::Rejected(rej) = o {
            check.no_secret("a transform Rejection message", &rej.message);
        }
    }
}

/// Run a source's `read` over the given inputs, check every item, transform them all.
fn drain(
    read: ReadFn,
    kind: SourceKind,
    inputs: &SourceInputs,
    files: &[InputFile<'_>],
) -> Summary {
    let mut check = SourceCheck::new(files);
    let opts = ReadOptions {
        max_record_bytes: MAX_RECORD_BYTES,
    };
    let mut tx = sample_mapping(kind).map(|m| Transformer::new(m, TransformOptions::default()));
    match read(inputs, &opts) {
        Err(e) => check.source_error(&e),
        Ok(stream) => {
            for r in stream {
                check.result(&r);
                if let Some(tx) = tx.as_mut() {
                    transform_one(tx, &check, r);
                }
            }
        }
    }
    if let Some(tx) = tx {
        let (outcomes, summary) = tx.finish();
        for o in &outcomes {
            if let Outcome::Rejected(rej) = o {
                check.no_secret("a transform Rejection message", &rej.message);
            }
        }
        assert!(
            summary.is_balanced(),
            "transform accounting is off: read {} but accounted {}",
            summary.records_read,
            summary.accounted()
        );
    }
    check.summary
}

/// One file of a source run: scratch name, content, where its secrets are.
struct RunFile<'a> {
    name: &'static str,
    data: &'a [u8],
    plant: Plant,
    role: Role,
}

/// Which `SourceInputs` slot a file goes to.
#[derive(Clone, Copy)]
enum Role {
    Users,
    Hashes,
    Roles,
    Memberships,
}

/// The source, sample mapping and files a source target runs with.
struct SourceSetup<'a> {
    read: ReadFn,
    kind: SourceKind,
    /// Files the target always reads beside the fuzzed one.
    fixed: Vec<RunFile<'static>>,
    fuzzed: RunFile<'a>,
}

/// A scratch file written for a run: path, content, where its secrets are.
type WrittenFile<'a> = (PathBuf, &'a [u8], Plant);

fn source_setup<'a>(target: &str, data: &'a [u8]) -> Option<SourceSetup<'a>> {
    let fuzzed = |name, plant, role| RunFile {
        name,
        data,
        plant,
        role,
    };
    let fixed = |name, text: &'static str, role| RunFile {
        name,
        data: text.as_bytes(),
        plant: Plant::Nowhere,
        role,
    };
    let okta: ReadFn = kcm_source_okta::read;
    let auth0: ReadFn = kcm_source_auth0::read;
    let firebase: ReadFn = kcm_source_firebase::read;
    let (read, kind, fixed, fuzzed) = match target {
        "okta-csv" => (
            okta,
            SourceKind::Okta,
            vec![],
            fuzzed("okta-users.csv", OKTA_CSV_PLANT, Role::Users),
        ),
        "okta-json" => (
            okta,
            SourceKind::Okta,
            vec![],
            fuzzed("okta-users.json", OKTA_JSON_PLANT, Role::Users),
        ),
        "okta-memberships" => (
            okta,
            SourceKind::Okta,
            vec![fixed(
                "okta-members-users.csv",
                seeds::OKTA_MEMBERSHIP_USERS,
                Role::Users,
            )],
            fuzzed("Engineering.csv", Plant::Nowhere, Role::Memberships),
        ),
        "auth0-json" => (
            auth0,
            SourceKind::Auth0,
            vec![],
            fuzzed("auth0-users.json", AUTH0_JSON_PLANT, Role::Users),
        ),
        "auth0-csv" => (
            auth0,
            SourceKind::Auth0,
            vec![],
            fuzzed("auth0-users.csv", AUTH0_CSV_PLANT, Role::Users),
        ),
        "auth0-hashes" => (
            auth0,
            SourceKind::Auth0,
            vec![fixed(
                "auth0-hash-users.ndjson",
                seeds::AUTH0_USERS,
                Role::Users,
            )],
            fuzzed("auth0-hashes.ndjson", AUTH0_HASHES_PLANT, Role::Hashes),
        ),
        "auth0-roles" => (
            auth0,
            SourceKind::Auth0,
            vec![fixed(
                "auth0-role-users.ndjson",
                seeds::AUTH0_USERS,
                Role::Users,
            )],
            fuzzed("auth0-roles.json", Plant::Nowhere, Role::Roles),
        ),
        "firebase-json" => (
            firebase,
            SourceKind::Firebase,
            vec![],
            fuzzed("firebase-users.json", FIREBASE_JSON_PLANT, Role::Users),
        ),
        "firebase-csv" => (
            firebase,
            SourceKind::Firebase,
            vec![],
            fuzzed("firebase-users.csv", FIREBASE_CSV_PLANT, Role::Users),
        ),
        _ => return None,
    };
    Some(SourceSetup {
        read,
        kind,
        fixed,
        fuzzed,
    })
}

/// Write the files of a source target and build its inputs.
fn source_files<'a>(
    fixed: &[RunFile<'static>],
    fuzzed: &RunFile<'a>,
) -> (SourceInputs, Vec<WrittenFile<'a>>) {
    let mut inputs = SourceInputs::default();
    let mut files = Vec::new();
    let all = fixed
        .iter()
        .map(|f| (f.name, f.data, f.plant, f.role))
        .chain(std::iter::once((
            fuzzed.name,
            fuzzed.data,
            fuzzed.plant,
            fuzzed.role,
        )));
    for (name, data, plant, role) in all {
        let path = scratch::file(name, data);
        match role {
            Role::Users => inputs.users.push(path.clone()),
            Role::Hashes => inputs.hashes = Some(path.clone()),
            Role::Roles => inputs.roles = Some(path.clone()),
            Role::Memberships => inputs.memberships = Some(path.clone()),
        }
        files.push((path, data, plant));
    }
    (inputs, files)
}

fn run_source(target: &str, data: &[u8]) -> Summary {
    let Some(setup) = source_setup(target, data) else {
        panic!("{target} is not a source target");
    };
    let (inputs, files) = source_files(&setup.fixed, &setup.fuzzed);
    let files: Vec<InputFile<'_>> = files
        .iter()
        .map(|(path, data, plant)| InputFile {
            path,
            data,
            plant: *plant,
        })
        .collect();
    drain(setup.read, setup.kind, &inputs, &files)
}

/// What a source target's parser yields for `data`, one line per item (`None` for targets
/// that are not sources). For looking at crash inputs: `kcm-fuzz --replay FILE --dump`.
pub fn dump(target: &str, data: &[u8]) -> Option<Vec<String>> {
    let setup = source_setup(target, data)?;
    let (inputs, _) = source_files(&setup.fixed, &setup.fuzzed);
    let opts = ReadOptions {
        max_record_bytes: MAX_RECORD_BYTES,
    };
    Some(match (setup.read)(&inputs, &opts) {
        Err(e) => vec![format!("fatal: {e}")],
        Ok(stream) => stream
            .map(|r| match r {
                Ok(SourceItem::User(u)) => format!("user {} at {}", u.source_id, u.provenance),
                Ok(item) => format!("{} at {}", item_kind(&item), item.provenance()),
                Err(e) => format!("error {e}"),
            })
            .collect(),
    })
}

fn item_kind(item: &SourceItem) -> &'static str {
    match item {
        SourceItem::User(_) => "user",
        SourceItem::Role(_) => "role",
        SourceItem::Group(_) => "group",
        SourceItem::Membership(_) => "membership",
        SourceItem::Merged { .. } => "merged",
    }
}

/// Okta user CSV (or whatever the bytes sniff as) through `kcm_source_okta::read`.
pub fn okta_csv(data: &[u8]) -> Summary {
    run_source("okta-csv", data)
}

/// Okta Users API JSON through `kcm_source_okta::read`.
pub fn okta_json(data: &[u8]) -> Summary {
    run_source("okta-json", data)
}

/// An Okta group-membership file (CSV or JSON) beside a fixed users file.
pub fn okta_memberships(data: &[u8]) -> Summary {
    run_source("okta-memberships", data)
}

/// Auth0 users JSON/NDJSON through `kcm_source_auth0::read`.
pub fn auth0_json(data: &[u8]) -> Summary {
    run_source("auth0-json", data)
}

/// Auth0 users CSV through `kcm_source_auth0::read`.
pub fn auth0_csv(data: &[u8]) -> Summary {
    run_source("auth0-csv", data)
}

/// An Auth0 password-hash export merged into a fixed users file.
pub fn auth0_hashes(data: &[u8]) -> Summary {
    run_source("auth0-hashes", data)
}

/// An Auth0 roles file (or Authorization Extension export) beside a fixed users file.
pub fn auth0_roles(data: &[u8]) -> Summary {
    run_source("auth0-roles", data)
}

/// Firebase `auth:export` / emulator JSON through `kcm_source_firebase::read`.
pub fn firebase_json(data: &[u8]) -> Summary {
    run_source("firebase-json", data)
}

/// Firebase header-less CSV through `kcm_source_firebase::read`.
pub fn firebase_csv(data: &[u8]) -> Summary {
    run_source("firebase-csv", data)
}

/// What one pass of the JSON splitter yielded, without the file name.
type Splits = Vec<Result<(String, u64, u64), (u64, u64, String, String)>>;

/// `JsonRecords` over the bytes (gzip and BOM handled by `Input::from_reader`), with a
/// normal and a tiny record size limit; every record is also parsed with `RawRecord::parse`.
pub fn json_records(data: &[u8]) -> Summary {
    let mut summary = Summary::default();
    for max in [
        kcm_source_io::DEFAULT_MAX_RECORD_BYTES,
        SMALL_MAX_RECORD_BYTES,
    ] {
        let input = match Input::from_reader("fuzz.json", Cursor::new(data.to_vec())) {
            Ok(input) => input,
            Err(e) => {
                summary.feature("open-error", &e.to_string());
                return summary;
            }
        };
        split(input, data, max, &mut summary);
    }
    summary
}

/// Drain a splitter, asserting its invariants; returns what it yielded.
fn split(input: Input, data: &[u8], max: usize, summary: &mut Summary) -> Splits {
    let path = input.path.clone();
    let content = check::content(data);
    let max_line = content.known().map(check::max_line);
    let max_items = content
        .known()
        .map_or(usize::MAX - check::ITEM_SLACK, <[u8]>::len)
        .max(data.len())
        + check::ITEM_SLACK;
    let (mut prev_record, mut prev_line) = (0u64, 0u64);
    let mut out = Splits::new();
    for r in JsonRecords::new(input, &WRAPPER_KEYS, max) {
        summary.items += 1;
        assert!(
            out.len() < max_items,
            "runaway splitter: more than {max_items} records"
        );
        let (line, record, last_line) = match &r {
            Ok(raw) => {
                assert!(
                    raw.text.len() <= max,
                    "a record of {} bytes passed the {max}-byte limit",
                    raw.text.len()
                );
                let lines_in = raw.text.bytes().filter(|&b| b == b'\n').count() as u64;
                (raw.line, raw.record, raw.line + lines_in)
            }
            Err(e) => {
                summary.errors += 1;
                assert_eq!(e.provenance.file, path, "an error names another file");
                summary.feature(&format!("err:{}", e.reason), &e.message);
                (e.provenance.line, e.provenance.record, e.provenance.line)
            }
        };
        assert!(line >= 1, "record {record} has line {line}");
        if let Some(max_line) = max_line {
            assert!(
                last_line <= max_line,
                "record {record} reaches line {last_line}, past the input's {max_line} lines"
            );
        }
        assert_eq!(
            record,
            prev_record + 1,
            "record numbers are not consecutive"
        );
        assert!(
            line >= prev_line,
            "record {record} starts on line {line}, before the previous one ({prev_line})"
        );
        (prev_record, prev_line) = (record, line);
        out.push(match r {
            Ok(raw) => {
                match raw.parse::<serde_json::Value>(&path) {
                    Ok(v) => summary.feature(if v.is_object() { "object" } else { "value" }, ""),
                    Err(e) => {
                        assert!(
                            e.provenance.line >= raw.line,
                            "a parse error points before its record"
                        );
                        if let Some(max_line) = max_line {
                            assert!(
                                e.provenance.line <= max_line,
                                "a parse error points past the input"
                            );
                        }
                        assert_eq!(e.provenance.record, raw.record);
                        summary.feature(&format!("parse:{}", e.reason), &e.message);
                    }
                }
                Ok((raw.text, raw.line, raw.record))
            }
            Err(e) => Err((
                e.provenance.line,
                e.provenance.record,
                e.reason.to_string(),
                e.message,
            )),
        });
    }
    out
}

/// `open_input` on a real file, compared with `Input::from_reader` on the same bytes: both
/// must accept or refuse alike and split into the same records.
pub fn open_input(data: &[u8]) -> Summary {
    let path = scratch::file("open-input.json", data);
    let mut summary = Summary::default();
    let from_file = kcm_source_io::open_input(&path);
    let from_memory = Input::from_reader("open-input.json", Cursor::new(data.to_vec()));
    match (from_file, from_memory) {
        (Ok(file), Ok(memory)) => {
            assert_eq!(
                file.gzipped, memory.gzipped,
                "gzip detection differs between file and reader"
            );
            assert_eq!(
                *file.path,
                *path.display().to_string(),
                "the input is not named by its path"
            );
            let a = split(file, data, MAX_RECORD_BYTES, &mut summary);
            let b = split(memory, data, MAX_RECORD_BYTES, &mut Summary::default());
            let strip = |s: Splits| -> Vec<_> {
                s.into_iter()
                    .map(|r| r.map_err(|(line, record, reason, _)| (line, record, reason)))
                    .collect()
            };
            assert_eq!(
                strip(a),
                strip(b),
                "file and in-memory inputs split differently"
            );
        }
        (Err(e), Err(m)) => {
            let text = e.to_string();
            assert!(
                text.contains(&*path.display().to_string()),
                "an open error does not name the path: {text}"
            );
            summary.feature("open-error", &text);
            summary.feature("open-error-memory", &m.to_string());
        }
        (file, memory) => panic!(
            "open_input and Input::from_reader disagree: file {:?}, memory {:?}",
            file.map(|i| i.gzipped),
            memory.map(|i| i.gzipped)
        ),
    }
    summary
}

/// Firebase parameters cheap enough for a fuzz loop (N = 2, r = 1), with a 64-byte key so
/// 64-byte hashes pass the length check.
fn cheap_firebase_params() -> FirebaseScryptParams {
    FirebaseScryptParams {
        signer_key: Secret::new(vec![0x5a; 64]),
        salt_separator: Secret::new(vec![7]),
        rounds: 1,
        mem_cost: 1,
    }
}

fn all_capabilities() -> HashCapabilities {
    HashCapabilities::keycloak_default()
        .with("bcrypt")
        .with("firebase-scrypt")
        .with("sha1")
}

/// The secret bytes of a hash worth looking for in output (short ones match by chance).
fn secret_byte_strings(hash: &PasswordHash) -> Vec<String> {
    const MIN_SECRET_BYTES: usize = 8;
    let bytes: Vec<&Vec<u8>> = match hash {
        PasswordHash::Pbkdf2 { salt, hash, .. } => vec![salt.expose(), hash.expose()],
        PasswordHash::Digest { salt, hash, .. } => {
            let mut v = vec![hash.expose()];
            v.extend(salt.as_ref().map(Secret::expose));
            v
        }
        _ => Vec::new(),
    };
    bytes
        .into_iter()
        .filter(|b| b.len() >= MIN_SECRET_BYTES)
        .flat_map(|b| [hex::encode(b), hex::encode_upper(b)])
        .collect()
}

/// Arbitrary `PasswordHash` values (see [`hashgen`]) through `from_encoded`, `Debug`,
/// `Serialize`, `to_credential` and `verify`.
pub fn password_hash(data: &[u8]) -> Summary {
    let mut summary = Summary::default();
    let hash = hashgen::password_hash_from(data);
    let guarded = data.windows(NEEDLE.len()).any(|w| w == NEEDLE.as_bytes());
    let secrets = secret_byte_strings(&hash);
    let no_secret = |what: &str, text: &str| {
        assert!(
            !(guarded && text.contains(NEEDLE)),
            "the planted hash leaked into {what}: {text}"
        );
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "hash or salt bytes leaked into {what}: {text}"
            );
        }
    };
    no_secret("PasswordHash Debug", &format!("{hash:?}"));
    no_secret("PasswordHash Display", &hash.to_string());
    no_secret(
        "PasswordHash Serialize",
        &serde_json::to_string(&hash).unwrap_or_default(),
    );
    if let PasswordHash::Unknown { note, .. } = &hash {
        no_secret("the Unknown note", note);
    }
    summary.feature("algorithm", &hash.algorithm_name());
    let provider = provider_for(&hash);
    let params = cheap_firebase_params();
    for (caps, firebase) in [
        (all_capabilities(), Some(&params)),
        (HashCapabilities::keycloak_default(), None),
    ] {
        match to_credential(&hash, &caps, firebase, Some(0)) {
            Ok(cred) => {
                let provider = provider.as_deref().unwrap_or_else(|| {
                    panic!("a credential was built for {hash:?}, which has no provider")
                });
                assert!(
                    caps.contains(provider),
                    "a credential was built without the `{provider}` provider"
                );
                assert_eq!(cred.type_.as_deref(), Some("password"));
                let data: serde_json::Value =
                    serde_json::from_str(cred.credential_data.as_deref().unwrap_or_default())
                        .unwrap_or_else(|e| panic!("credentialData is not JSON: {e}"));
                assert_eq!(
                    data["algorithm"], provider,
                    "credentialData names another algorithm"
                );
                let secret: serde_json::Value =
                    serde_json::from_str(cred.secret_data.as_deref().unwrap_or_default())
                        .unwrap_or_else(|e| panic!("secretData is not JSON: {e}"));
                assert!(secret["value"].is_string(), "secretData has no value");
                summary.feature("credential", provider);
            }
            Err(u) => {
                no_secret("an Unusable message", &u.message);
                no_secret("an Unusable Debug", &format!("{u:?}"));
                summary.feature(&format!("unusable:{}", u.reason), &u.message);
            }
        }
    }
    if hashgen::cheap_to_verify(&hash) {
        match verify(&hash, b"hunter2", Some(&params)) {
            Ok(ok) => summary.feature("verified", if ok { "match" } else { "mismatch" }),
            Err(e) => {
                no_secret("a VerifyError message", &e.to_string());
                no_secret("a VerifyError Debug", &format!("{e:?}"));
                summary.feature("verify-error", &e.to_string());
            }
        }
    }
    summary
}

/// Users that exercise the transform with a mapping: a password user with the planted
/// hash, a social-only user, a user with nested metadata, roles and groups.
fn mapping_probe_users() -> Vec<User> {
    let prov = |line| Provenance::new(Arc::from("probe.json"), line, line);
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "app_metadata".into(),
        serde_json::json!({"roles": ["admin", "x"], "plan": " Pro ", "groups": ["red"]}),
    );
    metadata.insert(
        "customAttributes".into(),
        serde_json::json!({"role": "admin", "roles": ["editor"], "tenant": "t1", "admin": true}),
    );
    let a = User {
        source_id: "auth0|a1".into(),
        username: Some("Ann".into()),
        email: Some("ann@example.com".into()),
        email_verified: Some(true),
        display_name: Some("Ann Lee".into()),
        enabled: true,
        status: "active".into(),
        password_hash: Some(PasswordHash::from_encoded(seeds::BCRYPT_PLANT)),
        roles: vec!["admin".into(), "editor".into()],
        groups: vec!["red".into()],
        metadata,
        provenance: prov(1),
        ..User::default()
    };
    let mut b = a.clone();
    b.source_id = "google-oauth2|2".into();
    b.username = None;
    b.email = Some("ANN@example.com".into());
    b.password_hash = Some(PasswordHash::FirebaseScrypt {
        hash: Secret::new(seeds::B64_PLANT.into()),
        salt: Secret::new(seeds::SALT_PLANT.into()),
    });
    b.status = "SUSPENDED".into();
    b.enabled = false;
    b.provenance = prov(2);
    let mut c = User {
        source_id: "x".into(),
        status: "disabled".into(),
        provenance: prov(3),
        ..User::default()
    };
    c.attributes
        .insert("department".into(), vec!["R&D".into(), String::new()]);
    vec![a, b, c]
}

/// A mapping file (TOML text) through `Mapping::from_str`; a compiled mapping is also turned
/// into transform options and run over a few probe users.
pub fn mapping(data: &[u8]) -> Summary {
    const NAME: &str = "fuzz.toml";
    let mut summary = Summary::default();
    let text = String::from_utf8_lossy(data);
    let guarded = check::secret_is_guarded(text.as_bytes(), MAPPING_PLANT);
    let no_secret = |what: &str, shown: &str| {
        assert!(
            !(guarded && shown.contains(NEEDLE)),
            "the literal secret leaked into {what}: {shown}"
        );
    };
    let mapping = match Mapping::from_str(&text, NAME) {
        Err(e) => {
            let shown = e.to_string();
            no_secret("a MappingError", &shown);
            no_secret("a MappingError Debug", &format!("{e:?}"));
            let Some(inv) = e.invalid() else {
                panic!("from_str returned a non-Invalid error: {shown}");
            };
            assert_eq!(inv.file, NAME);
            let lines: Vec<&str> = text.split('\n').collect();
            assert!(
                inv.line >= 1 && inv.line <= lines.len(),
                "error line {} outside 1..={}",
                inv.line,
                lines.len()
            );
            let line_chars = lines.get(inv.line - 1).map_or(0, |l| l.chars().count());
            assert!(
                inv.column >= 1 && inv.column <= line_chars + 1,
                "error column {} outside 1..={} on line {}",
                inv.column,
                line_chars + 1,
                inv.line
            );
            summary.errors += 1;
            summary.feature(
                &format!("invalid:{}", inv.key.as_deref().unwrap_or("")),
                &inv.message,
            );
            return summary;
        }
        Ok(m) => m,
    };
    no_secret("a Mapping Debug", &format!("{mapping:?}"));
    for w in mapping.warnings() {
        no_secret("a mapping warning", w);
        summary.feature("warning", w);
    }
    assert!(!mapping.name().is_empty(), "a compiled mapping has no name");
    // An environment value is always secret, whatever the file says.
    let from_env = |_: &str| Some(seeds::B64_PLANT.to_string());
    for options in [
        TransformOptions::from_mapping_with_env(&mapping, from_env),
        TransformOptions::from_mapping_with_env(&mapping, |_| None),
    ] {
        match &options {
            Ok(o) => assert!(
                !format!("{o:?}").contains(NEEDLE),
                "TransformOptions Debug shows a secret"
            ),
            Err(e) => {
                assert!(
                    !e.to_string().contains(NEEDLE),
                    "an OptionsError shows a secret: {e}"
                );
                summary.feature("options-error", &e.to_string());
            }
        }
    }
    let options = TransformOptions::from_mapping_with_env(&mapping, from_env).unwrap_or_default();
    let mut tx = Transformer::new(mapping, options);
    for user in mapping_probe_users() {
        let outcomes = tx.push(Ok(SourceItem::User(Box::new(user))));
        assert_eq!(
            outcomes.len(),
            1,
            "one user gave {} outcomes",
            outcomes.len()
        );
        for o in outcomes {
            let tag = match o {
                Outcome::Planned(_) => "planned".to_string(),
                Outcome::Filtered { rule, .. } => format!("filtered:{rule}"),
                Outcome::Rejected(r) => {
                    assert!(
                        !r.message.contains(NEEDLE),
                        "a Rejection shows the password hash: {}",
                        r.message
                    );
                    format!("rejected:{}", r.reason)
                }
                Outcome::Merged { .. } | Outcome::Side { .. } => "other".to_string(),
            };
            summary.feature(&tag, "");
        }
    }
    let (_, plan) = tx.finish();
    assert!(
        plan.is_balanced(),
        "transform accounting is off: read {} accounted {}",
        plan.records_read,
        plan.accounted()
    );
    summary.items += 1;
    summary
}
