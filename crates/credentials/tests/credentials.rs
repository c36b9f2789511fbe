//! `to_credential`: golden Keycloak credential JSON per algorithm family, every
//! `UnusableReason`, redaction, and strict round trips through `kcm_keycloak_types`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use kcm_credentials::{
    provider_for, to_credential, FirebaseScryptParams, HashCapabilities, Unusable, UnusableReason,
};
use kcm_keycloak_types::{CredentialRepresentation, PasswordCredentialData, PasswordSecretData};
use kcm_model::{DigestAlgorithm, PasswordHash, SaltPosition, Secret};
use sha2::Digest as _;

const CREATED: i64 = 1_700_000_000_000;

/// Auth0 docs vector (`hello`, cost 10), bulk-user-import-schema.
const AUTH0_BCRYPT: &str = "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K";
/// phc-winner-argon2 src/test.c (`password` / `somesalt`).
const ARGON2ID_PHC: &str =
    "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
const ARGON2I_V10_PHC: &str =
    "$argon2i$m=256,t=2,p=1$c29tZXNhbHQ$/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY";
/// firebase/scrypt tests/01-known-value.sh (`hunter2`).
const FB_SIGNER_KEY: &str =
    "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==";
const FB_SALT: &str = "42xEC+ixf3L2lw==";
const FB_HASH: &str =
    "70k8Vg5B3/OrvJOiqusnasv0dLcBHoDAqJrJr7TRLBfMw4MitWx51YXJYFdGiyMbMeKtWtLf5HiBDcN0SUOm4A==";

fn all_caps() -> HashCapabilities {
    HashCapabilities::keycloak_default()
        .with("bcrypt")
        .with("firebase-scrypt")
        .with("sha1")
}

fn fb_params() -> FirebaseScryptParams {
    FirebaseScryptParams::from_base64(FB_SIGNER_KEY, "Bw==", 8, 14).unwrap()
}

fn pbkdf2(digest: DigestAlgorithm, iterations: u32, salt: &[u8], hash_b64: &str) -> PasswordHash {
    PasswordHash::Pbkdf2 {
        digest,
        iterations,
        salt: Secret::new(salt.to_vec()),
        hash: Secret::new(STANDARD.decode(hash_b64).unwrap()),
    }
}

fn firebase(hash: &str, salt: &str) -> PasswordHash {
    PasswordHash::FirebaseScrypt {
        hash: Secret::new(hash.to_string()),
        salt: Secret::new(salt.to_string()),
    }
}

fn sha1_unsalted(password: &[u8]) -> PasswordHash {
    PasswordHash::Digest {
        digest: DigestAlgorithm::Sha1,
        salt: None,
        salt_position: SaltPosition::Prefix,
        hash: Secret::new(sha1::Sha1::digest(password).to_vec()),
    }
}

fn golden(hash: &PasswordHash, created: Option<i64>) -> String {
    let cred = to_credential(hash, &all_caps(), Some(&fb_params()), created).unwrap();
    serde_json::to_string(&cred).unwrap()
}

// ---- golden JSON per family -------------------------------------------------------------

#[test]
fn golden_bcrypt() {
    let hash = PasswordHash::from_encoded(AUTH0_BCRYPT);
    assert_eq!(
        golden(&hash, Some(CREATED)),
        r#"{"type":"password","createdDate":1700000000000,"secretData":"{\"value\":\"$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K\",\"salt\":\"\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":10,\"algorithm\":\"bcrypt\",\"additionalParameters\":{}}"}"#
    );
}

