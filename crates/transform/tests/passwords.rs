//! Password continuity per algorithm family, with and without the provider in the target's
//! capabilities; Firebase parameters from the environment; secrets never in Debug output.

mod common;

use common::*;
use kcm_model::{DigestAlgorithm, PasswordHash, SaltPosition, Secret, User};
use kcm_transform::{
    HashCapabilities, Mapping, OptionsError, PasswordOutcome, TransformOptions, UnusableReason,
    UPDATE_PASSWORD,
};

const BCRYPT: &str = "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K";
const PBKDF2_SHA256: &str =
    "$pbkdf2-sha256$i=27500,l=32$c2FsdHNhbHQ$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const ARGON2: &str = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
// firebase/scrypt test vector "01-known-value" (password hunter2).
const FB_KEY: &str =
    "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==";
const FB_SEP: &str = "Bw==";
const FB_SALT: &str = "42xEC+ixf3L2lw==";
const FB_HASH: &str =
    "70k8Vg5B3/OrvJOiqusnasv0dLcBHoDAqJrJr7TRLBfMw4MitWx51YXJYFdGiyMbMeKtWtLf5HiBDcN0SUOm4A==";

fn firebase_hash() -> PasswordHash {
    PasswordHash::FirebaseScrypt {
        hash: Secret::new(FB_HASH.into()),
        salt: Secret::new(FB_SALT.into()),
    }
}

fn pbkdf2(digest: DigestAlgorithm) -> PasswordHash {
    PasswordHash::Pbkdf2 {
        digest,
        iterations: 10_000,
        salt: Secret::new(b"0123456789abcdef".to_vec()),
        hash: Secret::new(vec![7; 32]),
    }
}

fn digest(d: DigestAlgorithm, salt: Option<&[u8]>) -> PasswordHash {
    PasswordHash::Digest {
        digest: d,
        salt: salt.map(|s| Secret::new(s.to_vec())),
        salt_position: SaltPosition::Prefix,
        hash: Secret::new(vec![1; d.output_len()]),
    }
}

fn user_with(hash: Option<PasswordHash>) -> User {
    let mut u = user("u1", 1);
    u.password_hash = hash;
    u.created_at = Some(1_600_000_000_000);
    u
}

fn outcome(
    hash: Option<PasswordHash>,
    caps: HashCapabilities,
    firebase: bool,
) -> kcm_transform::PlannedUser {
    let opts = TransformOptions {
        capabilities: caps,
        firebase: firebase.then(|| {
            kcm_transform::FirebaseScryptParams::from_base64(FB_KEY, FB_SEP, 8, 14).unwrap()
        }),
    };
    let (out, _) = run_with(
        mapping_for("firebase", ""),
        opts,
        vec![item(user_with(hash))],
    );
    planned(&out[0]).clone()
}

fn native() -> HashCapabilities {
    HashCapabilities::keycloak_default()
}

fn assert_carried(p: &kcm_transform::PlannedUser, provider: &str) {
    assert_eq!(
        p.password,
        PasswordOutcome::Carried {
            provider: provider.into()
        },
        "{p:?}"
    );
    let creds = p.user.credentials.as_ref().expect("credential");
    assert_eq!(creds.len(), 1);
    let data: serde_json::Value =
        serde_json::from_str(creds[0].credential_data.as_deref().unwrap()).unwrap();
    assert_eq!(data["algorithm"], provider);
    assert_eq!(creds[0].type_.as_deref(), Some("password"));
    assert_eq!(creds[0].created_date, Some(1_600_000_000_000));
    assert!(!actions(p).contains(&UPDATE_PASSWORD.to_string()));
}

fn assert_reset(p: &kcm_transform::PlannedUser, reason: UnusableReason) {
    match &p.password {
        PasswordOutcome::Reset { reason: r, .. } => assert_eq!(*r, reason, "{p:?}"),
        other => panic!("expected a reset, got {other:?}"),
    }
    assert_eq!(p.user.credentials, None);
    assert!(actions(p).contains(&UPDATE_PASSWORD.to_string()));
}

#[test]
fn bcrypt_needs_the_plugin() {
    let h = || Some(PasswordHash::from_encoded(BCRYPT));
    assert_reset(&outcome(h(), native(), false), UnusableReason::NoProvider);
    assert_carried(&outcome(h(), native().with("bcrypt"), false), "bcrypt");
}

