//! Firebase modified scrypt against the 28 published vectors of firebase/scrypt
//! (tests/data/firebase-scrypt-vectors.json, see tests/data/README.md).

use std::path::{Path, PathBuf};

use kcm_credentials::{to_credential, verify, FirebaseScryptParams, HashCapabilities, VerifyError};
use kcm_model::{PasswordHash, Secret};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    suites: Vec<Suite>,
}

#[derive(Deserialize)]
struct Suite {
    name: String,
    base64_signer_key: String,
    base64_salt_separator: String,
    rounds: u32,
    mem_cost: u32,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    password: String,
    salt: String,
    hash: String,
}

const EXPECTED_VECTORS: usize = 28;

fn data_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/firebase-scrypt-vectors.json")
}

fn load() -> Vectors {
    let text = std::fs::read_to_string(data_path()).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn firebase_hash(v: &Vector) -> PasswordHash {
    PasswordHash::FirebaseScrypt {
        hash: Secret::new(v.hash.clone()),
        salt: Secret::new(v.salt.clone()),
    }
}

/// Each suite's vectors are independent: run them on both cores so the debug-build scrypt
/// (N = 2^14, r = 8) stays within a few seconds.
#[test]
fn all_published_vectors_verify() {
    let vectors = load();
    let total: usize = vectors.suites.iter().map(|s| s.vectors.len()).sum();
    assert_eq!(total, EXPECTED_VECTORS);
    let jobs: Vec<(String, FirebaseScryptParams, &Vector)> = vectors
        .suites
        .iter()
        .flat_map(|s| {
            let params = FirebaseScryptParams::from_base64(
                &s.base64_signer_key,
                &s.base64_salt_separator,
                s.rounds,
                s.mem_cost,
            )
            .unwrap();
            s.vectors
                .iter()
                .map(move |v| (s.name.clone(), params.clone(), v))
        })
        .collect();
    let (left, right) = jobs.split_at(jobs.len() / 2);
    // Returns the vectors that did not verify, with the outcome, for the failure message.
    let run = |part: &[(String, FirebaseScryptParams, &Vector)]| -> Vec<String> {
        part.iter()
            .filter_map(|(name, params, v)| {
                let outcome = verify(&firebase_hash(v), v.password.as_bytes(), Some(params));
                (outcome != Ok(true)).then(|| format!("{name}: `{}` -> {outcome:?}", v.password))
            })
            .collect()
    };
    let failures = std::thread::scope(|scope| {
        let other = scope.spawn(|| run(left));
        let mut failures = run(right);
        failures.extend(other.join().unwrap());
        failures
    });
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn wrong_password_and_wrong_parameters_do_not_verify() {
    let vectors = load();
    let suite = &vectors.suites[0];
    let v = &suite.vectors[0];
    let params = FirebaseScryptParams::from_base64(
        &suite.base64_signer_key,
        &suite.base64_salt_separator,
        suite.rounds,
        suite.mem_cost,
    )
    .unwrap();
    assert_eq!(
        verify(&firebase_hash(v), b"hunter3", Some(&params)),
        Ok(false)
    );
    // Another project's signer key (suite 02) must not verify suite 01's hash.
    let other = &vectors.suites[2];
    let other_params = FirebaseScryptParams::from_base64(
        &other.base64_signer_key,
        &other.base64_salt_separator,
        other.rounds,
        other.mem_cost,
    )
    .unwrap();
    assert_eq!(
        verify(
            &firebase_hash(v),
            v.password.as_bytes(),
            Some(&other_params)
        ),
        Ok(false)
    );
    assert_eq!(
        verify(&firebase_hash(v), v.password.as_bytes(), None),
        Err(VerifyError::MissingFirebaseParams)
    );
}

#[test]
fn credential_from_a_vector_carries_the_exported_values() {
    let vectors = load();
    let suite = &vectors.suites[0];
    let v = &suite.vectors[0];
    let params = FirebaseScryptParams::from_base64(
        &suite.base64_signer_key,
        &suite.base64_salt_separator,
        suite.rounds,
        suite.mem_cost,
    )
    .unwrap();
    let caps = HashCapabilities::keycloak_default().with("firebase-scrypt");
    let cred = to_credential(&firebase_hash(v), &caps, Some(&params), None).unwrap();
    let secret: serde_json::Value =
        serde_json::from_str(cred.secret_data.as_deref().unwrap()).unwrap();
    assert_eq!(secret["value"], v.hash.as_str());
    assert_eq!(secret["salt"], v.salt.as_str());
}

/// The local copy must stay identical to the shared fixture it was taken from.
#[test]
fn local_copy_matches_shared_fixture() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if !shared.is_dir() {
        println!("skipped: ../shared not found");
        return;
    }
    let fixture = shared.join("fixtures/firebase/scrypt-test-vectors.json");
    let ours = std::fs::read(data_path()).unwrap();
    let theirs = std::fs::read(&fixture).unwrap();
    assert_eq!(
        ours,
        theirs,
        "tests/data copy differs from {}",
        fixture.display()
    );
}
