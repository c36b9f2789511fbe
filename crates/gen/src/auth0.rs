//! Auth0 output: the bulk user export (NDJSON, optionally gzipped like the real download),
//! the support-ticket password-hash export (NDJSON with MongoDB `$oid`/`$date` wrappers), and
//! a roles file `{"roles":[{"id","name","description","users":[user ids]}]}`.
//!
//! The users file and the hash export are written side by side in one pass. The roles file is
//! written afterwards, one pass per role over the user indices, recomputing each user's
//! [`Skeleton`](crate::person::Skeleton): nothing grows with the number of users.

use std::io::Write;
use std::path::Path;

use base64::alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use rand::{Rng, RngCore};
use serde::Serialize;

use crate::names::{PLANS, POOL};
use crate::output::{Output, WrittenFile};
use crate::person::{
    iso_millis, pick_from, push_base62, random_base62, random_hex, Keyed, Kind, People, Person,
    Skeleton, Social,
};
use crate::GenError;

pub const USERS_FILE: &str = "users.ndjson";
pub const USERS_FILE_GZ: &str = "users.ndjson.gz";
pub const HASHES_FILE: &str = "password-hashes.ndjson";
pub const ROLES_FILE: &str = "roles.json";

/// The database connection every password user belongs to (Auth0's default name).
pub const DB_CONNECTION: &str = "Username-Password-Authentication";
/// Tenant name written into the hash export.
pub const TENANT: &str = "kcm-synthetic";
/// Cost factor of Auth0-created bcrypt hashes.
const BCRYPT_COST: &str = "10";
/// Share of password users that sign in with a username as well as an e-mail.
const USERNAME_PROBABILITY: f64 = 0.2;
/// Share of users with an MFA enrolment.
const MFA_PROBABILITY: f64 = 0.1;

/// bcrypt's radix-64 alphabet without padding: 16 salt bytes give the 22 characters and 23
/// hash bytes the 31 characters of an MCF string, with the same canonical last characters
/// real bcrypt produces.
const BCRYPT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::BCRYPT,
    GeneralPurposeConfig::new().with_encode_padding(false),
);

/// Write the three Auth0 files into `dir`.
pub fn write(dir: &Path, users: u64, seed: u64, gzip: bool) -> Result<Vec<WrittenFile>, GenError> {
    let users_name = if gzip { USERS_FILE_GZ } else { USERS_FILE };
    let mut users_out = Output::create(&dir.join(users_name), gzip)?;
    let mut hashes_out = Output::create(&dir.join(HASHES_FILE), false)?;
    let mut people = People::new(seed);
    let keyed = people.keyed();
    let mut line = Vec::with_capacity(2048);

    for _ in 0..users {
        let person = people.next_person();
        let user_id = user_id(&person.skeleton);
        let rng = people.rng();
        let extras = Extras::draw(rng, &person);

        line.clear();
        serde_json::to_writer(&mut line, &user_record(&person, &user_id, &extras))?;
        line.push(b'\n');
        users_out.write_all(&line)?;

        if person.skeleton.kind.has_password() {
            line.clear();
            serde_json::to_writer(&mut line, &hash_row(rng, &person, &extras))?;
            line.push(b'\n');
            hashes_out.write_all(&line)?;
        }
    }
    let mut files = vec![users_out.finish()?, hashes_out.finish()?];
    files.push(write_roles(&dir.join(ROLES_FILE), users, keyed)?);
    Ok(files)
}

/// The Auth0 `user_id` of user `sk.index`, derivable from the skeleton alone so the roles file
/// can name members without remembering them.
pub fn user_id(sk: &Skeleton) -> String {
    match sk.kind {
        Kind::SocialOnly(social) => {
            format!("{}|{}", social_provider(social), social_id(social, sk))
        }
        Kind::Password | Kind::PasswordLinked(_) => format!("auth0|{}", db_id(sk)),
    }
}

/// The database identity id: the custom `alt_id` or the MongoDB object id.
fn db_id(sk: &Skeleton) -> String {
    if sk.alt_id {
        alt_id(sk)
    } else {
        oid(sk)
    }
}

