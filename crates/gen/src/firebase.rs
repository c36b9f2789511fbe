//! Firebase output: the `firebase auth:export users.json` layout — `{"users": [`, each user
//! pretty-printed with two-space indents (like `JSON.stringify(user, null, 2)`), separated by
//! `,\n`, closed by `]}` — with keys in the CLI's order, scrypt-sized base64 password hashes
//! (64 bytes) and salts (10 bytes), `providerUserInfo` for social identities, and
//! `customAttributes` as a JSON-encoded string.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::{Rng, RngCore};
use serde::Serialize;

use crate::names::PLANS;
use crate::output::{Output, WrittenFile};
use crate::person::{pick_from, push_base62, random_base62, Kind, People, Person, Social};
use crate::GenError;

pub const USERS_FILE: &str = "users.json";
pub const USERS_FILE_GZ: &str = "users.json.gz";

/// Firebase scrypt output length (the signer key length) and salt length.
const HASH_BYTES: usize = 64;
const SALT_BYTES: usize = 10;
const MFA_PROBABILITY: f64 = 0.05;

/// Write the Firebase export into `dir`.
pub fn write(dir: &Path, users: u64, seed: u64, gzip: bool) -> Result<Vec<WrittenFile>, GenError> {
    let name = if gzip { USERS_FILE_GZ } else { USERS_FILE };
    let mut out = Output::create(&dir.join(name), gzip)?;
    out.write_all(b"{\"users\": [\n")?;
    let mut people = People::new(seed);
    let mut buf = Vec::with_capacity(2048);
    for n in 0..users {
        let person = people.next_person();
        let rng = people.rng();
        let record = draw_record(rng, &person);
        buf.clear();
        if n > 0 {
            buf.extend_from_slice(b",\n");
        }
        serde_json::to_writer_pretty(&mut buf, &record)?;
        out.write_all(&buf)?;
    }
    out.write_all(b"]}")?;
    Ok(vec![out.finish()?])
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FirebaseUser<'a> {
    local_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    salt: Option<String>,
    display_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    photo_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_signed_in_at: Option<String>,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled: Option<bool>,
    custom_attributes: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mfa_info: Option<Vec<MfaEnrollment>>,
    provider_user_info: Vec<ProviderUserInfo<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProviderUserInfo<'a> {
    provider_id: &'a str,
    raw_id: String,
    email: &'a str,
    display_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    photo_url: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MfaEnrollment {
    mfa_enrollment_id: String,
    display_name: &'static str,
    phone_info: String,
    enrolled_at: String,
}

#[derive(Serialize)]
struct CustomClaims<'a> {
    roles: Vec<&'a str>,
    plan: &'a str,
}

fn b64(rng: &mut impl RngCore, len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    STANDARD.encode(bytes)
}

fn draw_record<'a>(rng: &mut impl Rng, p: &'a Person) -> FirebaseUser<'a> {
    let sk = &p.skeleton;
    // 28 characters like real uids; the first 11 are a bijection of the index, so unique.
    let mut local_id = String::with_capacity(28);
    push_base62(&mut local_id, sk.unique, 11);
    local_id.push_str(&random_base62(rng, 17));

    let (password_hash, salt) = if sk.kind.has_password() {
        (Some(b64(rng, HASH_BYTES)), Some(b64(rng, SALT_BYTES)))
    } else {
        (None, None)
    };
    let mut provider_user_info = Vec::new();
    let mut photo_url = None;
    if let Some(social) = sk.kind.social() {
        let (provider_id, raw_id, photo) = match social {
            Social::Google => (
                "google.com",
                format!("1{:020}", sk.unique),
                Some(format!(
                    "https://lh3.googleusercontent.com/a/ACg8oc{}=s96-c",
                    random_base62(rng, 40)
                )),
            ),
            Social::Github => {
                let id = (sk.unique & 0xFFFF_FFFF) + 1;
                (
                    "github.com",
                    id.to_string(),
                    Some(format!("https://avatars.githubusercontent.com/u/{id}?v=4")),
                )
            }
            Social::Apple => (
                "apple.com",
                format!(
                    "{:06}.{:016x}{:016x}.{:04}",
                    sk.bits % 1_000_000,
                    sk.unique,
                    sk.bits,
                    (sk.bits >> 20) % 10_000
                ),
                // Sign in with Apple shares no picture.
                None,
            ),
        };
        if matches!(sk.kind, Kind::SocialOnly(_)) {
            photo_url.clone_from(&photo);
        }
        provider_user_info.push(ProviderUserInfo {
            provider_id,
            raw_id,
            email: &p.own_email,
            display_name: &p.full_name,
            photo_url: photo,
        });
    }
    let claims = CustomClaims {
        roles: p.role_names().collect(),
        plan: pick_from::<&str>(rng, PLANS),
    };
    let custom_attributes = serde_json::to_string(&claims).unwrap_or_default();
    let mfa_info = (sk.kind.has_password() && rng.random_bool(MFA_PROBABILITY)).then(|| {
        let mut enrollment = String::new();
        push_base62(&mut enrollment, rng.random(), 10);
        vec![MfaEnrollment {
            mfa_enrollment_id: enrollment,
            display_name: "Phone",
            phone_info: format!("+1555{:07}", rng.random_range(0..10_000_000u32)),
            enrolled_at: crate::person::iso_millis(p.created_ms + 86_400_000),
        }]
    });
    FirebaseUser {
        local_id,
        email: Some(&p.email),
        email_verified: p.email_verified,
        password_hash,
        salt,
        display_name: &p.full_name,
        photo_url,
        last_signed_in_at: p.last_login_ms.map(|ms| ms.to_string()),
        created_at: p.created_ms.to_string(),
        phone_number: p.phone.as_deref(),
        // Real exports carry `disabled` only sometimes when false.
        disabled: if p.disabled {
            Some(true)
        } else {
            rng.random_bool(0.5).then_some(false)
        },
        custom_attributes,
        mfa_info,
        provider_user_info,
    }
}
