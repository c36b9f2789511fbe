//! Role and group memberships that arrive in their own files, and the index that joins them
//! to users as the users stream past.
//!
//! The index keeps every membership until the end of the run (the unmatched ones are
//! reported then), so at millions of rows its layout decides the run's memory. Each
//! membership costs about 12 bytes of fixed fields, its member value (kept for the report;
//! `provider|hex` ids such as Auth0's packed to half their text), about a byte of provenance
//! and a share of an 8-byte hash slot: role and group names are interned, provenance is
//! delta-encoded in input order, and the lookup tables hold hashes and entry numbers rather
//! than formatted key strings. A hash match is always
//! confirmed against the stored value, so hash collisions never attach a membership to the
//! wrong user.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{Provenance, User};

/// Whether a membership grants a role or puts the user in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembershipKind {
    Role,
    Group,
}

/// How a membership row names its user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "lowercase")]
pub enum MemberRef {
    /// The source user id (exact match).
    Id(String),
    /// An e-mail address (case-insensitive).
    Email(String),
    /// A login/username (case-insensitive).
    Login(String),
    /// Unknown which: matched against id, e-mail and username.
    Any(String),
}

/// "User X has role/group Y", from a roles or membership file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub kind: MembershipKind,
    /// Role or group name.
    pub name: String,
    pub member: MemberRef,
    pub provenance: Provenance,
}

/// "No entry" in chains and slots.
const NONE: u32 = u32::MAX;
/// Most memberships the compact tables number (entry numbers are `u32`, one value is
/// reserved); further ones are kept in a plain list.
const MAX_ENTRIES: usize = (u32::MAX - 1) as usize;
/// Largest chunk of member-value bytes, so offsets inside a chunk fit in `u32`.
const MAX_ARENA_CHUNK: usize = u32::MAX as usize;
/// Slots of a lookup table when it is first needed.
const MIN_TABLE_SLOTS: usize = 16;

/// The four ways a membership names its user; each has its own lookup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Space {
    Id = 0,
    Mail = 1,
    Login = 2,
    Any = 3,
}

impl Space {
    const ALL: [Space; 4] = [Space::Id, Space::Mail, Space::Login, Space::Any];

    fn of(member: &MemberRef) -> (Space, &str) {
        match member {
            MemberRef::Id(v) => (Space::Id, v),
            MemberRef::Email(v) => (Space::Mail, v),
            MemberRef::Login(v) => (Space::Login, v),
            MemberRef::Any(v) => (Space::Any, v),
        }
    }

    fn from_code(code: u8) -> Space {
        Space::ALL
            .get(usize::from(code))
            .copied()
            .unwrap_or(Space::Any)
    }

    /// Whether keys compare case-insensitively.
    fn folds(self) -> bool {
        self != Space::Id
    }

    fn member(self, value: String) -> MemberRef {
        match self {
            Space::Id => MemberRef::Id(value),
            Space::Mail => MemberRef::Email(value),
            Space::Login => MemberRef::Login(value),
            Space::Any => MemberRef::Any(value),
        }
    }
}

/// The lookup key of a value: trimmed, and lower-cased where the space folds case.
fn normalize_into(out: &mut String, value: &str, fold: bool) {
    out.clear();
    let value = value.trim();
    if !fold {
        out.push_str(value);
    } else if value.is_ascii() {
        out.push_str(value);
        out.make_ascii_lowercase();
    } else {
        out.push_str(&value.to_lowercase());
    }
}

/// Whether a stored value has the (already normalised) lookup key `key`.
fn has_key(stored: &str, key: &str, fold: bool) -> bool {
    let stored = stored.trim();
    if !fold {
        stored == key
    } else if stored.is_ascii() {
        // `key` is lower-case, so this is `lowercase(stored) == key` without allocating.
        stored.eq_ignore_ascii_case(key)
    } else {
        stored.to_lowercase() == key
    }
}

/// One membership, in input order. Its member value is in the arena, its place in the
/// [`PlaceLog`].
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// End of the value in its arena chunk; it starts where the previous entry's ends (or at
    /// 0 for the first entry of a chunk).
    value_end: u32,
    /// Interned (kind, name).
    name: u32,
    /// The previous entry with the same key in the same space, or [`NONE`].
    next: u32,
}

/// An open-addressing table from a key's hash to the newest entry with that key. A slot is
/// `tag << 32 | (entry + 1)`, 0 when empty, where `tag` is the high half of the key's hash
/// and also picks the slot, so the table can grow without rehashing values.
#[derive(Debug, Default)]
struct Table {
    slots: Vec<u64>,
    keys: usize,
}