fn alt_id(sk: &Skeleton) -> String {
    // The index keeps it unique; custom databases often use such sequential legacy ids.
    format!("legacy-{:08}", sk.index)
}

/// 24 hex digits like a MongoDB ObjectId; the last 16 are a bijection of the index.
fn oid(sk: &Skeleton) -> String {
    format!("{:08x}{:016x}", (sk.bits >> 32) as u32, sk.unique)
}

fn social_provider(social: Social) -> &'static str {
    match social {
        Social::Google => "google-oauth2",
        Social::Github => "github",
        Social::Apple => "apple",
    }
}

/// The id at the social provider, in each provider's real shape.
fn social_id(social: Social, sk: &Skeleton) -> String {
    match social {
        // 21-digit Google subject.
        Social::Google => format!("1{:020}", sk.unique),
        // GitHub numeric ids; the low 32 bits of a bijection are unique below 2^32 users.
        Social::Github => format!("{}", (sk.unique & 0xFFFF_FFFF) + 1),
        // Sign in with Apple: `000123.<32 hex>.0456`.
        Social::Apple => format!(
            "{:06}.{:016x}{:016x}.{:04}",
            sk.bits % 1_000_000,
            sk.unique,
            sk.bits,
            (sk.bits >> 20) % 10_000
        ),
    }
}

/// Per-user values drawn from the sequential stream, shared by the user record and the hash
/// row so both agree.
struct Extras {
    username: Option<String>,
    nickname: String,
    picture: String,
    multifactor: bool,
    newsletter: bool,
    theme: &'static str,
    plan: &'static str,
    linked_email_verified: bool,
}

impl Extras {
    fn draw(rng: &mut impl Rng, p: &Person) -> Self {
        let username = (p.skeleton.kind.has_password() && rng.random_bool(USERNAME_PROBABILITY))
            .then(|| format!("{}{}", p.first.ascii, p.skeleton.index));
        let nickname = p
            .own_email
            .split('@')
            .next()
            .unwrap_or(p.first.ascii)
            .to_string();
        // Linking a social account usually brings its picture along; Apple provides none.
        let picture = match p.skeleton.kind {
            Kind::SocialOnly(Social::Google) | Kind::PasswordLinked(Social::Google) => format!(
                "https://lh3.googleusercontent.com/a/ACg8oc{}=s96-c",
                random_base62(rng, 40)
            ),
            Kind::SocialOnly(Social::Github) | Kind::PasswordLinked(Social::Github) => format!(
                "https://avatars.githubusercontent.com/u/{}?v=4",
                (p.skeleton.unique & 0xFFFF_FFFF) + 1
            ),
            _ => {
                let initials: String = [p.first.ascii, p.last.ascii]
                    .iter()
                    .filter_map(|s| s.chars().next())
                    .collect();
                format!(
                    "https://s.gravatar.com/avatar/{}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F{initials}.png",
                    random_hex(rng, 32)
                )
            }
        };
        Self {
            username,
            nickname,
            picture,
            multifactor: rng.random_bool(MFA_PROBABILITY),
            newsletter: rng.random_bool(0.4),
            theme: if rng.random_bool(0.3) {
                "dark"
            } else {
                "light"
            },
            plan: *pick_from(rng, PLANS),
            linked_email_verified: rng.random_bool(0.9),
        }
    }
}

#[derive(Serialize)]
struct UserRecord<'a> {
    user_id: &'a str,
    email: &'a str,
    email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<&'a str>,
    name: &'a str,
    given_name: &'a str,
    family_name: &'a str,
    nickname: &'a str,
    picture: &'a str,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_login: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_ip: Option<String>,
    logins_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_password_reset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multifactor: Option<[&'static str; 1]>,
    identities: Vec<Identity<'a>>,
    user_metadata: UserMetadata<'a>,
    app_metadata: AppMetadata<'a>,
}

#[derive(Serialize)]
struct Identity<'a> {
    connection: &'a str,
    provider: &'a str,
    user_id: String,
    #[serde(rename = "isSocial")]
    is_social: bool,
    #[serde(rename = "profileData", skip_serializing_if = "Option::is_none")]
    profile_data: Option<ProfileData<'a>>,
}

