//! Duplicate detection across the whole input: which usernames and e-mail addresses are
//! already taken by a planned user.
//!
//! Only an 88-bit digest of each key is kept, with the place (file and line) of the user that
//! took it: 16 bytes per key (about 25 with the table's free room) even at millions of users.
//! Keys are compared after normalisation (lower-cased), so duplicates are case-insensitive.

use std::collections::HashMap;
use std::sync::Arc;

use hashbrown::HashTable;
use kcm_model::Provenance;

/// An 88-bit digest of a namespaced key (XXH3-128, truncated): collisions are negligible at
/// any realistic user count (about 10^-13 at ten million keys), and the key itself is not
/// kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct KeyDigest {
    hi: u64,
    /// 24 bits.
    lo: u32,
}

/// Low bits of [`Slot::lo`] that belong to the digest.
const DIGEST_LO_MASK: u32 = (1 << 24) - 1;
/// Bit of [`Slot::lo`] set on a username slot whose user has the same text as e-mail: the
/// one slot stands for both keys (usernames are often the e-mail address).
const ALSO_EMAIL: u32 = 1 << 24;
/// Bits of [`Slot::lo`] above [`ALSO_EMAIL`]: the file index.
const FILE_SHIFT: u32 = 25;
/// File value meaning "the file or line did not fit; see `KeySets::far`".
const FAR_FILE: u32 = u32::MAX >> FILE_SHIFT;
/// Segments of the table, chosen by the digest's top bits. Each grows on its own, so the
/// table never holds two full copies of itself while it grows.
const SEGMENTS: usize = 256;

/// One remembered key: the digest, the file (an index into the interned names) and the line
/// of the user that took it. 16 bytes.
#[derive(Debug, Clone, Copy)]
struct Slot {
    hi: u64,
    /// Digest bits 0..24, [`ALSO_EMAIL`], file index from [`FILE_SHIFT`] ([`FAR_FILE`]: see
    /// `KeySets::far`).
    lo: u32,
    line: u32,
}

impl Slot {
    fn digest(&self) -> KeyDigest {
        KeyDigest {
            hi: self.hi,
            lo: self.lo & DIGEST_LO_MASK,
        }
    }
}

/// Which kind of key collided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Username,
    Email,
}

impl KeyKind {
    /// Seeds the digest so a username and an e-mail with the same text never collide.
    fn seed(self) -> u64 {
        match self {
            KeyKind::Username => 1,
            KeyKind::Email => 2,
        }
    }
}

/// The place of the user that first took a key, as `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstHolder {
    pub file: Arc<str>,
    pub line: u64,
}

impl std::fmt::Display for FirstHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The digests of one user's keys, computed once for the look-ups and the insert.
pub struct UserKeys {
    username: KeyDigest,
    email: Option<EmailKeys>,
}

struct EmailKeys {
    as_email: KeyDigest,
    /// The e-mail's text as a username key (a user whose username is its e-mail holds it so).
    as_username: KeyDigest,
    /// The e-mail is the username.
    is_username: bool,
}

impl UserKeys {
    /// `username` and `email` must be normalised by the caller.
    pub fn new(username: &str, email: Option<&str>) -> Self {
        let username_digest = digest(KeyKind::Username, username);
        UserKeys {
            username: username_digest,
            email: email.map(|e| {
                let is_username = e == username;
                EmailKeys {
                    as_email: digest(KeyKind::Email, e),
                    as_username: if is_username {
                        username_digest
                    } else {
                        digest(KeyKind::Username, e)
                    },
                    is_username,
                }
            }),
        }
    }
}

/// The set of taken usernames and e-mails, both kinds in one table (their digests are
/// seeded apart).
pub struct KeySets {
    segments: Vec<HashTable<Slot>>,
    files: Vec<Arc<str>>,
    /// Holders whose file index (from the 127th file on) or line (from 2^32) does not fit in
    /// a [`Slot`].
    far: HashMap<KeyDigest, (u32, u64)>,
    len: [usize; 2],
}

impl Default for KeySets {
    fn default() -> Self {
        KeySets {
            segments: (0..SEGMENTS).map(|_| HashTable::new()).collect(),
            files: Vec::new(),
            far: HashMap::new(),
            len: [0; 2],
        }
    }
}

/// The digest of a normalised key, seeded by its kind. XXH3-128 rather than a
/// cryptographic hash: the keys are not adversarial secrets, and this runs for every user
/// (SHA-256 in software was a tenth of `plan`'s time).
fn digest(kind: KeyKind, key: &str) -> KeyDigest {
    let h = xxhash_rust::xxh3::xxh3_128_with_seed(key.as_bytes(), kind.seed());
    KeyDigest {
        hi: (h >> 64) as u64,
        lo: (h as u32) & DIGEST_LO_MASK,
    }
}

impl KeyDigest {
    fn segment(&self) -> usize {
        (self.hi >> 56) as usize % SEGMENTS
    }