impl Table {
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The slot holding the key with this hash, according to `is_key(head entry)`, or the
    /// empty slot where it would go. `None` only for a table with no slots.
    fn probe(&self, hash: u64, mut is_key: impl FnMut(u32) -> bool) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let tag = hash >> 32;
        let mask = self.mask();
        let mut at = (tag as usize) & mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return Some(at);
            }
            if slot >> 32 == tag && is_key((slot as u32).wrapping_sub(1)) {
                return Some(at);
            }
            at = (at + 1) & mask;
        }
    }

    fn head(&self, hash: u64, is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        let at = self.probe(hash, is_key)?;
        match self.slots[at] {
            0 => None,
            slot => Some((slot as u32).wrapping_sub(1)),
        }
    }

    /// Make `entry` the newest entry of its key; returns the previous newest, or [`NONE`].
    /// False when the table cannot take another key.
    fn insert(&mut self, hash: u64, entry: u32, is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        if (self.keys + 1) * 4 > self.slots.len() * 3 && !self.grow() {
            return None;
        }
        let at = self.probe(hash, is_key)?;
        let old = self.slots[at];
        self.slots[at] = ((hash >> 32) << 32) | (u64::from(entry) + 1);
        if old == 0 {
            self.keys += 1;
            Some(NONE)
        } else {
            Some((old as u32).wrapping_sub(1))
        }
    }

    /// Double the table (at least [`MIN_TABLE_SLOTS`]); false when it cannot grow further
    /// (slot positions come from 32-bit tags).
    fn grow(&mut self) -> bool {
        let size = (self.slots.len() * 2).max(MIN_TABLE_SLOTS);
        if size > 1usize << 32 {
            return false;
        }
        let old = std::mem::replace(&mut self.slots, vec![0; size]);
        let mask = self.mask();
        for slot in old.into_iter().filter(|&s| s != 0) {
            let mut at = ((slot >> 32) as usize) & mask;
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
        true
    }
}

/// Where each entry came from (file, line, record) and how it names its member, as a byte
/// stream of differences from the previous entry: one byte for the usual case (same file
/// and space, line and record a little further on), a tagged varint record otherwise.
#[derive(Debug, Default)]
struct PlaceLog {
    bytes: Vec<u8>,
    last: Place,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Place {
    file: u32,
    space: u8,
    line: u64,
    record: u64,
}

/// Marks a full (tagged) record in the [`PlaceLog`]; a byte without it is
/// `record delta << 4 | line delta`.
const PLACE_FULL: u8 = 0x80;
const PLACE_NEW_FILE: u8 = 0x10;
const PLACE_SMALL_LINE: u64 = 16;
const PLACE_SMALL_RECORD: u64 = 8;

impl PlaceLog {
    fn push(&mut self, place: Place) {
        let last = self.last;
        let dl = place.line.wrapping_sub(last.line);
        let dr = place.record.wrapping_sub(last.record);
        if place.file == last.file
            && place.space == last.space
            && dl < PLACE_SMALL_LINE
            && dr < PLACE_SMALL_RECORD
        {
            self.bytes.push((dr as u8) << 4 | dl as u8);
        } else {
            let new_file = place.file != last.file;
            self.bytes
                .push(PLACE_FULL | if new_file { PLACE_NEW_FILE } else { 0 } | place.space);
            if new_file {
                put_varint(&mut self.bytes, u64::from(place.file));
            }
            put_varint(&mut self.bytes, dl);
            put_varint(&mut self.bytes, dr);
        }
        self.last = place;
    }

    fn iter(&self) -> PlaceIter<'_> {
        PlaceIter {
            bytes: &self.bytes,
            at: 0,
            last: Place::default(),
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct PlaceIter<'a> {
    bytes: &'a [u8],
    at: usize,
    last: Place,
}

impl PlaceIter<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte();
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                break;
            }
        }
        v
    }
}

impl Iterator for PlaceIter<'_> {
    type Item = Place;

    fn next(&mut self) -> Option<Place> {
        if self.at >= self.bytes.len() {
            return None;
        }
        let head = self.byte();
        let mut place = self.last;
        if head & PLACE_FULL == 0 {
            place.line = place.line.wrapping_add(u64::from(head & 0x0f));
            place.record = place.record.wrapping_add(u64::from(head >> 4));
        } else {
            place.space = head & 0x03;
            if head & PLACE_NEW_FILE != 0 {
                place.file = u32::try_from(self.varint()).unwrap_or(0);
            }
            place.line = place.line.wrapping_add(self.varint());
            place.record = place.record.wrapping_add(self.varint());
        }
        self.last = place;
        Some(place)
    }
}