#[test]
fn golden_bcrypt_2y_keeps_the_string_verbatim() {
    let mcf = AUTH0_BCRYPT.replace("$2b$", "$2y$");
    let json = golden(&PasswordHash::from_encoded(&mcf), None);
    assert!(json.contains(r#"\"value\":\"$2y$10$nFgu"#), "{json}");
    assert!(
        !json.contains("createdDate"),
        "createdDate is omitted when not given: {json}"
    );
}

#[test]
fn golden_firebase_scrypt() {
    assert_eq!(
        golden(&firebase(FB_HASH, FB_SALT), Some(CREATED)),
        r#"{"type":"password","createdDate":1700000000000,"secretData":"{\"value\":\"70k8Vg5B3/OrvJOiqusnasv0dLcBHoDAqJrJr7TRLBfMw4MitWx51YXJYFdGiyMbMeKtWtLf5HiBDcN0SUOm4A==\",\"salt\":\"42xEC+ixf3L2lw==\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":8,\"algorithm\":\"firebase-scrypt\",\"additionalParameters\":{}}"}"#
    );
}

// PBKDF2 vectors generated with Python 3:
//   python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.pbkdf2_hmac(
//       '<digest>', '<password>'.encode(), '<salt>'.encode(), <iterations>, <len>)).decode())"
// sha1   'correct horse' 'saltsaltsalt16by'      1300  20 -> JXhMa0m1RP64uqnCysgpXF6QZpA=
// sha256 'Pässwörd-ü'    '0123456789abcdef'      27500 32 -> eBtbjCpVK6Jo8RWexWfTABpzmIH9Uzp5RwllQaTvchg=
// sha512 'hunter2'       'NaCl-sodium-chloride'  210   64 -> d2Dyzjll9K/hNjFQ...
const PBKDF2_SHA1_DK: &str = "JXhMa0m1RP64uqnCysgpXF6QZpA=";
const PBKDF2_SHA256_DK: &str = "eBtbjCpVK6Jo8RWexWfTABpzmIH9Uzp5RwllQaTvchg=";
const PBKDF2_SHA512_DK: &str =
    "d2Dyzjll9K/hNjFQO/kp07JiJeRslHFi8QupN/I9tsZejkfHBqATYNJz1jVTfrzMWEW+nc67Zz1CyY6Ag/tbGw==";

#[test]
fn golden_pbkdf2_sha1() {
    let hash = pbkdf2(
        DigestAlgorithm::Sha1,
        1300,
        b"saltsaltsalt16by",
        PBKDF2_SHA1_DK,
    );
    assert_eq!(
        golden(&hash, Some(CREATED)),
        r#"{"type":"password","createdDate":1700000000000,"secretData":"{\"value\":\"JXhMa0m1RP64uqnCysgpXF6QZpA=\",\"salt\":\"c2FsdHNhbHRzYWx0MTZieQ==\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":1300,\"algorithm\":\"pbkdf2\",\"additionalParameters\":{}}"}"#
    );
}

#[test]
fn golden_pbkdf2_sha256() {
    let hash = pbkdf2(
        DigestAlgorithm::Sha256,
        27500,
        b"0123456789abcdef",
        PBKDF2_SHA256_DK,
    );
    assert_eq!(
        golden(&hash, Some(CREATED)),
        r#"{"type":"password","createdDate":1700000000000,"secretData":"{\"value\":\"eBtbjCpVK6Jo8RWexWfTABpzmIH9Uzp5RwllQaTvchg=\",\"salt\":\"MDEyMzQ1Njc4OWFiY2RlZg==\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\",\"additionalParameters\":{}}"}"#
    );
}

#[test]
fn golden_pbkdf2_sha512() {
    let hash = pbkdf2(
        DigestAlgorithm::Sha512,
        210,
        b"NaCl-sodium-chloride",
        PBKDF2_SHA512_DK,
    );
    assert_eq!(
        golden(&hash, Some(CREATED)),
        r#"{"type":"password","createdDate":1700000000000,"secretData":"{\"value\":\"d2Dyzjll9K/hNjFQO/kp07JiJeRslHFi8QupN/I9tsZejkfHBqATYNJz1jVTfrzMWEW+nc67Zz1CyY6Ag/tbGw==\",\"salt\":\"TmFDbC1zb2RpdW0tY2hsb3JpZGU=\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":210,\"algorithm\":\"pbkdf2-sha512\",\"additionalParameters\":{}}"}"#
    );
}

#[test]
fn golden_pbkdf2_from_auth0_phc_string() {
    // Auth0 custom_password_hash PBKDF2 PHC form, parsed by the model.
    let hash = PasswordHash::from_encoded(
        "$pbkdf2-sha256$i=100000,l=32$c2FsdHNhbHQ$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    );
    assert_eq!(
        golden(&hash, None),
        r#"{"type":"password","secretData":"{\"value\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"salt\":\"c2FsdHNhbHQ=\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":100000,\"algorithm\":\"pbkdf2-sha256\",\"additionalParameters\":{}}"}"#
    );
}

#[test]
fn golden_argon2id() {
    assert_eq!(
        golden(&PasswordHash::from_encoded(ARGON2ID_PHC), Some(CREATED)),
        r#"{"type":"password","createdDate":1700000000000,"secretData":"{\"value\":\"nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4=\",\"salt\":\"c29tZXNhbHQ=\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":2,\"algorithm\":\"argon2\",\"additionalParameters\":{\"hashLength\":[\"32\"],\"memory\":[\"256\"],\"parallelism\":[\"1\"],\"type\":[\"id\"],\"version\":[\"1.3\"]}}"}"#
    );
}

#[test]
fn golden_argon2i_without_version_is_1_0() {
    assert_eq!(
        golden(&PasswordHash::from_encoded(ARGON2I_V10_PHC), None),
        r#"{"type":"password","secretData":"{\"value\":\"/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY=\",\"salt\":\"c29tZXNhbHQ=\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":2,\"algorithm\":\"argon2\",\"additionalParameters\":{\"hashLength\":[\"32\"],\"memory\":[\"256\"],\"parallelism\":[\"1\"],\"type\":[\"i\"],\"version\":[\"1.0\"]}}"}"#
    );
}

#[test]
fn golden_argon2_v16_and_argon2d() {
    let phc = "$argon2d$v=16$m=4096,t=3,p=2$c29tZXNhbHQ$AAECAwQFBgcICQoLDA0ODxAREhMUFRYX";
    let json = golden(&PasswordHash::from_encoded(phc), None);
    assert!(
        json.ends_with(r#""credentialData":"{\"hashIterations\":3,\"algorithm\":\"argon2\",\"additionalParameters\":{\"hashLength\":[\"24\"],\"memory\":[\"4096\"],\"parallelism\":[\"2\"],\"type\":[\"d\"],\"version\":[\"1.0\"]}}"}"#),
        "{json}"
    );
}

#[test]
fn golden_sha1_plugin() {
    // sha1("password") = 5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8 (well-known)
    assert_eq!(
        golden(&sha1_unsalted(b"password"), Some(CREATED)),
        r#"{"type":"password","createdDate":1700000000000,"secretData":"{\"value\":\"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8\",\"salt\":\"\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":1,\"algorithm\":\"sha1\",\"additionalParameters\":{}}"}"#
    );
}

// ---- shape invariants -------------------------------------------------------------------

fn every_family() -> Vec<PasswordHash> {
    vec![
        PasswordHash::from_encoded(AUTH0_BCRYPT),
        firebase(FB_HASH, FB_SALT),
        pbkdf2(
            DigestAlgorithm::Sha1,
            1300,
            b"saltsaltsalt16by",
            PBKDF2_SHA1_DK,
        ),
        pbkdf2(
            DigestAlgorithm::Sha256,
            27500,
            b"0123456789abcdef",
            PBKDF2_SHA256_DK,
        ),
        pbkdf2(
            DigestAlgorithm::Sha512,
            210,
            b"NaCl-sodium-chloride",
            PBKDF2_SHA512_DK,
        ),
        PasswordHash::from_encoded(ARGON2ID_PHC),
        PasswordHash::from_encoded(ARGON2I_V10_PHC),
        sha1_unsalted(b"password"),
    ]
}

#[test]
fn credentials_round_trip_through_strict_keycloak_types() {
    for hash in every_family() {
        let cred = to_credential(&hash, &all_caps(), Some(&fb_params()), Some(CREATED)).unwrap();
        let json = serde_json::to_value(&cred).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 4, "{hash}: {keys:?}");
        for key in ["type", "createdDate", "secretData", "credentialData"] {
            assert!(keys.contains(&key), "{hash}: {keys:?}");
        }
        // The whole credential, then each embedded string, through deny_unknown_fields.
        let back: CredentialRepresentation = serde_json::from_value(json).unwrap();
        assert_eq!(back, cred);
        let secret_text = cred.secret_data.as_deref().unwrap();
        let data_text = cred.credential_data.as_deref().unwrap();
        let secret: PasswordSecretData = serde_json::from_str(secret_text).unwrap();
        let data: PasswordCredentialData = serde_json::from_str(data_text).unwrap();
        assert_eq!(serde_json::to_string(&secret).unwrap(), secret_text);
        assert_eq!(serde_json::to_string(&data).unwrap(), data_text);
        assert_eq!(Some(data.algorithm), provider_for(&hash), "{hash}");
        assert!(
            secret.salt.is_some() && secret.additional_parameters.is_some(),
            "{hash}"
        );
        assert!(data.additional_parameters.is_some(), "{hash}");
        assert!(
            cred.value.is_none() && cred.temporary.is_none() && cred.hashed_salted_value.is_none()
        );
    }
}

#[test]
fn base64_is_standard_and_padded() {
    // 17-byte salt -> one '=', 16-byte salt -> '==', 20-byte key -> one '='.
    let h = pbkdf2(
        DigestAlgorithm::Sha1,
        1300,
        b"seventeen-bytes!!",
        PBKDF2_SHA1_DK,
    );
    let cred = to_credential(&h, &all_caps(), None, None).unwrap();
    let secret: PasswordSecretData =
        serde_json::from_str(cred.secret_data.as_deref().unwrap()).unwrap();
    let salt = secret.salt.unwrap();
    assert_eq!(salt, "c2V2ZW50ZWVuLWJ5dGVzISE=");
    assert!(secret.value.ends_with('='));
    // Bytes that encode to '+' and '/' in the standard alphabet ('-' and '_' in URL-safe).
    let h = PasswordHash::Pbkdf2 {
        digest: DigestAlgorithm::Sha256,
        iterations: 1,
        salt: Secret::new(vec![0xfb, 0xff, 0xbf]),
        hash: Secret::new(vec![0xfb, 0xef, 0xbe, 0xff]),
    };
    let cred = to_credential(&h, &all_caps(), None, None).unwrap();
    let secret: PasswordSecretData =
        serde_json::from_str(cred.secret_data.as_deref().unwrap()).unwrap();
    assert_eq!(secret.salt.as_deref(), Some("+/+/"));
    assert_eq!(secret.value, "++++/w==");
    // Unpadded Firebase input is re-encoded padded.
    let unpadded = firebase(FB_HASH.trim_end_matches('='), FB_SALT.trim_end_matches('='));
    assert_eq!(
        golden(&unpadded, None),
        golden(&firebase(FB_HASH, FB_SALT), None)
    );
}

/// Keycloak's PBKDF2 verify: decode salt and value (strict padded base64), derive a key of
/// the stored length from the UTF-8 password, compare base64 text.
#[test]
fn pbkdf2_credentials_verify_as_keycloak_would() {
    let cases = [
        (
            DigestAlgorithm::Sha1,
            1300,
            &b"saltsaltsalt16by"[..],
            PBKDF2_SHA1_DK,
            "correct horse",
        ),
        (
            DigestAlgorithm::Sha256,
            27500,
            b"0123456789abcdef",
            PBKDF2_SHA256_DK,
            "Pässwörd-ü",
        ),
        (
            DigestAlgorithm::Sha512,
            210,
            b"NaCl-sodium-chloride",
            PBKDF2_SHA512_DK,
            "hunter2",
        ),
    ];
    for (digest, iterations, salt, dk, password) in cases {
        let cred = to_credential(
            &pbkdf2(digest, iterations, salt, dk),
            &all_caps(),
            None,
            None,
        )
        .unwrap();
        let secret: PasswordSecretData =
            serde_json::from_str(cred.secret_data.as_deref().unwrap()).unwrap();
        let data: PasswordCredentialData =
            serde_json::from_str(cred.credential_data.as_deref().unwrap()).unwrap();
        let salt = STANDARD.decode(secret.salt.unwrap()).unwrap();
        let key_len = STANDARD.decode(&secret.value).unwrap().len();
        let rounds = u32::try_from(data.hash_iterations).unwrap();
        let mut out = vec![0u8; key_len];
        match data.algorithm.as_str() {
            "pbkdf2" => {
                pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password.as_bytes(), &salt, rounds, &mut out)
            }
            "pbkdf2-sha256" => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &salt, rounds, &mut out)
            }
            "pbkdf2-sha512" => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password.as_bytes(), &salt, rounds, &mut out)
            }
            other => panic!("unexpected algorithm {other}"),
        }
        assert_eq!(STANDARD.encode(&out), secret.value, "{}", data.algorithm);
    }
}