/// What Auth0 keeps of a linked (secondary) account.
#[derive(Serialize)]
struct ProfileData<'a> {
    email: &'a str,
    email_verified: bool,
}

#[derive(Serialize)]
struct UserMetadata<'a> {
    preferred_language: &'a str,
    newsletter: bool,
    theme: &'a str,
    /// Social sign-ups fill a short profile form; database users never did.
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<Address<'a>>,
}

#[derive(Serialize)]
struct Address<'a> {
    city: &'a str,
    country: &'a str,
}

#[derive(Serialize)]
struct AppMetadata<'a> {
    plan: &'a str,
}

fn identity_for(social: Social, sk: &Skeleton) -> Identity<'static> {
    let provider = social_provider(social);
    Identity {
        connection: provider,
        provider,
        user_id: social_id(social, sk),
        is_social: true,
        profile_data: None,
    }
}

fn user_record<'a>(p: &'a Person, user_id: &'a str, x: &'a Extras) -> UserRecord<'a> {
    let sk = &p.skeleton;
    let mut identities = Vec::with_capacity(2);
    match sk.kind {
        Kind::SocialOnly(social) => identities.push(identity_for(social, sk)),
        Kind::Password | Kind::PasswordLinked(_) => {
            identities.push(Identity {
                connection: DB_CONNECTION,
                provider: "auth0",
                user_id: db_id(sk),
                is_social: false,
                profile_data: None,
            });
            if let Kind::PasswordLinked(social) = sk.kind {
                let mut linked = identity_for(social, sk);
                linked.profile_data = Some(ProfileData {
                    email: &p.own_email,
                    email_verified: x.linked_email_verified,
                });
                identities.push(linked);
            }
        }
    }
    UserRecord {
        user_id,
        email: &p.email,
        email_verified: p.email_verified,
        username: x.username.as_deref(),
        phone_number: p.phone.as_deref(),
        name: &p.full_name,
        given_name: p.first.display,
        family_name: p.last.display,
        nickname: &x.nickname,
        picture: &x.picture,
        created_at: iso_millis(p.created_ms),
        updated_at: iso_millis(p.updated_ms),
        last_login: p.last_login_ms.map(iso_millis),
        last_ip: p.last_login_ms.map(|_| p.ip_string()),
        logins_count: p.logins_count,
        last_password_reset: (sk.kind.has_password() && p.password_reset())
            .then(|| iso_millis(p.password_changed_ms)),
        blocked: p.disabled.then_some(true),
        multifactor: x.multifactor.then_some(["guardian"]),
        identities,
        user_metadata: UserMetadata {
            preferred_language: p.culture.locale,
            newsletter: x.newsletter,
            theme: x.theme,
            address: matches!(sk.kind, Kind::SocialOnly(_)).then_some(Address {
                city: p.city,
                country: p.culture.country,
            }),
        },
        app_metadata: AppMetadata { plan: x.plan },
    }
}

#[derive(Serialize)]
struct HashRow<'a> {
    #[serde(rename = "_id")]
    id: Oid,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    email_verified: bool,
    tenant: &'a str,
    connection: &'a str,
    #[serde(rename = "passwordHash")]
    password_hash: String,
    password_set_date: Date,
    #[serde(rename = "_tmp_is_unique")]
    tmp_is_unique: bool,
    version: &'a str,
    identifiers: Vec<Identifier<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_password_reset: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alt_id: Option<String>,
}

#[derive(Serialize)]
struct Oid {
    #[serde(rename = "$oid")]
    oid: String,
}

#[derive(Serialize)]
struct Date {
    #[serde(rename = "$date")]
    date: String,
}

#[derive(Serialize)]
struct Identifier<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: Option<bool>,
}