/// Joins memberships to users. Memberships are added first (they come from small side
/// files); then each user is passed through [`MembershipIndex::attach`]. Memory grows with
/// the number of memberships, which must be remembered anyway (layout in the module docs).
#[derive(Default)]
pub struct MembershipIndex {
    entries: Vec<Entry>,
    values: Values,
    places: PlaceLog,
    /// Whether each entry matched a user, one bit per entry.
    used: Vec<u64>,
    tables: [Table; 4],
    names: Vec<(MembershipKind, Box<str>)>,
    /// Name → id, one map per kind (roles, groups).
    name_ids: [HashMap<Box<str>, u32>; 2],
    last_name: u32,
    files: Vec<Arc<str>>,
    file_ids: HashMap<Arc<str>, u32>,
    hasher: RandomState,
    /// Memberships beyond what the compact tables can number, matched by a plain scan.
    overflow: Vec<(Membership, bool)>,
    /// Limits, lowered by tests to reach the overflow paths.
    max_entries: Option<usize>,
    arena_chunk: Option<usize>,
    key: String,
    packed: Vec<u8>,
    matched: Vec<u32>,
}

/// Member values, back to back in chunks (so offsets fit in `u32`). A value of the form
/// `provider|<lower-case hex digits>` (`auth0|5f1a…`, `google-oauth2|1035…`: most Auth0
/// ids) is stored packed — a marker byte, the interned provider, the digit count and two
/// digits per byte — about half its text; any other value is stored as its UTF-8 text.
#[derive(Debug, Default)]
struct Values {
    arenas: Vec<Vec<u8>>,
    /// The first entry of each chunk.
    arena_first: Vec<u32>,
    prefixes: Vec<Box<str>>,
    prefix_ids: HashMap<Box<str>, u8>,
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// First byte of a packed value: never the first byte of UTF-8 text.
const PACKED_VALUE: u8 = 0xff;
/// Longest provider prefix of a packed value.
const MAX_PACKED_PREFIX: usize = 64;

impl Values {
    /// The stored form of `value`, into `out`.
    fn encode(&mut self, value: &str, out: &mut Vec<u8>) {
        out.clear();
        if let Some((prefix, digits)) = value.split_once('|') {
            let packable = !prefix.is_empty()
                && prefix.len() <= MAX_PACKED_PREFIX
                && prefix.bytes().all(|b| b.is_ascii_graphic())
                && !digits.is_empty()
                && digits.len() <= usize::from(u8::MAX)
                && digits
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if let Some(id) = packable.then(|| self.prefix_id(prefix)).flatten() {
                out.extend([PACKED_VALUE, id, digits.len() as u8]);
                for pair in digits.as_bytes().chunks(2) {
                    let nibble = |b: u8| if b <= b'9' { b - b'0' } else { b - b'a' + 10 };
                    let low = pair.get(1).map_or(0, |&b| nibble(b));
                    out.push((nibble(pair[0]) << 4) | low);
                }
                return;
            }
        }
        out.extend_from_slice(value.as_bytes());
    }

    fn prefix_id(&mut self, prefix: &str) -> Option<u8> {
        if let Some(&id) = self.prefix_ids.get(prefix) {
            return Some(id);
        }
        let id = u8::try_from(self.prefixes.len()).ok()?;
        self.prefixes.push(Box::from(prefix));
        self.prefix_ids.insert(Box::from(prefix), id);
        Some(id)
    }

    /// Append a stored value for `entry`; returns its end in its chunk.
    fn push(&mut self, stored: &[u8], entry: u32, chunk_limit: usize) -> u32 {
        if self
            .arenas
            .last()
            .is_none_or(|a| a.len() + stored.len() > chunk_limit)
        {
            self.arenas.push(Vec::new());
            self.arena_first.push(entry);
        }
        match self.arenas.last_mut() {
            Some(arena) => {
                arena.extend_from_slice(stored);
                u32::try_from(arena.len()).unwrap_or(u32::MAX)
            }
            None => 0,
        }
    }