/// Keycloak's Argon2 verify: every parameter from credentialData, salt from secretData.
#[test]
fn argon2_credentials_verify_as_keycloak_would() {
    for phc in [ARGON2ID_PHC, ARGON2I_V10_PHC] {
        let cred =
            to_credential(&PasswordHash::from_encoded(phc), &all_caps(), None, None).unwrap();
        let secret: PasswordSecretData =
            serde_json::from_str(cred.secret_data.as_deref().unwrap()).unwrap();
        let data: PasswordCredentialData =
            serde_json::from_str(cred.credential_data.as_deref().unwrap()).unwrap();
        let params = data.additional_parameters.unwrap();
        let get = |k: &str| params[k][0].clone();
        let algorithm = match get("type").as_str() {
            "id" => argon2::Algorithm::Argon2id,
            "i" => argon2::Algorithm::Argon2i,
            _ => argon2::Algorithm::Argon2d,
        };
        let version = if get("version") == "1.3" {
            argon2::Version::V0x13
        } else {
            argon2::Version::V0x10
        };
        let len: usize = get("hashLength").parse().unwrap();
        let p = argon2::Params::new(
            get("memory").parse().unwrap(),
            u32::try_from(data.hash_iterations).unwrap(),
            get("parallelism").parse().unwrap(),
            Some(len),
        )
        .unwrap();
        let mut out = vec![0u8; len];
        argon2::Argon2::new(algorithm, version, p)
            .hash_password_into(
                b"password",
                &STANDARD.decode(secret.salt.unwrap()).unwrap(),
                &mut out,
            )
            .unwrap();
        assert_eq!(STANDARD.encode(&out), secret.value, "{phc}");
    }
}

