//! `verify` with published known-answer vectors (sources in comments) and locally generated
//! PBKDF2 vectors (generating command in a comment).

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use kcm_credentials::{verify, FirebaseScryptParams, ParamsError, VerifyError};
use kcm_model::{DigestAlgorithm, PasswordHash, SaltPosition, Secret};

/// Auth0 docs (bulk-user-import-schema.mdx, bcrypt tab): `hello`, cost 10.
const AUTH0_BCRYPT: &str = "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K";

fn b64(text: &str) -> Vec<u8> {
    STANDARD.decode(text).unwrap()
}

fn pbkdf2(digest: DigestAlgorithm, iterations: u32, salt: &[u8], hash: Vec<u8>) -> PasswordHash {
    PasswordHash::Pbkdf2 {
        digest,
        iterations,
        salt: Secret::new(salt.to_vec()),
        hash: Secret::new(hash),
    }
}

fn digest(
    digest: DigestAlgorithm,
    salt: Option<&[u8]>,
    position: SaltPosition,
    hash: Vec<u8>,
) -> PasswordHash {
    PasswordHash::Digest {
        digest,
        salt: salt.map(|s| Secret::new(s.to_vec())),
        salt_position: position,
        hash: Secret::new(hash),
    }
}

// ---- bcrypt -----------------------------------------------------------------------------

#[test]
fn bcrypt_auth0_vector_and_2a_2y_prefixes() {
    for prefix in ["$2b$", "$2a$", "$2y$"] {
        let hash = PasswordHash::from_encoded(&AUTH0_BCRYPT.replace("$2b$", prefix));
        assert_eq!(verify(&hash, b"hello", None), Ok(true), "{prefix}");
    }
    let hash = PasswordHash::from_encoded(AUTH0_BCRYPT);
    assert_eq!(verify(&hash, b"hellO", None), Ok(false));
}

#[test]
fn bcrypt_okta_structural_example_checks_without_error() {
    // Okta OpenAPI BCRYPT import example; the plaintext is not published, so only a clean
    // "no match" is expected.
    let hash =
        PasswordHash::from_encoded("$2a$10$rwh3vH166HCH/NT9XV5FYuqaMqvAPULkbiQzkTCWo5XDcvzpk8Tna");
    assert!(matches!(hash, PasswordHash::Bcrypt { cost: 10, .. }));
    assert_eq!(verify(&hash, b"hello", None), Ok(false));
}