    /// The stored form of entry `e`'s value (empty if `e` is out of range).
    fn stored(&self, entries: &[Entry], e: u32) -> &[u8] {
        let chunk = self
            .arena_first
            .partition_point(|&first| first <= e)
            .saturating_sub(1);
        let Some(arena) = self.arenas.get(chunk) else {
            return &[];
        };
        let first = self.arena_first.get(chunk).copied().unwrap_or(0);
        let start = if e <= first {
            0
        } else {
            entries
                .get(e as usize - 1)
                .map_or(0, |p| p.value_end as usize)
        };
        let end = entries
            .get(e as usize)
            .map_or(start, |entry| entry.value_end as usize);
        arena.get(start..end).unwrap_or_default()
    }

    /// Whether entry `e`'s value has the (normalised) lookup key `key`; see [`has_key`].
    /// Packed values are compared in place, without unpacking them.
    fn has_key(&self, entries: &[Entry], e: u32, key: &str, fold: bool) -> bool {
        match self.stored(entries, e) {
            [PACKED_VALUE, id, len, digits @ ..] => {
                let prefix = self.prefixes.get(usize::from(*id)).map_or("", |p| &**p);
                let key = key.as_bytes();
                let len = usize::from(*len);
                if key.len() != prefix.len() + 1 + len {
                    return false;
                }
                let (key_prefix, rest) = key.split_at(prefix.len());
                let prefix_matches = if fold {
                    key_prefix.eq_ignore_ascii_case(prefix.as_bytes())
                } else {
                    key_prefix == prefix.as_bytes()
                };
                // Packed digits are lower-case hex, as a folded key's would be.
                prefix_matches
                    && rest.first() == Some(&b'|')
                    && rest[1..].iter().enumerate().all(|(i, &k)| {
                        let byte = digits.get(i / 2).copied().unwrap_or(0);
                        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
                        HEX_DIGITS[usize::from(nibble)] == k
                    })
            }
            // Unpacked values were copied from `String`s, so this never fails.
            text => has_key(std::str::from_utf8(text).unwrap_or_default(), key, fold),
        }
    }

    /// The member value of entry `e` (empty if `e` is out of range).
    fn get(&self, entries: &[Entry], e: u32) -> Cow<'_, str> {
        match self.stored(entries, e) {
            [PACKED_VALUE, id, len, digits @ ..] => {
                let prefix = self.prefixes.get(usize::from(*id)).map_or("", |p| &**p);
                let mut out = String::with_capacity(prefix.len() + 1 + usize::from(*len));
                out.push_str(prefix);
                out.push('|');
                for (i, byte) in digits.iter().enumerate() {
                    out.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
                    if 2 * i + 1 < usize::from(*len) {
                        out.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
                    }
                }
                Cow::Owned(out)
            }
            // Unpacked values were copied from `String`s, so this never fails.
            text => Cow::Borrowed(std::str::from_utf8(text).unwrap_or_default()),
        }
    }
}