// ---- unusable reasons -------------------------------------------------------------------

fn unusable(
    hash: &PasswordHash,
    caps: &HashCapabilities,
    fb: Option<&FirebaseScryptParams>,
) -> Unusable {
    to_credential(hash, caps, fb, None).unwrap_err()
}

#[test]
fn no_hash() {
    let u = Unusable::no_hash();
    assert_eq!(
        (u.reason, u.provider.as_deref()),
        (UnusableReason::NoHash, None)
    );
    assert_eq!(u.reason.as_str(), "no_hash");
}

#[test]
fn unknown_algorithm() {
    for raw in [
        "5f4dcc3b5aa765d61d8327deb882cf99",
        "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
        "$secretbytes",
    ] {
        let hash = PasswordHash::from_encoded(raw);
        assert_eq!(provider_for(&hash), None);
        let u = unusable(&hash, &all_caps(), Some(&fb_params()));
        assert_eq!(
            (u.reason, u.provider.as_deref()),
            (UnusableReason::UnknownAlgorithm, None)
        );
        assert!(
            !u.message.contains("secretbytes") && !u.message.contains("5f4dcc"),
            "{u:?}"
        );
    }
}

#[test]
fn no_provider_names_the_missing_plugin() {
    let kc24 = HashCapabilities::from_ids(["pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512"]);
    let native = HashCapabilities::keycloak_default();
    let cases = [
        (PasswordHash::from_encoded(AUTH0_BCRYPT), &native, "bcrypt"),
        (firebase(FB_HASH, FB_SALT), &native, "firebase-scrypt"),
        (PasswordHash::from_encoded(ARGON2ID_PHC), &kc24, "argon2"),
        (sha1_unsalted(b"password"), &native, "sha1"),
        (
            pbkdf2(
                DigestAlgorithm::Sha512,
                210,
                b"NaCl-sodium-chloride",
                PBKDF2_SHA512_DK,
            ),
            &HashCapabilities::from_ids(["pbkdf2"]),
            "pbkdf2-sha512",
        ),
    ];
    for (hash, caps, id) in cases {
        let u = unusable(&hash, caps, Some(&fb_params()));
        assert_eq!(u.reason, UnusableReason::NoProvider, "{hash}");
        assert_eq!(u.provider.as_deref(), Some(id));
        assert!(u.message.contains(id), "{}", u.message);
    }
}