#[test]
fn pbkdf2_family_is_native() {
    assert_carried(
        &outcome(
            Some(PasswordHash::from_encoded(PBKDF2_SHA256)),
            native(),
            false,
        ),
        "pbkdf2-sha256",
    );
    assert_carried(
        &outcome(Some(pbkdf2(DigestAlgorithm::Sha1)), native(), false),
        "pbkdf2",
    );
    assert_carried(
        &outcome(Some(pbkdf2(DigestAlgorithm::Sha512)), native(), false),
        "pbkdf2-sha512",
    );
    // A Keycloak 24 target has no argon2 but still every PBKDF2 provider.
    let kc24 = HashCapabilities::from_ids(["pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512"]);
    assert_carried(
        &outcome(Some(pbkdf2(DigestAlgorithm::Sha512)), kc24, false),
        "pbkdf2-sha512",
    );
    assert_reset(
        &outcome(
            Some(pbkdf2(DigestAlgorithm::Sha256)),
            HashCapabilities::from_ids(["argon2"]),
            false,
        ),
        UnusableReason::NoProvider,
    );
    assert_reset(
        &outcome(Some(pbkdf2(DigestAlgorithm::Md5)), native(), false),
        UnusableReason::NoProvider,
    );
}

#[test]
fn argon2_is_native_from_keycloak_25() {
    assert_carried(
        &outcome(Some(PasswordHash::from_encoded(ARGON2)), native(), false),
        "argon2",
    );
    let kc24 = HashCapabilities::from_ids(["pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512"]);
    assert_reset(
        &outcome(Some(PasswordHash::from_encoded(ARGON2)), kc24, false),
        UnusableReason::NoProvider,
    );
}

#[test]
fn firebase_scrypt_needs_plugin_and_parameters() {
    assert_reset(
        &outcome(Some(firebase_hash()), native(), true),
        UnusableReason::NoProvider,
    );
    let caps = || native().with("firebase-scrypt");
    assert_reset(
        &outcome(Some(firebase_hash()), caps(), false),
        UnusableReason::MissingFirebaseParams,
    );
    assert_carried(
        &outcome(Some(firebase_hash()), caps(), true),
        "firebase-scrypt",
    );
    let redacted = PasswordHash::FirebaseScrypt {
        hash: Secret::new("UkVEQUNURUQ=".into()),
        salt: Secret::new(FB_SALT.into()),
    };
    assert_reset(
        &outcome(Some(redacted), caps(), true),
        UnusableReason::InvalidHash,
    );
}

#[test]
fn digests_unknown_and_missing_hashes() {
    let sha1 = || Some(digest(DigestAlgorithm::Sha1, None));
    assert_reset(
        &outcome(sha1(), native(), false),
        UnusableReason::NoProvider,
    );
    assert_carried(&outcome(sha1(), native().with("sha1"), false), "sha1");
    assert_reset(
        &outcome(
            Some(digest(DigestAlgorithm::Md5, Some(b"salt"))),
            native().with("sha1"),
            false,
        ),
        UnusableReason::NoProvider,
    );
    assert_reset(
        &outcome(
            Some(PasswordHash::from_encoded(
                "5f4dcc3b5aa765d61d8327deb882cf99",
            )),
            native(),
            false,
        ),
        UnusableReason::UnknownAlgorithm,
    );
    assert_reset(&outcome(None, native(), false), UnusableReason::NoHash);
}

#[test]
fn password_summary_counts_by_provider_and_reason() {
    let opts = TransformOptions {
        capabilities: native().with("bcrypt"),
        firebase: None,
    };
    let mut users = Vec::new();
    for (i, h) in [
        Some(PasswordHash::from_encoded(BCRYPT)),
        Some(PasswordHash::from_encoded(BCRYPT)),
        None,
        Some(firebase_hash()),
    ]
    .into_iter()
    .enumerate()
    {
        let mut u = user(&format!("u{i}"), i as u64 + 1);
        u.password_hash = h;
        users.push(item(u));
    }
    let mut social = user("s", 9);
    social.identities = vec![identity("google-oauth2", "1")];
    users.push(item(social));
    let (_, s) = run_with(mapping(""), opts, users);
    assert_eq!(s.passwords.carried.get("bcrypt"), Some(&2));
    assert_eq!(s.passwords.reset.get("no_hash"), Some(&1));
    assert_eq!(s.passwords.reset.get("no_provider"), Some(&1));
    assert_eq!(s.passwords.not_needed, 1);
    assert_eq!(s.required_actions.get(UPDATE_PASSWORD), Some(&2));
}