impl fmt::Debug for MembershipIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MembershipIndex")
            .field("memberships", &self.len())
            .field("names", &self.names.len())
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl MembershipIndex {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len() + self.overflow.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn add(&mut self, membership: Membership) {
        if !self.try_add(&membership) {
            self.overflow.push((membership, false));
        }
    }

    /// Add to the compact tables; false when they cannot take it.
    fn try_add(&mut self, m: &Membership) -> bool {
        let idx = self.entries.len();
        let Ok(entry) = u32::try_from(idx) else {
            return false;
        };
        if idx >= self.max_entries.unwrap_or(MAX_ENTRIES) || !self.overflow.is_empty() {
            // Once one membership overflowed, later ones follow it, keeping input order.
            return false;
        }
        let (space, value) = Space::of(&m.member);
        let chunk_limit = self.arena_chunk.unwrap_or(MAX_ARENA_CHUNK);
        let mut packed = std::mem::take(&mut self.packed);
        self.values.encode(value, &mut packed);
        if packed.len() > chunk_limit {
            self.packed = packed;
            return false;
        }
        let mut key = std::mem::take(&mut self.key);
        normalize_into(&mut key, value, space.folds());
        let hash = self.hasher.hash_one(key.as_str());
        let (values, entries) = (&self.values, &self.entries);
        let table = &mut self.tables[space as usize];
        let inserted = table.insert(hash, entry, |e| {
            values.has_key(entries, e, &key, space.folds())
        });
        self.key = key;
        let Some(next) = inserted else {
            self.packed = packed;
            return false;
        };
        let value_end = self.values.push(&packed, entry, chunk_limit);
        self.packed = packed;
        let name = self.intern_name(m.kind, &m.name);
        let file = self.intern_file(&m.provenance.file);
        self.places.push(Place {
            file,
            space: space as u8,
            line: m.provenance.line,
            record: m.provenance.record,
        });
        if idx.is_multiple_of(64) {
            self.used.push(0);
        }
        self.entries.push(Entry {
            value_end,
            name,
            next,
        });
        true
    }

    fn intern_name(&mut self, kind: MembershipKind, name: &str) -> u32 {
        // Memberships of one role or group usually come together.
        if let Some((k, n)) = self.names.get(self.last_name as usize) {
            if *k == kind && **n == *name {
                return self.last_name;
            }
        }
        let ids = &mut self.name_ids[kind as usize];
        let id = match ids.get(name) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.names.push((kind, Box::from(name)));
                ids.insert(Box::from(name), id);
                id
            }
        };
        self.last_name = id;
        id
    }

    fn intern_file(&mut self, file: &Arc<str>) -> u32 {
        if let Some(last) = self.files.len().checked_sub(1) {
            if Arc::ptr_eq(&self.files[last], file) || self.files[last] == *file {
                return last as u32;
            }
        }
        if let Some(&id) = self.file_ids.get(file) {
            return id;
        }
        let id = self.files.len() as u32;
        self.files.push(file.clone());
        self.file_ids.insert(file.clone(), id);
        id
    }

    /// Add the roles and groups of every membership that names this user. Returns how many
    /// memberships matched.
    pub fn attach(&mut self, user: &mut User) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut matched = std::mem::take(&mut self.matched);
        let mut key = std::mem::take(&mut self.key);
        matched.clear();
        let mut lookup = |space, value: &str, exact_id| {
            self.lookup(space, value, exact_id, &mut key, &mut matched)
        };
        lookup(Space::Id, &user.source_id, false);
        if let Some(email) = &user.email {
            lookup(Space::Mail, email, false);
        }
        if let Some(username) = &user.username {
            lookup(Space::Login, username, false);
        }
        if self.tables[Space::Any as usize].keys > 0 {
            let mut lookup = |value: &str, exact_id| {
                self.lookup(Space::Any, value, exact_id, &mut key, &mut matched)
            };
            lookup(&user.source_id, true);
            if let Some(email) = &user.email {
                lookup(email, false);
            }
            if let Some(username) = &user.username {
                lookup(username, false);
            }
        }
        self.key = key;
        matched.sort_unstable();
        matched.dedup();
        for &e in &matched {
            let Some(entry) = self.entries.get(e as usize) else {
                continue;
            };
            if let Some(word) = self.used.get_mut(e as usize / 64) {
                *word |= 1 << (e % 64);
            }
            if let Some((kind, name)) = self.names.get(entry.name as usize) {
                add_name(user, *kind, name);
            }
        }
        let mut count = matched.len();
        self.matched = matched;
        for (m, used) in &mut self.overflow {
            if names_user(&m.member, user) {
                *used = true;
                add_name(user, m.kind, &m.name);
                count += 1;
            }
        }
        count
    }

    /// Collect the entries of `space` whose key is that of `value`. `exact_id` keeps only
    /// entries whose value equals `value` exactly (after trimming): an `Any` member matched
    /// against a user id.
    fn lookup(
        &self,
        space: Space,
        value: &str,
        exact_id: bool,
        key: &mut String,
        out: &mut Vec<u32>,
    ) {
        let table = &self.tables[space as usize];
        if table.keys == 0 {
            return;
        }
        normalize_into(key, value, space.folds());
        let hash = self.hasher.hash_one(key.as_str());
        let head = table.head(hash, |e| {
            self.values.has_key(&self.entries, e, key, space.folds())
        });
        let mut e = head.unwrap_or(NONE);
        while e != NONE {
            if !exact_id || self.values.has_key(&self.entries, e, value.trim(), false) {
                out.push(e);
            }
            e = self
                .entries
                .get(e as usize)
                .map_or(NONE, |entry| entry.next);
        }
    }

    fn value(&self, e: u32) -> Cow<'_, str> {
        self.values.get(&self.entries, e)
    }

    /// Memberships that matched no user, in input order.
    pub fn unmatched(&self) -> impl Iterator<Item = Membership> + '_ {
        let compact = self
            .entries
            .iter()
            .zip(self.places.iter())
            .enumerate()
            .filter(|(i, _)| {
                self.used
                    .get(i / 64)
                    .is_none_or(|word| word & (1 << (i % 64)) == 0)
            })
            .map(|(i, (entry, place))| {
                let (kind, name) = self
                    .names
                    .get(entry.name as usize)
                    .map_or((MembershipKind::Role, ""), |(k, n)| (*k, &**n));
                let file = self
                    .files
                    .get(place.file as usize)
                    .cloned()
                    .unwrap_or_else(|| Arc::from(""));
                Membership {
                    kind,
                    name: name.to_string(),
                    member: Space::from_code(place.space).member(self.value(i as u32).into_owned()),
                    provenance: Provenance::new(file, place.line, place.record),
                }
            });
        let overflow = self
            .overflow
            .iter()
            .filter(|(_, used)| !used)
            .map(|(m, _)| m.clone());
        compact.chain(overflow)
    }
}