#[test]
fn no_provider_exists_for_salted_digests_and_pbkdf2_md5() {
    // Okta SHA-512 PREFIX example (terraform-provider-okta password_hash.tf).
    let okta = PasswordHash::Digest {
        digest: DigestAlgorithm::Sha512,
        salt: Some(Secret::new(b"MySalt".to_vec())),
        salt_position: SaltPosition::Prefix,
        hash: Secret::new(STANDARD.decode("QrozP8a+KfoHu6mPFysxLoO5LMQsd2Fw6IclZUf8xQjetJOCGS93vm68h+VaFX0LHSiF/GxQkykq1vofmx6NGA==").unwrap()),
    };
    let salted_sha1 = PasswordHash::Digest {
        digest: DigestAlgorithm::Sha1,
        salt: Some(Secret::new(b"MySalt".to_vec())),
        salt_position: SaltPosition::Suffix,
        hash: Secret::new(vec![0; 20]),
    };
    let md5 = PasswordHash::Digest {
        digest: DigestAlgorithm::Md5,
        salt: None,
        salt_position: SaltPosition::Prefix,
        hash: Secret::new(vec![0; 16]),
    };
    let pbkdf2_md5 = pbkdf2(
        DigestAlgorithm::Md5,
        1000,
        b"salt",
        "AAAAAAAAAAAAAAAAAAAAAA==",
    );
    let everything = all_caps().with("md5").with("sha512");
    for hash in [okta, salted_sha1, md5, pbkdf2_md5] {
        assert_eq!(provider_for(&hash), None, "{hash}");
        let u = unusable(&hash, &everything, None);
        assert_eq!(
            (u.reason, u.provider.as_deref()),
            (UnusableReason::NoProvider, None),
            "{hash}"
        );
        assert!(
            u.message
                .starts_with("no Keycloak password-hash provider exists for"),
            "{}",
            u.message
        );
    }
}