fn firebase_mapping(signer: &str, sep: &str) -> Mapping {
    mapping_for(
        "firebase",
        &format!(
            "[passwords]\nproviders = [\"firebase-scrypt\"]\n[passwords.firebase]\nsigner_key = \"{signer}\"\nsalt_separator = \"{sep}\"\nrounds = 8\nmem_cost = 14\n"
        ),
    )
}

#[test]
fn firebase_parameters_from_the_environment() {
    let m = firebase_mapping("env:FB_KEY", "env:FB_SEP");
    let env = |var: &str| match var {
        "FB_KEY" => Some(FB_KEY.to_string()),
        "FB_SEP" => Some(FB_SEP.to_string()),
        _ => None,
    };
    let opts = TransformOptions::from_mapping_with_env(&m, env).unwrap();
    assert!(opts.capabilities.contains("firebase-scrypt") && opts.capabilities.contains("argon2"));
    assert!(opts.firebase.is_some());
    let (out, _) = run_with(
        m.clone(),
        opts,
        vec![item(user_with(Some(firebase_hash())))],
    );
    assert_carried(planned(&out[0]), "firebase-scrypt");

    // Missing variable: a configuration error naming the key and the variable only.
    let err = TransformOptions::from_mapping_with_env(&m, |v| {
        (v == "FB_KEY").then(|| FB_KEY.to_string())
    })
    .unwrap_err();
    assert_eq!(
        err,
        OptionsError::MissingEnv {
            key: "salt_separator",
            var: "FB_SEP".into()
        }
    );
    assert!(err.to_string().contains("FB_SEP"));

    // Invalid value: the error never repeats it.
    let err = TransformOptions::from_mapping_with_env(&m, |v| {
        Some(
            if v == "FB_KEY" {
                "%%not-base64%%"
            } else {
                FB_SEP
            }
            .to_string(),
        )
    })
    .unwrap_err();
    assert!(matches!(err, OptionsError::Firebase(_)));
    assert!(!err.to_string().contains("%%not-base64%%"), "{err}");

    // Literal values work (and are warned about when loading).
    let lit = firebase_mapping(FB_KEY, FB_SEP);
    assert!(lit.warnings().iter().any(|w| w.contains("signer_key")));
    assert!(TransformOptions::from_mapping_with_env(&lit, |_| None)
        .unwrap()
        .firebase
        .is_some());

    // No [passwords.firebase]: no parameters, and Firebase hashes end as resets.
    let none = mapping_for(
        "firebase",
        "[passwords]\nproviders = [\"firebase-scrypt\"]\n",
    );
    let opts = TransformOptions::from_mapping_with_env(&none, |_| None).unwrap();
    assert!(opts.firebase.is_none());
    let (out, s) = run_with(none, opts, vec![item(user_with(Some(firebase_hash())))]);
    assert_reset(planned(&out[0]), UnusableReason::MissingFirebaseParams);
    assert_eq!(s.passwords.reset.get("missing_firebase_params"), Some(&1));
}

#[test]
fn hashes_never_appear_in_debug_output() {
    let p = outcome(
        Some(PasswordHash::from_encoded(BCRYPT)),
        native().with("bcrypt"),
        false,
    );
    let shown = format!(
        "{p:?} {:?}",
        kcm_transform::Outcome::Planned(Box::new(p.clone()))
    );
    assert!(!shown.contains("nFguVi9L"), "{shown}");
    assert!(shown.contains("[redacted]"));
    let p = outcome(
        Some(firebase_hash()),
        native().with("firebase-scrypt"),
        true,
    );
    assert!(!format!("{p:?}").contains("70k8Vg5B"));
    let opts = TransformOptions::from_mapping_with_env(&firebase_mapping("env:K", "env:S"), |v| {
        Some(if v == "K" { FB_KEY } else { FB_SEP }.to_string())
    })
    .unwrap();
    assert!(!format!("{opts:?}").contains("jxspr8Ki"));
}