#[test]
fn bcrypt_malformed_is_an_error_that_does_not_quote_the_hash() {
    let hash = PasswordHash::Bcrypt {
        mcf: Secret::new("$2x$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K".into()),
        cost: 10,
    };
    let err = verify(&hash, b"hello", None).unwrap_err();
    assert!(matches!(err, VerifyError::MalformedHash { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("nFgu"), "{err}");
}

// ---- PBKDF2 -----------------------------------------------------------------------------

// RFC 6070 test vector 2: "password" / "salt" / 2 iterations, HMAC-SHA1, dkLen 20.
const RFC6070_C2: &str = "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957";

// Generated with Python 3 (hashlib):
//   python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.pbkdf2_hmac(
//       '<digest>', '<password>'.encode(), '<salt>'.encode(), <iterations>, <len>)).decode())"
const GENERATED: [(DigestAlgorithm, u32, &str, &str, &str); 4] = [
    (
        DigestAlgorithm::Sha1,
        1300,
        "correct horse",
        "saltsaltsalt16by",
        "JXhMa0m1RP64uqnCysgpXF6QZpA=",
    ),
    (
        DigestAlgorithm::Sha256,
        27500,
        "Pässwörd-ü",
        "0123456789abcdef",
        "eBtbjCpVK6Jo8RWexWfTABpzmIH9Uzp5RwllQaTvchg=",
    ),
    (
        DigestAlgorithm::Sha256,
        1000,
        "short",
        "salt",
        "BpEUgHJPt7huw1ds0+nEMGx/WhF0k8mVl+8kVLnTdHI=",
    ),
    (
        DigestAlgorithm::Sha512,
        210,
        "hunter2",
        "NaCl-sodium-chloride",
        "d2Dyzjll9K/hNjFQO/kp07JiJeRslHFi8QupN/I9tsZejkfHBqATYNJz1jVTfrzMWEW+nc67Zz1CyY6Ag/tbGw==",
    ),
];

#[test]
fn pbkdf2_rfc6070_and_generated_vectors() {
    let rfc = pbkdf2(
        DigestAlgorithm::Sha1,
        2,
        b"salt",
        hex::decode(RFC6070_C2).unwrap(),
    );
    assert_eq!(verify(&rfc, b"password", None), Ok(true));
    assert_eq!(verify(&rfc, b"passwore", None), Ok(false));
    for (d, iterations, password, salt, dk) in GENERATED {
        let hash = pbkdf2(d, iterations, salt.as_bytes(), b64(dk));
        assert_eq!(
            verify(&hash, password.as_bytes(), None),
            Ok(true),
            "{hash:?}"
        );
        assert_eq!(verify(&hash, b"wrong", None), Ok(false), "{hash:?}");
    }
}

#[test]
fn pbkdf2_md5_is_verifiable_even_without_a_keycloak_provider() {
    // python3 -c "import hashlib; print(hashlib.pbkdf2_hmac('md5', b'password', b'salt', 1000, 16).hex())"
    let hash = pbkdf2(
        DigestAlgorithm::Md5,
        1000,
        b"salt",
        hex::decode("8d189946a32d883622a16ae18af0632f").unwrap(),
    );
    assert_eq!(verify(&hash, b"password", None), Ok(true));
    assert_eq!(verify(&hash, b"Password", None), Ok(false));
    let empty = pbkdf2(DigestAlgorithm::Md5, 1000, b"salt", Vec::new());
    assert!(matches!(
        verify(&empty, b"password", None),
        Err(VerifyError::MalformedHash { .. })
    ));
    let zero = pbkdf2(DigestAlgorithm::Sha256, 0, b"salt", vec![1; 32]);
    assert!(matches!(
        verify(&zero, b"password", None),
        Err(VerifyError::MalformedHash { .. })
    ));
}

#[test]
fn pbkdf2_from_auth0_phc_string() {
    // python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.pbkdf2_hmac(
    //     'sha512', b'hunter2', b'NaCl-sodium-chloride', 210, 64)).decode().rstrip('='))"
    let phc = "$pbkdf2-sha512$i=210,l=64$TmFDbC1zb2RpdW0tY2hsb3JpZGU$d2Dyzjll9K/hNjFQO/kp07JiJeRslHFi8QupN/I9tsZejkfHBqATYNJz1jVTfrzMWEW+nc67Zz1CyY6Ag/tbGw";
    let hash = PasswordHash::from_encoded(phc);
    assert_eq!(verify(&hash, b"hunter2", None), Ok(true));
}

// ---- Argon2 -----------------------------------------------------------------------------

// phc-winner-argon2 src/test.c, password "password", salt "somesalt".
const ARGON2_VECTORS: [&str; 4] = [
    "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8",
    "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E",
    "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
    // No `v=`: version 0x10.
    "$argon2i$m=256,t=2,p=1$c29tZXNhbHQ$/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY",
];

#[test]
fn argon2_phc_vectors() {
    for phc in ARGON2_VECTORS {
        let hash = PasswordHash::from_encoded(phc);
        assert_eq!(verify(&hash, b"password", None), Ok(true), "{phc}");
        assert_eq!(verify(&hash, b"Password", None), Ok(false), "{phc}");
    }
    // The same hash labelled with the other version must not verify.
    let relabelled = ARGON2_VECTORS[3].replace("$argon2i$", "$argon2i$v=19$");
    assert_eq!(
        verify(&PasswordHash::from_encoded(&relabelled), b"password", None),
        Ok(false)
    );
}

#[test]
fn argon2_malformed_or_rejected_parameters() {
    for phc in [
        "$argon2id$v=19$m=256,t=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        // Salt of 4 bytes: below Argon2's 8-byte minimum.
        "$argon2id$v=19$m=256,t=2,p=1$c2FsdA$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        // m < 8·p.
        "$argon2id$v=19$m=8,t=2,p=4$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
    ] {
        let hash = PasswordHash::Argon2 {
            phc: Secret::new(phc.to_string()),
        };
        let err = verify(&hash, b"password", None).unwrap_err();
        assert!(
            matches!(&err, VerifyError::MalformedHash { algorithm, .. } if algorithm == "argon2"),
            "{err:?}"
        );
        assert!(!err.to_string().contains("nf65"), "{err}");
    }
}

// ---- digests ----------------------------------------------------------------------------

#[test]
fn okta_sha512_prefix_vector() {
    // terraform-provider-okta examples/resources/okta_user/password_hash.tf; password
    // Abcd1234, salt "MySalt" (TXlTYWx0), saltOrder PREFIX.
    let value =
        "QrozP8a+KfoHu6mPFysxLoO5LMQsd2Fw6IclZUf8xQjetJOCGS93vm68h+VaFX0LHSiF/GxQkykq1vofmx6NGA==";
    let salt = b64("TXlTYWx0");
    let prefix = digest(
        DigestAlgorithm::Sha512,
        Some(&salt),
        SaltPosition::Prefix,
        b64(value),
    );
    assert_eq!(verify(&prefix, b"Abcd1234", None), Ok(true));
    assert_eq!(verify(&prefix, b"abcd1234", None), Ok(false));
    let suffix = digest(
        DigestAlgorithm::Sha512,
        Some(&salt),
        SaltPosition::Suffix,
        b64(value),
    );
    assert_eq!(verify(&suffix, b"Abcd1234", None), Ok(false));
}

#[test]
fn unsalted_and_suffix_salted_digests() {
    // Well-known unsalted digests of "password"; the MD5 suffix vector from
    //   python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.md5(b'password'+b'pepper').digest()).decode())"
    let cases = [
        (
            DigestAlgorithm::Sha1,
            None,
            hex::decode("5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8").unwrap(),
        ),
        (
            DigestAlgorithm::Md5,
            None,
            hex::decode("5f4dcc3b5aa765d61d8327deb882cf99").unwrap(),
        ),
        (
            DigestAlgorithm::Sha256,
            None,
            b64("XohImNooBHFR0OVvjcYpJ3NgPQ1qq73WKhHvch0VQtg="),
        ),
        (
            DigestAlgorithm::Md5,
            Some(&b"pepper"[..]),
            b64("2J7d7sdIxJ1a3S+PNHuImQ=="),
        ),
    ];
    for (d, salt, hash) in cases {
        let h = digest(d, salt, SaltPosition::Suffix, hash);
        assert_eq!(verify(&h, b"password", None), Ok(true), "{h}");
        assert_eq!(verify(&h, b"passwort", None), Ok(false), "{h}");
    }
    let short = digest(
        DigestAlgorithm::Sha256,
        None,
        SaltPosition::Prefix,
        vec![0; 31],
    );
    assert!(matches!(
        verify(&short, b"password", None),
        Err(VerifyError::MalformedHash { .. })
    ));
}

// ---- Firebase errors (vectors: tests/firebase_scrypt.rs) ---------------------------------

#[test]
fn firebase_errors() {
    let params = FirebaseScryptParams::from_base64(
        "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
        "Bw==",
        8,
        14,
    )
    .unwrap();
    let fb = |hash: &str, salt: &str| PasswordHash::FirebaseScrypt {
        hash: Secret::new(hash.into()),
        salt: Secret::new(salt.into()),
    };
    assert!(matches!(
        verify(&fb("%%%", "42xEC+ixf3L2lw=="), b"hunter2", Some(&params)),
        Err(VerifyError::MalformedHash { .. })
    ));
    assert!(matches!(
        verify(&fb("70k8Vg5B3/Or", "%%%"), b"hunter2", Some(&params)),
        Err(VerifyError::MalformedHash { .. })
    ));
    let mut bad = params.clone();
    bad.mem_cost = 40;
    assert_eq!(
        verify(
            &fb("70k8Vg5B3/Or", "42xEC+ixf3L2lw=="),
            b"hunter2",
            Some(&bad)
        ),
        Err(VerifyError::InvalidFirebaseParams(
            ParamsError::OutOfRange {
                field: "mem_cost",
                value: 40,
                min: 1,
                max: 14
            }
        ))
    );
}

// ---- unknown ----------------------------------------------------------------------------

#[test]
fn unknown_hashes_are_unsupported() {
    let hash = PasswordHash::from_encoded("$1$saltsalt$qjXMvbEw8oaL.CzflDugX/");
    assert_eq!(
        verify(&hash, b"password", None),
        Err(VerifyError::UnsupportedAlgorithm {
            algorithm: "unknown".into()
        })
    );
}

// ---- shared fixture ---------------------------------------------------------------------

/// Every vector with a known password in shared/fixtures/hash-vectors.json verifies.
#[test]
fn shared_hash_vectors() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if !shared.is_dir() {
        println!("skipped: ../shared not found");
        return;
    }
    let text = std::fs::read_to_string(shared.join("fixtures/hash-vectors.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for v in doc["vectors"].as_array().unwrap() {
        let Some(password) = v["password"].as_str() else {
            continue;
        };
        let hash = match &v["hash"] {
            serde_json::Value::String(mcf) => PasswordHash::from_encoded(mcf),
            h if h["algorithm"] == "SHA-512" => digest(
                DigestAlgorithm::Sha512,
                Some(&b64(h["salt"].as_str().unwrap())),
                if h["saltOrder"] == "PREFIX" {
                    SaltPosition::Prefix
                } else {
                    SaltPosition::Suffix
                },
                b64(h["value"].as_str().unwrap()),
            ),
            other => panic!("vector shape not handled: {other}"),
        };
        assert_eq!(
            verify(&hash, password.as_bytes(), None),
            Ok(true),
            "{}",
            v["provider"]
        );
        checked += 1;
    }
    assert_eq!(
        checked, 2,
        "auth0 bcrypt + okta SHA-512 have known passwords"
    );
}