fn hash_row<'a>(rng: &mut impl RngCore, p: &'a Person, x: &'a Extras) -> HashRow<'a> {
    let sk = &p.skeleton;
    let mut identifiers = vec![Identifier {
        kind: "email",
        value: &p.email,
        verified: Some(p.email_verified),
    }];
    if let Some(username) = x.username.as_deref() {
        identifiers.push(Identifier {
            kind: "username",
            value: username,
            verified: None,
        });
    }
    let reset = p.password_reset();
    HashRow {
        id: Oid { oid: oid(sk) },
        email: &p.email,
        username: x.username.as_deref(),
        email_verified: p.email_verified,
        tenant: TENANT,
        connection: DB_CONNECTION,
        password_hash: fake_bcrypt(rng),
        password_set_date: Date {
            date: iso_millis(p.password_changed_ms),
        },
        tmp_is_unique: !p.duplicate_email,
        version: "1.1",
        identifiers,
        last_password_reset: reset.then(|| Date {
            date: iso_millis(p.password_changed_ms),
        }),
        alt_id: sk.alt_id.then(|| alt_id(sk)),
    }
}

/// A syntactically valid bcrypt MCF string (`$2b$10$` + 22-char salt + 31-char hash) made of
/// random bytes. Computing real bcrypt costs ~50 ms per user at cost 10, far too slow for
/// millions of users; no password verifies against these.
pub fn fake_bcrypt(rng: &mut impl RngCore) -> String {
    let mut salt = [0u8; 16];
    let mut hash = [0u8; 23];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut hash);
    format!(
        "$2b${BCRYPT_COST}${}{}",
        BCRYPT_B64.encode(salt),
        BCRYPT_B64.encode(hash)
    )
}

/// Stream the roles file: for each role, one pass over all user indices, writing the ids of
/// users whose (recomputed) role set contains it. One member id per line keeps lines short.
fn write_roles(path: &Path, users: u64, keyed: Keyed) -> Result<WrittenFile, GenError> {
    let mut out = Output::create(path, false)?;
    out.write_all(b"{\"roles\":[\n")?;
    for (r, entry) in POOL.iter().enumerate() {
        let mut id = String::from("rol_");
        push_base62(&mut id, keyed.pool_bits(r), 16);
        if r > 0 {
            out.write_all(b",\n")?;
        }
        write!(out, "{{\"id\":\"{id}\",\"name\":")?;
        serde_json::to_writer(&mut out, entry.role)?;
        out.write_all(b",\"description\":")?;
        serde_json::to_writer(&mut out, entry.description)?;
        out.write_all(b",\"users\":[")?;
        let mut first = true;
        for i in 0..users {
            if !keyed.roles(i).contains(r) {
                continue;
            }
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            // User ids are ASCII without quotes or backslashes; no escaping needed.
            write!(out, "\"{}\"", user_id(&keyed.skeleton(i)))?;
        }
        out.write_all(b"]}")?;
    }
    out.write_all(b"\n]}\n")?;
    Ok(out.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn fake_bcrypt_has_the_mcf_shape() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1000 {
            let h = fake_bcrypt(&mut rng);
            assert_eq!(h.len(), 60, "{h}");
            assert!(h.starts_with("$2b$10$"));
            let body = &h[7..];
            assert!(body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/'));
            // Canonical bcrypt: the last salt char carries 2 bits, the last hash char 4.
            assert!(".Oeu".contains(&body[21..22]), "{h}");
            assert!(".CGKOSWaeimquy26".contains(&body[52..53]), "{h}");
        }
    }

    #[test]
    fn user_ids_have_provider_shapes() {
        let keyed = Keyed::new(5);
        let mut seen = (false, false, false, false);
        for i in 0..2_000 {
            let sk = keyed.skeleton(i);
            let id = user_id(&sk);
            match sk.kind {
                Kind::SocialOnly(Social::Google) => {
                    seen.0 = true;
                    let digits = id.strip_prefix("google-oauth2|").unwrap();
                    assert_eq!(digits.len(), 21);
                    assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                }
                Kind::SocialOnly(Social::Github) => {
                    seen.1 = true;
                    assert!(id.strip_prefix("github|").unwrap().parse::<u64>().is_ok());
                }
                Kind::SocialOnly(Social::Apple) => {
                    seen.2 = true;
                    assert!(id.starts_with("apple|"));
                }
                _ if sk.alt_id => {
                    seen.3 = true;
                    assert_eq!(id, format!("auth0|legacy-{i:08}"));
                }
                _ => {
                    let hex = id.strip_prefix("auth0|").unwrap();
                    assert_eq!(hex.len(), 24);
                    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
                }
            }
        }
        assert_eq!(seen, (true, true, true, true));
    }
}
