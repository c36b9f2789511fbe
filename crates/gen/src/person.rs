//! The provider-independent part of a synthetic user.
//!
//! Two kinds of randomness, on purpose:
//! - The *skeleton* of user `i` (social-only or password, linked identity, custom id, roles,
//!   id bits) is a pure function of the seed and `i` ([`Keyed::skeleton`]). That lets a side
//!   file grouped differently from the users file (the Auth0 roles file lists each role's
//!   members) be written by recomputing skeletons, one cheap pass per role, instead of keeping
//!   every user's roles in memory or in temp files.
//! - Everything else (names, timestamps, metadata) comes from one sequential ChaCha stream
//!   ([`People`]), consumed strictly in user order so output is byte-identical for a seed.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::names::{Culture, Name, CULTURES, EMAIL_DOMAINS, POOL};

/// Per-10k of users who sign in only through a social identity (no password hash).
pub const SOCIAL_ONLY_PER_10K: u64 = 2_500;
/// Per-10k of users with a password *and* a linked social identity.
pub const LINKED_PER_10K: u64 = 400;
/// Per-100 of password users whose id is a custom-database `alt_id`.
pub const ALT_ID_PERCENT: u64 = 3;
/// Probability that a user is blocked / disabled / suspended.
pub const DISABLED_PROBABILITY: f64 = 0.03;
/// Probability that a user reuses the previous user's e-mail address.
pub const DUPLICATE_EMAIL_PROBABILITY: f64 = 0.01;
/// Probability that a user has a phone number.
pub const PHONE_PROBABILITY: f64 = 0.2;
/// Probability that a user never signed in.
pub const NEVER_LOGGED_IN_PROBABILITY: f64 = 0.1;
/// Probability that a user changed their password after creating the account.
pub const PASSWORD_RESET_PROBABILITY: f64 = 0.3;
/// Most roles/groups one user holds.
pub const MAX_ROLES: usize = 3;

/// Earliest account creation: 2016-01-01T00:00:00Z in ms.
const CREATED_FROM_MS: i64 = 1_451_606_400_000;
/// Latest account creation: 2025-01-01T00:00:00Z in ms.
const CREATED_TO_MS: i64 = 1_735_689_600_000;
/// "Now" for last logins and updates: 2025-06-01T00:00:00Z in ms. Fixed, never the wall
/// clock, so output does not depend on when the generator runs.
pub const NOW_MS: i64 = 1_748_736_000_000;

// Lanes separate the independent hash draws made for one user index.
const LANE_KIND: u64 = 1;
const LANE_SOCIAL: u64 = 2;
const LANE_ALT: u64 = 3;
const LANE_ROLE_COUNT: u64 = 4;
const LANE_ROLE_PICK: u64 = 5; // .. LANE_ROLE_PICK + ROLE_PICK_ATTEMPTS
const ROLE_PICK_ATTEMPTS: u64 = 16;
const LANE_ID_A: u64 = 40;
const LANE_ID_B: u64 = 41;
const LANE_POOL_ID: u64 = 50;

/// A social identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Social {
    Google,
    Github,
    Apple,
}

/// How a user signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Database user with a password hash.
    Password,
    /// Database user with a password hash and a linked social identity.
    PasswordLinked(Social),
    /// Social identity only, no password hash.
    SocialOnly(Social),
}

impl Kind {
    pub fn has_password(self) -> bool {
        !matches!(self, Kind::SocialOnly(_))
    }

    pub fn social(self) -> Option<Social> {
        match self {
            Kind::Password => None,
            Kind::PasswordLinked(s) | Kind::SocialOnly(s) => Some(s),
        }
    }
}

/// One to [`MAX_ROLES`] distinct indices into [`POOL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleSet {
    len: u8,
    items: [u8; MAX_ROLES],
}

impl RoleSet {
    pub fn contains(&self, pool_index: usize) -> bool {
        self.iter().any(|r| r == pool_index)
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.items[..usize::from(self.len)]
            .iter()
            .map(|&r| usize::from(r))
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The part of user `i` that side files need to recompute.
#[derive(Debug, Clone, Copy)]
pub struct Skeleton {
    pub index: u64,
    pub kind: Kind,
    /// Custom-database id (Auth0 `alt_id`); only for password users.
    pub alt_id: bool,
    /// Unique per index (a bijection of it), for ids that must never collide.
    pub unique: u64,
    /// Extra id bits (not unique on their own).
    pub bits: u64,
}

/// The seed-derived key for skeletons.
#[derive(Debug, Clone, Copy)]
pub struct Keyed {
    key: u64,
}

/// A bijection on u64 mixed with a key: distinct inputs always give distinct outputs, which
/// is what makes ids built from it unique without remembering issued ids.
fn permute(key: u64, x: u64) -> u64 {
    let mut z = x ^ key;
    z = z.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z ^= z >> 31;
    z = z.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^= z >> 29;
    z = z.wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 32)
}

impl Keyed {
    pub fn new(seed: u64) -> Self {
        // A different stream than People's, so the two sources of randomness are independent.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        Self {
            key: rng.next_u64(),
        }
    }