    /// The hash inside a segment: the bits below the segment number come first, so the
    /// table's position and tag bits both vary.
    fn table_hash(&self) -> u64 {
        self.hi.rotate_left(8)
    }
}

fn slot_hash(slot: &Slot) -> u64 {
    slot.digest().table_hash()
}

impl KeySets {
    pub fn new() -> Self {
        Self::default()
    }

    fn find(&self, d: KeyDigest) -> Option<&Slot> {
        self.segments
            .get(d.segment())?
            .find(d.table_hash(), |s| s.digest() == d)
    }

    /// Who holds `key` already, if anyone. `key` must be normalised by the caller.
    #[cfg(test)]
    pub fn holder(&self, kind: KeyKind, key: &str) -> Option<FirstHolder> {
        let keys = match kind {
            KeyKind::Username => UserKeys::new(key, None),
            KeyKind::Email => UserKeys::new(key, Some(key)),
        };
        match kind {
            KeyKind::Username => self.username_holder(&keys),
            KeyKind::Email => self.email_holder(&keys),
        }
    }

    /// Who holds the user's username already, if anyone.
    pub fn username_holder(&self, keys: &UserKeys) -> Option<FirstHolder> {
        let slot = self.find(keys.username)?;
        Some(self.place(keys.username, slot))
    }

    /// Who holds the user's e-mail already, if anyone: as an e-mail, or as the username of a
    /// user whose username was its e-mail.
    pub fn email_holder(&self, keys: &UserKeys) -> Option<FirstHolder> {
        let email = keys.email.as_ref()?;
        if let Some(slot) = self.find(email.as_email) {
            return Some(self.place(email.as_email, slot));
        }
        let slot = self
            .find(email.as_username)
            .filter(|s| s.lo & ALSO_EMAIL != 0)?;
        Some(self.place(email.as_username, slot))
    }

    fn place(&self, d: KeyDigest, slot: &Slot) -> FirstHolder {
        let (file, line) = if slot.lo >> FILE_SHIFT == FAR_FILE {
            self.far.get(&d).copied().unwrap_or((u32::MAX, 0))
        } else {
            (slot.lo >> FILE_SHIFT, u64::from(slot.line))
        };
        FirstHolder {
            file: self
                .files
                .get(file as usize)
                .cloned()
                .unwrap_or_else(|| Arc::from("")),
            line,
        }
    }

    /// Record a planned user's username and e-mail (if any) as taken by the user at
    /// `provenance`; the first holder of a key wins. `username` and `email` must be
    /// normalised by the caller.
    #[cfg(test)]
    pub fn insert_user(&mut self, username: &str, email: Option<&str>, provenance: &Provenance) {
        self.claim(&UserKeys::new(username, email), true, provenance);
    }

    /// [`KeySets::insert_user`] with the digests already computed; the e-mail only if
    /// `keep_email` (it was not dropped as a duplicate).
    pub fn claim(&mut self, keys: &UserKeys, keep_email: bool, provenance: &Provenance) {
        match keys.email.as_ref().filter(|_| keep_email) {
            Some(email) if email.is_username => {
                self.insert(KeyKind::Username, keys.username, ALSO_EMAIL, provenance);
            }
            Some(email) => {
                self.insert(KeyKind::Username, keys.username, 0, provenance);
                self.insert(KeyKind::Email, email.as_email, 0, provenance);
            }
            None => self.insert(KeyKind::Username, keys.username, 0, provenance),
        }
    }

    fn insert(&mut self, kind: KeyKind, d: KeyDigest, flags: u32, provenance: &Provenance) {
        if self.find(d).is_some() {
            return;
        }
        let file = self.intern(&provenance.file);
        let line = u32::try_from(provenance.line)
            .ok()
            .filter(|&l| l != u32::MAX);
        let slot = match line {
            Some(line) if file < FAR_FILE => Slot {
                hi: d.hi,
                lo: d.lo | flags | (file << FILE_SHIFT),
                line,
            },
            _ => {
                self.far.insert(d, (file, provenance.line));
                Slot {
                    hi: d.hi,
                    lo: d.lo | flags | (FAR_FILE << FILE_SHIFT),
                    line: 0,
                }
            }
        };
        if let Some(segment) = self.segments.get_mut(d.segment()) {
            segment.insert_unique(d.table_hash(), slot, slot_hash);
            self.len[kind as usize] += 1;
        }
    }

    /// Files come one after another, so the last one is almost always the match.
    fn intern(&mut self, file: &Arc<str>) -> u32 {
        if let Some(i) = self.files.iter().rposition(|f| f == file) {
            return u32::try_from(i).unwrap_or(u32::MAX);
        }
        self.files.push(file.clone());
        u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
    }