#[test]
fn sha1_with_empty_salt_counts_as_unsalted() {
    let hash = PasswordHash::Digest {
        digest: DigestAlgorithm::Sha1,
        salt: Some(Secret::new(Vec::new())),
        salt_position: SaltPosition::Suffix,
        hash: Secret::new(sha1::Sha1::digest(b"password").to_vec()),
    };
    assert_eq!(provider_for(&hash).as_deref(), Some("sha1"));
    assert_eq!(
        golden(&hash, Some(CREATED)),
        golden(&sha1_unsalted(b"password"), Some(CREATED))
    );
}

#[test]
fn missing_firebase_params() {
    let u = unusable(&firebase(FB_HASH, FB_SALT), &all_caps(), None);
    assert_eq!(u.reason, UnusableReason::MissingFirebaseParams);
    assert_eq!(u.provider.as_deref(), Some("firebase-scrypt"));
    // Parameters set directly with out-of-range values count as not configured.
    let mut bad = fb_params();
    bad.rounds = 0;
    let u = unusable(&firebase(FB_HASH, FB_SALT), &all_caps(), Some(&bad));
    assert_eq!(u.reason, UnusableReason::MissingFirebaseParams);
    assert!(u.message.contains("rounds"), "{}", u.message);
}

#[test]
fn invalid_hashes() {
    let valid_pbkdf2 = |salt: &[u8], hash: &[u8], iterations| PasswordHash::Pbkdf2 {
        digest: DigestAlgorithm::Sha256,
        iterations,
        salt: Secret::new(salt.to_vec()),
        hash: Secret::new(hash.to_vec()),
    };
    let cases = [
        firebase("not*base64", FB_SALT),
        firebase(FB_HASH, "bad salt!"),
        firebase("UkVEQUNURUQ=", FB_SALT), // Firebase's "REDACTED" placeholder
        firebase("cGFzc3dvcmQ=", FB_SALT), // 8 bytes: not the signer key's 64
        firebase(FB_HASH, ""),
        PasswordHash::Argon2 {
            phc: Secret::new("$argon2id$v=19$m=256,t=2$c29tZXNhbHQ$nf65EOgLrQMR".into()),
        },
        PasswordHash::Argon2 {
            phc: Secret::new("$argon2id$v=19$m=256,t=2,p=1$c2!!$nf65EOgLrQMR".into()),
        },
        PasswordHash::Bcrypt {
            mcf: Secret::new("$2b$10$tooshort".into()),
            cost: 10,
        },
        valid_pbkdf2(b"", b"key", 1000),
        valid_pbkdf2(b"salt", b"", 1000),
        valid_pbkdf2(b"salt", b"key", 0),
        valid_pbkdf2(b"salt", b"key", u32::MAX),
        PasswordHash::Digest {
            digest: DigestAlgorithm::Sha1,
            salt: None,
            salt_position: SaltPosition::Prefix,
            hash: Secret::new(vec![1; 19]),
        },
    ];
    for hash in cases {
        let u = unusable(&hash, &all_caps(), Some(&fb_params()));
        assert_eq!(u.reason, UnusableReason::InvalidHash, "{hash}: {u:?}");
        assert_eq!(u.provider, None);
        assert!(u.message.starts_with("malformed "), "{}", u.message);
    }
}