    /// A hash of `(i, lane)`.
    pub fn hash(&self, i: u64, lane: u64) -> u64 {
        permute(self.key ^ lane.wrapping_mul(0xD6E8_FEB8_6659_FD93), i)
    }

    pub fn roles(&self, i: u64) -> RoleSet {
        let count = match self.hash(i, LANE_ROLE_COUNT) % 100 {
            0..=54 => 1,
            55..=84 => 2,
            _ => 3,
        };
        let total: u64 = POOL.iter().map(|p| u64::from(p.weight)).sum();
        let mut set = RoleSet {
            len: 0,
            items: [0; MAX_ROLES],
        };
        for attempt in 0..ROLE_PICK_ATTEMPTS {
            if usize::from(set.len) == count {
                break;
            }
            let mut r = self.hash(i, LANE_ROLE_PICK + attempt) % total;
            let mut pick = 0;
            for (idx, entry) in POOL.iter().enumerate() {
                let w = u64::from(entry.weight);
                if r < w {
                    pick = idx;
                    break;
                }
                r -= w;
            }
            if !set.contains(pick) {
                // POOL has far fewer than 256 entries.
                set.items[usize::from(set.len)] = pick as u8;
                set.len += 1;
            }
        }
        set
    }

    pub fn skeleton(&self, i: u64) -> Skeleton {
        let social = match self.hash(i, LANE_SOCIAL) % 100 {
            0..=59 => Social::Google,
            60..=84 => Social::Github,
            _ => Social::Apple,
        };
        let k = self.hash(i, LANE_KIND) % 10_000;
        let kind = if k < SOCIAL_ONLY_PER_10K {
            Kind::SocialOnly(social)
        } else if k < SOCIAL_ONLY_PER_10K + LINKED_PER_10K {
            Kind::PasswordLinked(social)
        } else {
            Kind::Password
        };
        Skeleton {
            index: i,
            kind,
            alt_id: kind.has_password() && self.hash(i, LANE_ALT) % 100 < ALT_ID_PERCENT,
            unique: self.hash(i, LANE_ID_A),
            bits: self.hash(i, LANE_ID_B),
        }
    }

    /// Bits for the id of pool entry `r` (Auth0 `rol_…`).
    pub fn pool_bits(&self, r: usize) -> u64 {
        self.hash(r as u64, LANE_POOL_ID)
    }
}

/// A synthetic user, before it is rendered in a provider's format.
#[derive(Debug, Clone)]
pub struct Person {
    pub skeleton: Skeleton,
    pub roles: RoleSet,
    pub culture: &'static Culture,
    pub first: Name,
    pub last: Name,
    /// Full name in the culture's order.
    pub full_name: String,
    /// The user's own, unique address (used for logins).
    pub own_email: String,
    /// The address in the export: `own_email`, or the previous user's for a duplicate.
    pub email: String,
    pub duplicate_email: bool,
    pub email_verified: bool,
    /// Blocked (Auth0), disabled (Firebase), suspended/deactivated (Okta).
    pub disabled: bool,
    pub created_ms: i64,
    pub last_login_ms: Option<i64>,
    pub updated_ms: i64,
    pub password_changed_ms: i64,
    pub logins_count: u32,
    pub ip: [u8; 4],
    pub phone: Option<String>,
    pub city: &'static str,
}

/// Streams persons in index order. Memory is constant: only the previous user's address is
/// kept, to make duplicates.
pub struct People {
    keyed: Keyed,
    rng: ChaCha8Rng,
    next: u64,
    prev_email: Option<String>,
    culture_total: u32,
}

impl People {
    pub fn new(seed: u64) -> Self {
        Self {
            keyed: Keyed::new(seed),
            rng: ChaCha8Rng::seed_from_u64(seed),
            next: 0,
            prev_email: None,
            culture_total: CULTURES.iter().map(|c| c.weight).sum(),
        }
    }

    pub fn keyed(&self) -> Keyed {
        self.keyed
    }

    /// The sequential generator, for provider-specific draws made right after a person.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    pub fn next_person(&mut self) -> Person {
        let i = self.next;
        self.next += 1;
        let skeleton = self.keyed.skeleton(i);
        let roles = self.keyed.roles(i);
        let rng = &mut self.rng;