    /// Number of keys remembered, per kind.
    #[cfg(test)]
    pub fn len(&self, kind: KeyKind) -> usize {
        self.len[kind as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_first_holder_per_kind() {
        let mut k = KeySets::new();
        let p1 = Provenance::new(Arc::from("a.json"), 3, 1);
        let p2 = Provenance::new(Arc::from("b.json"), 9, 1);
        assert!(k.holder(KeyKind::Email, "x@y.z").is_none());
        k.insert(KeyKind::Email, digest(KeyKind::Email, "x@y.z"), 0, &p1);
        k.insert(KeyKind::Email, digest(KeyKind::Email, "x@y.z"), 0, &p2);
        k.insert(KeyKind::Username, digest(KeyKind::Username, "ada"), 0, &p2);
        assert_eq!(
            k.holder(KeyKind::Email, "x@y.z").unwrap().to_string(),
            "a.json:3"
        );
        assert_eq!(
            k.holder(KeyKind::Username, "ada").unwrap().to_string(),
            "b.json:9"
        );
        // Namespaced: an e-mail key does not collide with the same text as a username.
        assert!(k.holder(KeyKind::Username, "x@y.z").is_none());
        assert_eq!((k.len(KeyKind::Email), k.len(KeyKind::Username)), (1, 1));
    }

    #[test]
    fn places_that_do_not_fit_a_slot_come_back_exactly() {
        let mut k = KeySets::new();
        // 300 files: from the 127th on, the file index no longer fits in a slot.
        for i in 0..300u64 {
            let p = Provenance::new(Arc::from(format!("f{i}.csv")), i + 1, 1);
            k.insert(
                KeyKind::Username,
                digest(KeyKind::Username, &format!("user{i}")),
                0,
                &p,
            );
        }
        let far_line = u64::from(u32::MAX) + 7;
        k.insert(
            KeyKind::Email,
            digest(KeyKind::Email, "far@example.org"),
            0,
            &Provenance::new(Arc::from("f0.csv"), far_line, 1),
        );
        for i in [0u64, 125, 126, 127, 254, 255, 299] {
            assert_eq!(
                k.holder(KeyKind::Username, &format!("user{i}"))
                    .unwrap()
                    .to_string(),
                format!("f{i}.csv:{}", i + 1)
            );
        }
        assert_eq!(
            k.holder(KeyKind::Email, "far@example.org").unwrap().line,
            far_line
        );
        assert_eq!((k.len(KeyKind::Username), k.len(KeyKind::Email)), (300, 1));
    }

    #[test]
    fn many_keys_stay_distinct_and_first_holders_win() {
        let mut k = KeySets::new();
        let file: Arc<str> = Arc::from("users.ndjson");
        for i in 0..50_000u64 {
            let p = Provenance::new(file.clone(), i + 1, i + 1);
            k.insert(
                KeyKind::Email,
                digest(KeyKind::Email, &format!("u{i}@example.org")),
                0,
                &p,
            );
        }
        for i in 0..50_000u64 {
            let p = Provenance::new(file.clone(), 100_000 + i, 1);
            k.insert(
                KeyKind::Email,
                digest(KeyKind::Email, &format!("u{i}@example.org")),
                0,
                &p,
            );
        }
        assert_eq!(k.len(KeyKind::Email), 50_000);
        for i in (0..50_000u64).step_by(997) {
            let h = k
                .holder(KeyKind::Email, &format!("u{i}@example.org"))
                .unwrap();
            assert_eq!(h.line, i + 1);
            assert!(k
                .holder(KeyKind::Username, &format!("u{i}@example.org"))
                .is_none());
        }
        assert!(k.holder(KeyKind::Email, "u50000@example.org").is_none());
    }

    #[test]
    fn a_username_that_is_the_email_takes_one_slot_for_both_keys() {
        let mut k = KeySets::new();
        let at = |line| Provenance::new(Arc::from("users.csv"), line, line);
        k.insert_user("ada@example.org", Some("ada@example.org"), &at(2));
        k.insert_user("bob", Some("bob@example.org"), &at(3));
        k.insert_user("carol@example.org", Some("c@example.org"), &at(4));
        k.insert_user("dave", None, &at(5));
        assert_eq!((k.len(KeyKind::Username), k.len(KeyKind::Email)), (4, 2));
        let line = |kind, key| k.holder(kind, key).map(|h| h.line);
        assert_eq!(line(KeyKind::Username, "ada@example.org"), Some(2));
        assert_eq!(line(KeyKind::Email, "ada@example.org"), Some(2));
        assert_eq!(line(KeyKind::Email, "bob@example.org"), Some(3));
        assert_eq!(line(KeyKind::Username, "bob@example.org"), None);
        assert_eq!(line(KeyKind::Email, "bob"), None);
        // A username that is not its own user's e-mail does not hold the e-mail key.
        assert_eq!(line(KeyKind::Email, "carol@example.org"), None);
        assert_eq!(line(KeyKind::Email, "c@example.org"), Some(4));
        assert_eq!(line(KeyKind::Email, "dave"), None);
    }
}