fn add_name(user: &mut User, kind: MembershipKind, name: &str) {
    let list = match kind {
        MembershipKind::Role => &mut user.roles,
        MembershipKind::Group => &mut user.groups,
    };
    if !list.iter().any(|n| n == name) {
        list.push(name.to_string());
    }
}

/// Whether a member reference names this user (the rule the tables implement).
fn names_user(member: &MemberRef, user: &User) -> bool {
    let (space, value) = Space::of(member);
    let mut key = String::new();
    let mut is = |candidate: Option<&String>, fold: bool| {
        candidate.is_some_and(|c| {
            normalize_into(&mut key, c, fold);
            has_key(value, &key, fold)
        })
    };
    match space {
        Space::Id => is(Some(&user.source_id), false),
        Space::Mail => is(user.email.as_ref(), true),
        Space::Login => is(user.username.as_ref(), true),
        Space::Any => {
            is(Some(&user.source_id), false)
                || is(user.email.as_ref(), true)
                || is(user.username.as_ref(), true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn membership(kind: MembershipKind, name: &str, member: MemberRef) -> Membership {
        Membership {
            kind,
            name: name.into(),
            member,
            provenance: Provenance::default(),
        }
    }

    #[test]
    fn attaches_by_id_email_and_login_once_each() {
        let mut index = MembershipIndex::new();
        index.add(membership(
            MembershipKind::Role,
            "admin",
            MemberRef::Id("auth0|1".into()),
        ));
        index.add(membership(
            MembershipKind::Group,
            "Eng",
            MemberRef::Email("ADA@example.com".into()),
        ));
        index.add(membership(
            MembershipKind::Group,
            "Eng",
            MemberRef::Any("ada".into()),
        ));
        index.add(membership(
            MembershipKind::Group,
            "Ops",
            MemberRef::Login("nobody".into()),
        ));
        let mut user = User {
            source_id: "auth0|1".into(),
            email: Some("ada@example.com".into()),
            username: Some("Ada".into()),
            ..User::default()
        };
        assert_eq!(index.attach(&mut user), 3);
        assert_eq!(user.roles, vec!["admin"]);
        assert_eq!(user.groups, vec!["Eng"]);
        let left: Vec<_> = index.unmatched().map(|m| m.name).collect();
        assert_eq!(left, vec!["Ops"]);
    }

    fn at(
        kind: MembershipKind,
        name: &str,
        member: MemberRef,
        file: &Arc<str>,
        line: u64,
        record: u64,
    ) -> Membership {
        Membership {
            kind,
            name: name.into(),
            member,
            provenance: Provenance::new(file.clone(), line, record),
        }
    }

    fn user(id: &str, email: Option<&str>, username: Option<&str>) -> User {
        User {
            source_id: id.into(),
            email: email.map(Into::into),
            username: username.map(Into::into),
            ..User::default()
        }
    }

    impl MembershipIndex {
        fn with_limits(max_entries: usize, arena_chunk: usize) -> Self {
            Self {
                max_entries: Some(max_entries),
                arena_chunk: Some(arena_chunk),
                ..Self::default()
            }
        }
    }

    /// A mix of files, kinds, member kinds and irregular places, as a membership list.
    fn sample() -> Vec<Membership> {
        let roles: Arc<str> = Arc::from("roles.json");
        let groups: Arc<str> = Arc::from("groups.csv");
        let mut out = Vec::new();
        for i in 0..3000u64 {
            let member = match i % 4 {
                0 => MemberRef::Id(format!("auth0|{i:024x}")),
                1 => MemberRef::Email(format!(" User{i}@Example.COM ")),
                2 => MemberRef::Login(format!("Login.{i}")),
                _ => MemberRef::Any(format!("any-{i}")),
            };
            let (kind, name, file, line, record) = if i < 1500 {
                (
                    MembershipKind::Role,
                    format!("role-{}", i / 500),
                    &roles,
                    2 + i / 500,
                    1 + i / 500,
                )
            } else {
                // Lines jump irregularly (multi-line cells) and one goes backwards.
                (
                    MembershipKind::Group,
                    format!("group-{}", i % 7),
                    &groups,
                    2 + i * 3 + (i % 5) * 40,
                    i,
                )
            };
            out.push(at(kind, &name, member, file, line, record));
        }
        out.push(at(
            MembershipKind::Group,
            "late",
            MemberRef::Id("x".into()),
            &roles,
            1,
            1,
        ));
        out
    }

    #[test]
    fn unmatched_gives_back_every_membership_verbatim_in_input_order() {
        for index in [
            MembershipIndex::new(),
            MembershipIndex::with_limits(1000, 5000),
        ] {
            let mut index = index;
            let all = sample();
            for m in &all {
                index.add(m.clone());
            }
            assert_eq!(index.len(), all.len());
            let back: Vec<Membership> = index.unmatched().collect();
            assert!(back == all, "round trip differs");
        }
    }

    #[test]
    fn every_member_kind_matches_after_growth_chunking_and_overflow() {
        for index in [
            MembershipIndex::new(),
            MembershipIndex::with_limits(1000, 5000),
        ] {
            let mut index = index;
            for m in sample() {
                index.add(m);
            }
            let mut attached = 0;
            for i in (0..3000u64).step_by(4) {
                let mut by_id = user(&format!("auth0|{i:024x}"), None, None);
                let mut by_mail = user("u", Some(&format!("user{}@example.com", i + 1)), None);
                let mut by_login = user("u", None, Some(&format!("LOGIN.{}", i + 2)));
                let mut by_any = user("u", None, Some(&format!("Any-{}", i + 3)));
                for u in [&mut by_id, &mut by_mail, &mut by_login, &mut by_any] {
                    attached += index.attach(u);
                    assert_eq!(u.roles.len() + u.groups.len(), 1, "{}", u.source_id);
                }
            }
            assert_eq!(attached, 3000);
            let left: Vec<_> = index.unmatched().map(|m| m.name).collect();
            assert_eq!(left, vec!["late"]);
        }
    }

    #[test]
    fn ids_are_exact_and_other_keys_fold_case_including_non_ascii() {
        let mut index = MembershipIndex::new();
        index.add(membership(
            MembershipKind::Role,
            "r-id",
            MemberRef::Id(" Auth0|AbC ".into()),
        ));
        index.add(membership(
            MembershipKind::Role,
            "r-mail",
            MemberRef::Email("ÅSA@Example.se".into()),
        ));
        index.add(membership(
            MembershipKind::Role,
            "r-any",
            MemberRef::Any("Okta-User".into()),
        ));
        // Kelvin sign: lower-cases to an ASCII `k`.
        index.add(membership(
            MembershipKind::Group,
            "g-kelvin",
            MemberRef::Login("k@x".into()),
        ));
        let mut wrong_case = user("auth0|abc", None, None);
        assert_eq!(index.attach(&mut wrong_case), 0);
        let mut exact = user("Auth0|AbC", Some("åsa@example.SE"), Some("\u{212A}@X"));
        assert_eq!(index.attach(&mut exact), 3);
        assert_eq!(
            (exact.roles.clone(), exact.groups.clone()),
            (
                vec!["r-id".to_string(), "r-mail".into()],
                vec!["g-kelvin".to_string()]
            )
        );
        // `Any` against an id is exact, against an e-mail or login case-insensitive.
        let mut any_id_wrong_case = user("okta-user", None, None);
        assert_eq!(index.attach(&mut any_id_wrong_case), 0);
        let mut any_login = user("1", None, Some("OKTA-USER"));
        assert_eq!(index.attach(&mut any_login), 1);
        let mut any_id = user("Okta-User", Some("okta-user"), Some("okta-user"));
        assert_eq!(
            index.attach(&mut any_id),
            1,
            "one membership, however many keys match"
        );
        assert_eq!(any_id.roles, vec!["r-any"]);
    }

    #[test]
    fn memberships_added_after_some_users_serve_later_users() {
        let mut index = MembershipIndex::new();
        let mut early = user("a", None, None);
        assert_eq!(index.attach(&mut early), 0);
        index.add(membership(
            MembershipKind::Role,
            "r",
            MemberRef::Id("a".into()),
        ));
        index.add(membership(
            MembershipKind::Role,
            "r",
            MemberRef::Id("a".into()),
        ));
        let mut late = user("a", None, None);
        assert_eq!(index.attach(&mut late), 2);
        assert_eq!(late.roles, vec!["r"], "a name is added once");
        assert_eq!(index.unmatched().count(), 0);
    }

    #[test]
    fn table_keeps_keys_apart_when_hashes_collide() {
        // Every key gets the same hash: only the key check tells them apart.
        let keys = ["a", "b", "c", "d", "e"];
        let mut table = Table::default();
        let mut heads = Vec::new();
        for round in 0..3u32 {
            for (i, _) in keys.iter().enumerate() {
                let entry = round * 10 + i as u32;
                let prev = table.insert(7 << 32, entry, |e| e % 10 == i as u32);
                heads.push((entry, prev));
            }
        }
        assert_eq!(table.keys, keys.len());
        assert_eq!(heads[0], (0, Some(NONE)));
        assert_eq!(
            heads[5],
            (10, Some(0)),
            "second entry of key `a` chains to the first"
        );
        for (i, _) in keys.iter().enumerate() {
            assert_eq!(
                table.head(7 << 32, |e| e % 10 == i as u32),
                Some(20 + i as u32)
            );
        }
        assert_eq!(table.head(7 << 32, |_| false), None);
    }

    #[test]
    fn member_values_pack_when_they_can_and_always_come_back_exactly() {
        let long_digits = format!("auth0|{}", "7".repeat(300));
        let mut samples: Vec<String> = vec![
            "auth0|5f1a2b3c4d5e6f708192a3b4".into(),
            "google-oauth2|103547991597142817347".into(),
            "github|1".into(),
            "auth0|ABCDEF".into(),
            " auth0|abc ".into(),
            "auth0|".into(),
            "|abc".into(),
            "sms|+15551234".into(),
            "ann@example.com".into(),
            "é|12".into(),
            long_digits,
        ];
        // More providers than a packed value can name.
        samples.extend((0..300).map(|i| format!("p{i}|{i:x}")));
        let mut values = Values::default();
        let mut entries = Vec::new();
        let mut stored = Vec::new();
        for (i, v) in samples.iter().enumerate() {
            values.encode(v, &mut stored);
            let packed = stored.first() == Some(&PACKED_VALUE);
            // Three providers above, then room for 253 more.
            assert_eq!(packed, i < 3 || (11..11 + 253).contains(&i), "{v}");
            let value_end = values.push(&stored, i as u32, 64);
            entries.push(Entry {
                value_end,
                name: 0,
                next: NONE,
            });
        }
        for (i, v) in samples.iter().enumerate() {
            assert_eq!(values.get(&entries, i as u32), v.as_str());
        }
        assert!(values.arenas.len() > 1, "small chunks were used");
    }

    #[test]
    fn packed_values_compare_like_their_text() {
        let mut values = Values::default();
        let mut entries = Vec::new();
        let mut stored = Vec::new();
        for (i, v) in ["auth0|0a1b", "Okta|abc", "auth0|0a1"].iter().enumerate() {
            values.encode(v, &mut stored);
            assert_eq!(stored.first(), Some(&PACKED_VALUE), "{v}");
            let value_end = values.push(&stored, i as u32, MAX_ARENA_CHUNK);
            entries.push(Entry {
                value_end,
                name: 0,
                next: NONE,
            });
        }
        let cases = [
            (0, "auth0|0a1b", false, true),
            (0, "auth0|0a1B", false, false),
            (0, "auth0|0a1", false, false),
            (0, "auth0|0a1bc", false, false),
            (0, "auth1|0a1b", false, false),
            (0, "auth0-0a1b", false, false),
            (1, "okta|abc", true, true),
            (1, "okta|abc", false, false),
            (1, "Okta|abc", false, true),
            (2, "auth0|0a1", false, true),
            (2, "auth0|0a10", false, false),
        ];
        for (e, key, fold, expected) in cases {
            assert_eq!(
                values.has_key(&entries, e, key, fold),
                expected,
                "{e} {key} {fold}"
            );
            assert_eq!(
                has_key(&values.get(&entries, e), key, fold),
                expected,
                "{e} {key} {fold}"
            );
        }
    }
}