        let mut pick = rng.random_range(0..self.culture_total);
        let mut culture = &CULTURES[0];
        for c in CULTURES {
            if pick < c.weight {
                culture = c;
                break;
            }
            pick -= c.weight;
        }
        let first = *pick_from(rng, culture.first);
        let last = *pick_from(rng, culture.last);
        let full_name = if culture.family_first {
            format!("{}{}", last.display, first.display)
        } else {
            format!("{} {}", first.display, last.display)
        };
        let domain = pick_from(rng, EMAIL_DOMAINS);
        // Every pattern ends in the index after a separator the names never contain, so
        // addresses are unique without remembering issued ones.
        let own_email = match rng.random_range(0..3) {
            0 => format!("{}.{}.{i}@{domain}", first.ascii, last.ascii),
            1 => format!("{}_{}{i}@{domain}", first.ascii, last.ascii),
            _ => format!(
                "{}{}.{i}@{domain}",
                first.ascii.get(..1).unwrap_or("x"),
                last.ascii
            ),
        };
        let duplicate_email =
            self.prev_email.is_some() && rng.random_bool(DUPLICATE_EMAIL_PROBABILITY);
        let email = match (&self.prev_email, duplicate_email) {
            (Some(prev), true) => prev.clone(),
            _ => own_email.clone(),
        };
        let email_verified = rng.random_bool(0.8);
        let disabled = rng.random_bool(DISABLED_PROBABILITY);
        let created_ms = rng.random_range(CREATED_FROM_MS..CREATED_TO_MS);
        let (last_login_ms, logins_count) = if rng.random_bool(NEVER_LOGGED_IN_PROBABILITY) {
            (None, 0)
        } else {
            (
                Some(rng.random_range(created_ms..NOW_MS)),
                rng.random_range(1..2_000),
            )
        };
        let updated_ms = rng.random_range(last_login_ms.unwrap_or(created_ms)..=NOW_MS);
        // Most users never reset their password: it was set when the account was created.
        let password_changed_ms = if rng.random_bool(PASSWORD_RESET_PROBABILITY) {
            rng.random_range(created_ms..=updated_ms)
        } else {
            created_ms
        };
        let ip = [
            rng.random_range(1..224),
            rng.random(),
            rng.random(),
            rng.random_range(1..255),
        ];
        let phone = rng
            .random_bool(PHONE_PROBABILITY)
            .then(|| format!("+1555{:07}", rng.random_range(0..10_000_000u32)));
        let city = *pick_from(rng, culture.cities);

        self.prev_email = Some(own_email.clone());
        Person {
            skeleton,
            roles,
            culture,
            first,
            last,
            full_name,
            own_email,
            email,
            duplicate_email,
            email_verified,
            disabled,
            created_ms,
            last_login_ms,
            updated_ms,
            password_changed_ms,
            logins_count,
            ip,
            phone,
            city,
        }
    }
}

impl Person {
    /// Whether the password was changed after the account was created.
    pub fn password_reset(&self) -> bool {
        self.password_changed_ms > self.created_ms
    }

    pub fn ip_string(&self) -> String {
        let [a, b, c, d] = self.ip;
        format!("{a}.{b}.{c}.{d}")
    }

    /// Role names (Auth0 / Firebase vocabulary).
    pub fn role_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.roles
            .iter()
            .filter_map(|r| POOL.get(r))
            .map(|p| p.role)
    }

    /// Group names (Okta vocabulary).
    pub fn group_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.roles
            .iter()
            .filter_map(|r| POOL.get(r))
            .map(|p| p.group)
    }
}

/// Pick one element; the tables are static and non-empty.
pub fn pick_from<'t, T>(rng: &mut impl Rng, items: &'t [T]) -> &'t T {
    &items[rng.random_range(0..items.len())]
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append `len` base-62 digits of `x` (least significant first; zero-padded).
pub fn push_base62(out: &mut String, mut x: u64, len: usize) {
    for _ in 0..len {
        out.push(char::from(BASE62[(x % 62) as usize]));
        x /= 62;
    }
}

/// `len` random base-62 characters.
pub fn random_base62(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())]))
        .collect()
}

/// `len` random lowercase hex characters.
pub fn random_hex(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(HEX[rng.random_range(0..HEX.len())]))
        .collect()
}

/// Format milliseconds since the Unix epoch as ISO-8601 UTC with milliseconds, the way the
/// providers do (`2023-01-25T17:48:14.784Z`).
pub fn iso_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_millis_matches_known_dates() {
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(1_674_668_894_784), "2023-01-25T17:48:14.784Z");
        assert_eq!(iso_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_millis(NOW_MS), "2025-06-01T00:00:00.000Z");
    }

    #[test]
    fn permute_is_injective_on_a_range() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000 {
            assert!(seen.insert(permute(42, i)));
        }
    }

    #[test]
    fn role_sets_have_one_to_three_distinct_roles() {
        let keyed = Keyed::new(7);
        for i in 0..10_000 {
            let set = keyed.roles(i);
            assert!((1..=MAX_ROLES).contains(&set.len()), "user {i}: {set:?}");
            let v: Vec<_> = set.iter().collect();
            let mut d = v.clone();
            d.sort_unstable();
            d.dedup();
            assert_eq!(d.len(), v.len());
        }
    }

    #[test]
    fn skeletons_are_pure_functions_of_seed_and_index() {
        let a = Keyed::new(3);
        let b = Keyed::new(3);
        let c = Keyed::new(4);
        assert_eq!(a.skeleton(99).unique, b.skeleton(99).unique);
        assert_eq!(a.roles(99), b.roles(99));
        assert_ne!(a.skeleton(99).unique, c.skeleton(99).unique);
    }
}