/// A malformed hash is reported as malformed even where the provider is also missing:
/// installing the plugin would not make it usable.
#[test]
fn invalid_hash_wins_over_missing_provider() {
    let u = unusable(
        &firebase("not*base64", FB_SALT),
        &HashCapabilities::keycloak_default(),
        None,
    );
    assert_eq!(u.reason, UnusableReason::InvalidHash);
}

// ---- redaction --------------------------------------------------------------------------

#[test]
fn unusable_and_params_never_show_secret_bytes() {
    let secrets = [
        "70k8Vg5B", "42xEC", "nFguVi9L", "jxspr8Ki", "c29tZXNh", "nf65EOg",
    ];
    let native = HashCapabilities::keycloak_default();
    let mut shown = vec![format!("{:?}", fb_params())];
    let mut bad_len = firebase(FB_HASH, FB_SALT);
    if let PasswordHash::FirebaseScrypt { hash, .. } = &mut bad_len {
        *hash = Secret::new(FB_HASH[..40].to_string());
    }
    for (hash, caps, fb) in [
        (firebase(FB_HASH, FB_SALT), &native, None),
        (firebase(FB_HASH, FB_SALT), &all_caps(), None),
        (bad_len, &all_caps(), Some(fb_params())),
        (PasswordHash::from_encoded(AUTH0_BCRYPT), &native, None),
        (
            PasswordHash::Bcrypt {
                mcf: Secret::new(format!("{AUTH0_BCRYPT}x")),
                cost: 10,
            },
            &all_caps(),
            None,
        ),
        (
            PasswordHash::from_encoded(&ARGON2ID_PHC.replace("p=1", "p=0")),
            &all_caps(),
            None,
        ),
    ] {
        let u = unusable(&hash, caps, fb.as_ref());
        shown.push(format!("{u:?} {u}"));
    }
    for text in &shown {
        for secret in secrets {
            assert!(!text.contains(secret), "`{secret}` leaked in {text}");
        }
    }
    assert!(shown[0].contains("[redacted]") && shown[0].contains("rounds: 8"));
}
