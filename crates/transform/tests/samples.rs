//! The example mappings (`mappings/*.toml`) against the bundled samples (`samples/*`), read by
//! the real sources: every record is accounted for and the mapping covers what the samples
//! contain (no unknown statuses, no unmapped groups, no dropped identities).

use std::path::{Path, PathBuf};

use kcm_source_io::{ReadOptions, SourceInputs, SourceStream};
use kcm_transform::{Mapping, Outcome, PlanSummary, TransformOptions, Transformer};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn samples(provider: &str) -> Option<PathBuf> {
    let dir = root().join("samples").join(provider);
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: {} not found", dir.display());
        None
    }
}

fn run(
    mapping: &str,
    opts: impl FnOnce(&Mapping) -> TransformOptions,
    stream: SourceStream,
) -> (Vec<Outcome>, PlanSummary) {
    let mapping = Mapping::from_path(root().join("mappings").join(mapping)).unwrap();
    let opts = opts(&mapping);
    let mut t = Transformer::new(mapping, opts);
    let mut out = Vec::new();
    for item in stream {
        out.extend(t.push(item));
    }
    let (rest, summary) = t.finish();
    out.extend(rest);
    assert!(summary.is_balanced(), "{summary:#?}");
    assert!(
        summary.unknown_statuses.is_empty(),
        "{:?}",
        summary.unknown_statuses
    );
    assert!(
        summary.identities_dropped.is_empty(),
        "{:?}",
        summary.identities_dropped
    );
    (out, summary)
}

fn files(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    names.iter().map(|n| dir.join(n)).collect()
}

#[test]
fn auth0_sample() {
    let Some(dir) = samples("auth0") else { return };
    let inputs = SourceInputs {
        users: files(&dir, &["users.ndjson.gz", "users.csv"]),
        hashes: Some(dir.join("password-hashes.ndjson")),
        roles: Some(dir.join("roles.json")),
        memberships: None,
    };
    let stream = kcm_source_auth0::read(&inputs, &ReadOptions::default()).unwrap();
    let (_, s) = run(
        "auth0.toml",
        |m| TransformOptions::from_mapping_with_env(m, |_| None).unwrap(),
        stream,
    );
    assert!(s.users_planned > 20, "{s:#?}");
    assert!(
        s.passwords.carried.get("bcrypt").copied().unwrap_or(0) > 5,
        "{:?}",
        s.passwords
    );
    assert!(
        s.identities.contains_key("google") && s.identities.contains_key("acme-okta"),
        "{:?}",
        s.identities
    );
    assert!(s.realm_roles.contains_key("admin") && s.client_roles.contains_key("cms"));
    assert!(s.groups.contains_key("/regions/emea"), "{:?}", s.groups);
    assert!(
        s.duplicates.usernames_rejected >= 1,
        "Henry's second account"
    );
}

#[test]
fn okta_sample() {
    let Some(dir) = samples("okta") else { return };
    let inputs = SourceInputs {
        users: files(&dir, &["users.csv", "users-api-columns.csv", "users.json"]),
        hashes: None,
        roles: None,
        memberships: Some(dir.join("group-memberships.csv")),
    };
    let stream = kcm_source_okta::read(&inputs, &ReadOptions::default()).unwrap();
    let (_, s) = run(
        "okta.toml",
        |m| TransformOptions::from_mapping_with_env(m, |_| None).unwrap(),
        stream,
    );
    assert!(s.users_planned > 20, "{s:#?}");
    assert!(
        s.unmapped_groups.is_empty(),
        "every sample group has a rule: {:?}",
        s.unmapped_groups
    );
    assert!(
        s.filtered
            .by_rule
            .get("deprovisioned")
            .copied()
            .unwrap_or(0)
            >= 1
    );
    assert!(s.passwords.carried.is_empty(), "Okta exports no hashes");
    assert_eq!(
        s.passwords.reset.get("no_hash").copied(),
        Some(s.users_planned - s.passwords.not_needed)
    );
    assert!(
        s.groups.contains_key("/departments/engineering"),
        "{:?}",
        s.groups
    );
    assert!(
        s.side_records.memberships_attached > 10,
        "{:?}",
        s.side_records
    );
}

/// The sample project's hash parameters, published in samples/firebase/README.md (a fake,
/// sample-only project).
const SAMPLE_SIGNER_KEY: &str =
    "KMvhjc3QWFrDVy2DefLtNBQP/lhONzYiIyP52SdoyrI7zrJVQSyUimgV4vYobS2DurgtT0yAcjxuPqVpymjavg==";

#[test]
fn firebase_sample() {
    let Some(dir) = samples("firebase") else {
        return;
    };
    let inputs = SourceInputs {
        users: files(
            &dir,
            &[
                "users.json",
                "users.csv",
                "users-2019.csv",
                "emulator-accounts.json",
            ],
        ),
        ..SourceInputs::default()
    };
    let stream = kcm_source_firebase::read(&inputs, &ReadOptions::default()).unwrap();
    let env = |var: &str| match var {
        "FIREBASE_SIGNER_KEY" => Some(SAMPLE_SIGNER_KEY.to_string()),
        "FIREBASE_SALT_SEPARATOR" => Some("Bw==".to_string()),
        _ => None,
    };
    let (out, s) = run(
        "firebase.toml",
        |m| TransformOptions::from_mapping_with_env(m, env).unwrap(),
        stream,
    );
    assert!(s.users_planned > 20, "{s:#?}");
    assert!(
        s.passwords
            .carried
            .get("firebase-scrypt")
            .copied()
            .unwrap_or(0)
            > 10,
        "{:?}",
        s.passwords
    );
    assert!(
        s.duplicates.emails_dropped >= 1,
        "alice.martin's second account keeps no e-mail"
    );
    assert!(
        s.filtered.by_rule.contains_key("anonymous"),
        "{:?}",
        s.filtered
    );
    assert!(s
        .client_roles
        .get("web-app")
        .is_some_and(|r| r.contains_key("editor")));
    assert!(s.unmapped_roles.is_empty(), "{:?}", s.unmapped_roles);
    // Directory-style names are split at the comma.
    assert!(out.iter().any(|o| matches!(o, Outcome::Planned(p)
        if p.user.first_name.as_deref() == Some("Thi Mai") && p.user.last_name.as_deref() == Some("Nguyen"))));
}
