//! Duplicate detection across the whole input: which usernames and e-mail addresses are
//! already taken by a planned user.
//!
//! Only a 128-bit digest of each key is kept, with the place (file and line) of the user that
//! took it, so memory stays near 32 bytes per key even at millions of users. Keys are compared
//! after normalisation (lower-cased), so duplicates are case-insensitive.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use kcm_model::Provenance;

/// 128 bits of SHA-256 over a namespaced key: collisions are negligible at any realistic
/// user count, and the key itself is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KeyDigest(u64, u64);

impl std::hash::Hash for KeyDigest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The digest is already uniformly distributed: feed one half to the map's hasher.
        state.write_u64(self.0);
    }
}

/// A pass-through hasher for [`KeyDigest`]: re-hashing a cryptographic digest is wasted work.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Where the first holder of a key was read: an index into the interned file names and the
/// line (saturated at `u32::MAX`, far beyond any real export).
#[derive(Debug, Clone, Copy)]
struct Seen {
    file: u32,
    line: u32,
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

type DigestMap = HashMap<KeyDigest, Seen, BuildHasherDefault<DigestHasher>>;

/// The set of taken usernames and e-mails.
#[derive(Default)]
pub struct KeySets {
    usernames: DigestMap,
    emails: DigestMap,
    files: Vec<Arc<str>>,
}

/// A 128-bit digest of a normalised key, seeded by its kind. XXH3-128 rather than a
/// cryptographic hash: the keys are not adversarial secrets, collisions at 128 bits are
/// negligible even over hundreds of millions of users, and this runs for every user (SHA-256
/// in software was a tenth of `plan`'s time).
fn digest(kind: KeyKind, key: &str) -> KeyDigest {
    let h = xxhash_rust::xxh3::xxh3_128_with_seed(key.as_bytes(), kind.seed());
    KeyDigest(h as u64, (h >> 64) as u64)
}

impl KeySets {
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self, kind: KeyKind) -> &DigestMap {
        match kind {
            KeyKind::Username => &self.usernames,
            KeyKind::Email => &self.emails,
        }
    }

    /// Who holds `key` already, if anyone. `key` must be normalised by the caller.
    pub fn holder(&self, kind: KeyKind, key: &str) -> Option<FirstHolder> {
        let seen = self.map(kind).get(&digest(kind, key))?;
        Some(FirstHolder {
            file: self
                .files
                .get(seen.file as usize)
                .cloned()
                .unwrap_or_else(|| Arc::from("")),
            line: u64::from(seen.line),
        })
    }

    /// Record `key` as taken by the user at `provenance` (the first holder wins).
    pub fn insert(&mut self, kind: KeyKind, key: &str, provenance: &Provenance) {
        let file = self.intern(&provenance.file);
        let line = u32::try_from(provenance.line).unwrap_or(u32::MAX);
        let d = digest(kind, key);
        let map = match kind {
            KeyKind::Username => &mut self.usernames,
            KeyKind::Email => &mut self.emails,
        };
        map.entry(d).or_insert(Seen { file, line });
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
        self.map(kind).len()
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
        k.insert(KeyKind::Email, "x@y.z", &p1);
        k.insert(KeyKind::Email, "x@y.z", &p2);
        k.insert(KeyKind::Username, "ada", &p2);
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
}
