//! The Auth0 password-hash export (support ticket) read into a compact index, and the merge
//! of its rows into users as they stream past.
//!
//! The export is NDJSON (a JSON array is accepted too) of MongoDB-flavoured rows:
//! `{"_id":{"$oid":"…"},"alt_id":"…","email":"…","connection":"…","passwordHash":"$2b$10$…",
//! "identifiers":[{"type":"email","value":"…"}], …}`. A row belongs to `auth0|<alt_id>` when
//! `alt_id` is present, else to `auth0|<_id.$oid>`.
//!
//! It can hold millions of rows, all kept until the users have streamed past, so a row is a
//! fixed 72-byte record: the usual id (`auth0|` + an ObjectId) packed into 12 bytes, the usual
//! hash (bcrypt with a two-digit cost) packed into 40 bytes of 6-bit characters, a 32-bit
//! place, and the connection as an interned number. Other ids and hashes are kept as strings
//! on the side. Rows are found through two sorted vectors of (64-bit key hash, row) — 12 bytes
//! per row each: by user id, where the packed id confirms a hit, and by lower-cased e-mail,
//! where a second, independent 64-bit hash stored in the row confirms it, so a hash collision
//! can never hand one account's password to another.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

use kcm_model::{is_password_provider, PasswordHash, Provenance, Reason, RecordError, User};
use kcm_source_io::{record_error, Input, JsonRecords};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The provider prefix Auth0 gives database-connection users.
const DB_PROVIDER_PREFIX: &str = "auth0|";

/// Wrapper key accepted around the rows (a Management-API-style `{"users": [...]}`).
const WRAPPER_KEY: &str = "users";

/// Marks "no connection" in the compact row fields.
const NONE_U16: u16 = u16::MAX;
/// Marks a line or record number too large for the row; the real one is in `far_places`.
const FAR_PLACE: u32 = u32::MAX;

/// Bytes of a MongoDB ObjectId (24 hex digits).
const OID_BYTES: usize = 12;
/// Characters after `$2b$NN$` in a bcrypt hash: 22 of salt, 31 of hash.
const BCRYPT_BODY_CHARS: usize = 53;
/// The bcrypt body packed at 6 bits per character.
const BCRYPT_PACKED_BYTES: usize = (BCRYPT_BODY_CHARS * 6).div_ceil(8);
/// bcrypt's base64 alphabet; a character's index is its 6-bit code.
const BCRYPT_ALPHABET: &[u8; 64] =
    b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// 6-bit code of each byte in [`BCRYPT_ALPHABET`]; [`NOT_BCRYPT`] for the others.
const BCRYPT_CODES: [u8; 256] = {
    let mut table = [NOT_BCRYPT; 256];
    let mut i = 0;
    while i < BCRYPT_ALPHABET.len() {
        table[BCRYPT_ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};
const NOT_BCRYPT: u8 = u8::MAX;
/// The bcrypt variants a packed hash can have, by their code.
const BCRYPT_VARIANTS: [u8; 3] = [b'a', b'b', b'y'];

/// Row flags.
const TAKEN: u8 = 1;
/// A second row for an id that already has one: never merged, reported as a duplicate.
const DEAD: u8 = 1 << 1;
const ID_SPILLED: u8 = 1 << 2;
const HASH_SPILLED: u8 = 1 << 3;
const HAS_EMAIL: u8 = 1 << 4;
/// Two bits: the bcrypt variant code, for a packed hash.
const VARIANT_SHIFT: u8 = 5;

/// One usable row of the export. No `Debug`: it holds hash bytes.
struct Row {
    /// Second hash of the lower-cased e-mail (with `HAS_EMAIL`).
    email_check: u64,
    /// Packed ObjectId, or (with `ID_SPILLED`) an index into `spilled_ids`.
    id: [u8; OID_BYTES],
    /// Packed bcrypt body, or (with `HASH_SPILLED`) an index into `spilled_hashes`.
    hash: [u8; BCRYPT_PACKED_BYTES],
    line: u32,
    record: u32,
    /// Index into `HashIndex::connections`, or `NONE_U16`.
    connection: u16,
    /// bcrypt cost of a packed hash.
    cost: u8,
    flags: u8,
}

/// A (key hash, row) pair of a sorted lookup vector; 12 bytes without padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    hi: u32,
    lo: u32,
    row: u32,
}

impl Key {
    fn new(hash: u64, row: u32) -> Self {
        Key {
            hi: (hash >> 32) as u32,
            lo: hash as u32,
            row,
        }
    }

    fn hash(&self) -> u64 {
        (u64::from(self.hi) << 32) | u64::from(self.lo)
    }
}

/// Keys per directory bucket of [`SortedKeys`], on average.
const KEYS_PER_BUCKET: usize = 8;

/// (key hash, row) pairs sorted by hash, with a directory on the hash's top bits: a lookup
/// reads a bucket of a few adjacent keys (one or two cache lines) where a binary search
/// over a million keys would touch some twenty. The directory costs under a byte per key.
#[derive(Default)]
struct SortedKeys {
    keys: Vec<Key>,
    /// `dir[b]` is the first key of bucket `b`; one more entry closes the last bucket.
    dir: Vec<u32>,
    /// Bits of the hash below the bucket number.
    shift: u32,
}

impl SortedKeys {
    /// Sort the keys pushed so far and build the directory.
    fn finish(&mut self) {
        self.keys.sort_unstable();
        let buckets = (self.keys.len() / KEYS_PER_BUCKET)
            .max(1)
            .next_power_of_two();
        self.shift = 64 - buckets.trailing_zeros();
        let mut dir = Vec::with_capacity(buckets + 1);
        let mut at = 0;
        for b in 0..buckets {
            while self.keys.get(at).is_some_and(|k| self.bucket(k.hash()) < b) {
                at += 1;
            }
            dir.push(at as u32);
        }
        dir.push(self.keys.len() as u32);
        self.dir = dir;
    }

    fn bucket(&self, hash: u64) -> usize {
        hash.checked_shr(self.shift).unwrap_or(0) as usize
    }

    /// The rows whose key hash is `hash`, in file order.
    fn rows_with(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let b = self.bucket(hash);
        let start = self.dir.get(b).map_or(0, |&i| i as usize);
        let end = self.dir.get(b + 1).map_or(start, |&i| i as usize);
        self.keys
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .skip_while(move |k| k.hash() < hash)
            .take_while(move |k| k.hash() == hash)
            .map(|k| k.row)
    }
}

/// A hash row merged into a user.
pub struct Merge {
    pub hash: PasswordHash,
    pub provenance: Provenance,
    /// True when the row was found by e-mail rather than by user id.
    pub by_email: bool,
}

/// All usable rows of one password-hash export, looked up by user id and by e-mail.
pub struct HashIndex {
    file: Arc<str>,
    rows: Vec<Row>,
    by_id: SortedKeys,
    by_email: SortedKeys,
    spilled_ids: Vec<Box<str>>,
    spilled_hashes: Vec<Box<str>>,
    /// Line and record of rows whose numbers do not fit in `u32`.
    far_places: HashMap<u32, (u64, u64)>,
    connections: Vec<Arc<str>>,
    connection_ids: HashMap<Arc<str>, u16>,
    hashers: Hashers,
    /// Scratch space for keys.
    key: String,
}

/// The key hash functions.
#[derive(Default)]
struct Hashers {
    id: RandomState,
    email: RandomState,
    /// Independent of `email`: the second hash that confirms an e-mail match.
    email_check: RandomState,
}

/// A row ready to be stored: everything that does not depend on the index.
struct Prepared {
    line: u64,
    record: u64,
    id: PackedOr<[u8; OID_BYTES]>,
    id_hash: u64,
    hash: PackedOr<(u8, u8, [u8; BCRYPT_PACKED_BYTES])>,
    /// Hash and check hash of the lower-cased e-mail.
    email: Option<(u64, u64)>,
    connection: Option<String>,
}

/// A value in its packed form, or as text when it has none.
enum PackedOr<P> {
    Packed(P),
    Text(Box<str>),
}

impl HashIndex {
    fn new(file: Arc<str>) -> Self {
        HashIndex {
            file,
            rows: Vec::new(),
            by_id: SortedKeys::default(),
            by_email: SortedKeys::default(),
            spilled_ids: Vec::new(),
            spilled_hashes: Vec::new(),
            far_places: HashMap::new(),
            connections: Vec::new(),
            connection_ids: HashMap::new(),
            hashers: Hashers::default(),
            key: String::new(),
        }
    }

    /// Read the whole export. Rows that cannot be used (bad JSON, no id, no hash, a second row
    /// for the same user) are returned as errors, in file order.
    pub fn build(input: Input, max_record_bytes: usize) -> (Self, Vec<RecordError>) {
        let file = input.path.clone();
        let mut index = HashIndex::new(file.clone());
        let mut errors = Vec::new();
        let mut records = JsonRecords::new(input, &[WRAPPER_KEY], max_record_bytes);
        while let Some(next) = records.next_text() {
            let row = next.and_then(|(_, text)| {
                prepare(text.parse(&file)?, &text.provenance(&file), &index.hashers)
            });
            if let Err(e) = row.and_then(|row| index.insert(row)) {
                errors.push(e);
            }
        }
        index.by_id.finish();
        index.by_email.finish();
        errors.extend(index.reject_duplicates());
        // Duplicates are found after the whole file; every error has its own record number.
        errors.sort_by_key(|e| e.provenance.record);
        (index, errors)
    }

    /// Number of usable rows read.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.rows.iter().filter(|r| r.flags & DEAD == 0).count()
    }

    fn insert(&mut self, row: Prepared) -> Result<(), RecordError> {
        let Ok(idx) = u32::try_from(self.rows.len()) else {
            return Err(record_error(
                &self.file,
                row.line,
                row.record,
                Reason::Invalid,
                "too many password-hash rows",
            ));
        };
        let mut new_row = Row {
            email_check: 0,
            id: [0; OID_BYTES],
            hash: [0; BCRYPT_PACKED_BYTES],
            line: u32::try_from(row.line).unwrap_or(FAR_PLACE),
            record: u32::try_from(row.record).unwrap_or(FAR_PLACE),
            connection: row
                .connection
                .as_deref()
                .map_or(NONE_U16, |c| self.intern_connection(c)),
            cost: 0,
            flags: 0,
        };
        if new_row.line == FAR_PLACE || new_row.record == FAR_PLACE {
            self.far_places.insert(idx, (row.line, row.record));
        }
        match row.id {
            PackedOr::Packed(oid) => new_row.id = oid,
            PackedOr::Text(id) => {
                new_row.id = spill_ref(self.spilled_ids.len());
                self.spilled_ids.push(id);
                new_row.flags |= ID_SPILLED;
            }
        }
        self.by_id.keys.push(Key::new(row.id_hash, idx));
        match row.hash {
            PackedOr::Packed((variant, cost, body)) => {
                new_row.hash = body;
                new_row.cost = cost;
                new_row.flags |= variant << VARIANT_SHIFT;
            }
            PackedOr::Text(raw) => {
                new_row.hash = spill_ref(self.spilled_hashes.len());
                self.spilled_hashes.push(raw);
                new_row.flags |= HASH_SPILLED;
            }
        }
        if let Some((hash, check)) = row.email {
            self.by_email.keys.push(Key::new(hash, idx));
            new_row.email_check = check;
            new_row.flags |= HAS_EMAIL;
        }
        self.rows.push(new_row);
        Ok(())
    }

    /// Mark every later row for an id that has an earlier row as dead, and report it.
    fn reject_duplicates(&mut self) -> Vec<RecordError> {
        let mut errors = Vec::new();
        let mut start = 0;
        let keys = &self.by_id.keys;
        while start < keys.len() {
            let hash = keys[start].hash();
            let end = start
                + keys[start..]
                    .iter()
                    .take_while(|k| k.hash() == hash)
                    .count();
            // Rows sharing a key hash: usually one; more for the same id repeated (or, very
            // rarely, different ids whose hashes collide).
            for later in start + 1..end {
                let row = keys[later].row;
                let first = (start..later)
                    .map(|i| keys[i].row)
                    .find(|&first| self.is_live(first) && self.same_id(first, row));
                if let Some(first) = first {
                    let id = self.id_of(row);
                    let first_line = self.place(first).0;
                    let (line, record) = self.place(row);
                    if let Some(r) = self.rows.get_mut(row as usize) {
                        r.flags |= DEAD;
                    }
                    errors.push(
                        record_error(
                            &self.file,
                            line,
                            record,
                            Reason::Duplicate,
                            format!("a second password-hash row for `{id}`; the row on line {first_line} is used"),
                        )
                        .with_source_id(id),
                    );
                }
            }
            start = end;
        }
        errors
    }

    fn is_live(&self, row: u32) -> bool {
        self.rows
            .get(row as usize)
            .is_some_and(|r| r.flags & DEAD == 0)
    }

    fn same_id(&self, a: u32, b: u32) -> bool {
        match (self.rows.get(a as usize), self.rows.get(b as usize)) {
            (Some(ra), Some(rb)) => {
                match (ra.flags & ID_SPILLED != 0, rb.flags & ID_SPILLED != 0) {
                    (false, false) => ra.id == rb.id,
                    (true, true) => self.spilled_id(ra) == self.spilled_id(rb),
                    _ => false,
                }
            }
            _ => false,
        }
    }

    fn spilled_id(&self, row: &Row) -> Option<&str> {
        self.spilled_ids.get(spill_index(&row.id)).map(|s| &**s)
    }

    /// The row's user id as text.
    fn id_of(&self, row: u32) -> String {
        match self.rows.get(row as usize) {
            Some(r) if r.flags & ID_SPILLED != 0 => {
                self.spilled_id(r).unwrap_or_default().to_string()
            }
            Some(r) => {
                let mut id = String::with_capacity(DB_PROVIDER_PREFIX.len() + 2 * OID_BYTES);
                id.push_str(DB_PROVIDER_PREFIX);
                for b in r.id {
                    id.push(char::from(HEX_DIGITS[usize::from(b >> 4)]));
                    id.push(char::from(HEX_DIGITS[usize::from(b & 0x0f)]));
                }
                id
            }
            None => String::new(),
        }
    }

    fn place(&self, row: u32) -> (u64, u64) {
        match self.rows.get(row as usize) {
            Some(r) if r.line == FAR_PLACE || r.record == FAR_PLACE => {
                self.far_places.get(&row).copied().unwrap_or((0, 0))
            }
            Some(r) => (u64::from(r.line), u64::from(r.record)),
            None => (0, 0),
        }
    }

    fn intern_connection(&mut self, name: &str) -> u16 {
        if let Some(&id) = self.connection_ids.get(name) {
            return id;
        }
        let Ok(id) = u16::try_from(self.connections.len()) else {
            return NONE_U16;
        };
        if id == NONE_U16 {
            return NONE_U16;
        }
        let name: Arc<str> = Arc::from(name);
        self.connections.push(name.clone());
        self.connection_ids.insert(name, id);
        id
    }

    /// The live row for this exact user id.
    fn find_id(&self, user_id: &str) -> Option<u32> {
        let hash = self.hashers.id.hash_one(user_id);
        let packed = pack_oid(user_id);
        self.by_id.rows_with(hash).find(|&row| {
            self.rows.get(row as usize).is_some_and(|r| {
                r.flags & DEAD == 0
                    && if r.flags & ID_SPILLED != 0 {
                        self.spilled_id(r) == Some(user_id)
                    } else {
                        packed == Some(r.id)
                    }
            })
        })
    }

    /// Take the hash row for `user`: by user id, else by e-mail (case-insensitive). The
    /// e-mail fallback only serves users whose primary identity is a database one (or
    /// unknown) and whose connection, when both sides name one, is the row's: a social
    /// account sharing an e-mail with a database account must not receive its password.
    pub fn take_for(&mut self, user: &User) -> Option<Merge> {
        if let Some(row) = self.find_id(&user.source_id) {
            // The user's own row, even if already taken by a repeated user record: the
            // e-mail fallback must not hand it some other account's row.
            return self.take(row, false);
        }
        let email = user.email.as_deref()?;
        let primary = user.identities.iter().find(|i| i.primary);
        if primary.is_some_and(|i| !is_password_provider(&i.provider)) {
            return None;
        }
        let user_connection = primary.and_then(|i| i.connection.as_deref());
        let mut key = std::mem::take(&mut self.key);
        lower_key(&mut key, email);
        let hash = self.hashers.email.hash_one(key.as_str());
        let check = self.hashers.email_check.hash_one(key.as_str());
        self.key = key;
        let found = self.by_email.rows_with(hash).find(|&row| {
            self.rows.get(row as usize).is_some_and(|r| {
                let row_connection = self
                    .connections
                    .get(usize::from(r.connection))
                    .map(|c| &**c);
                let compatible = match (user_connection, row_connection) {
                    (Some(u), Some(r)) => u == r,
                    _ => true,
                };
                r.flags & (TAKEN | DEAD) == 0
                    && r.flags & HAS_EMAIL != 0
                    && r.email_check == check
                    && compatible
            })
        })?;
        self.take(found, true)
    }

    fn take(&mut self, idx: u32, by_email: bool) -> Option<Merge> {
        let (line, record) = self.place(idx);
        let row = self.rows.get_mut(idx as usize)?;
        if row.flags & (TAKEN | DEAD) != 0 {
            return None;
        }
        row.flags |= TAKEN;
        let hash = if row.flags & HASH_SPILLED != 0 {
            let raw = self
                .spilled_hashes
                .get(spill_index(&row.hash))
                .map_or("", |s| &**s);
            PasswordHash::from_encoded(raw)
        } else {
            PasswordHash::from_encoded(&unpack_bcrypt(
                row.flags >> VARIANT_SHIFT,
                row.cost,
                &row.hash,
            ))
        };
        Some(Merge {
            hash,
            provenance: Provenance::new(self.file.clone(), line, record),
            by_email,
        })
    }

    /// One [`Reason::Unmatched`] error per row that no user took, in file order, made as
    /// they are asked for.
    pub fn into_unmatched(self) -> Unmatched {
        Unmatched {
            index: self,
            next: 0,
        }
    }
}

/// The rows of a [`HashIndex`] that no user took; see [`HashIndex::into_unmatched`].
pub struct Unmatched {
    index: HashIndex,
    next: u32,
}

impl Iterator for Unmatched {
    type Item = RecordError;

    fn next(&mut self) -> Option<RecordError> {
        let index = &self.index;
        loop {
            let i = self.next;
            let row = index.rows.get(i as usize)?;
            self.next += 1;
            if row.flags & (TAKEN | DEAD) != 0 {
                continue;
            }
            let id = index.id_of(i);
            let (line, record) = index.place(i);
            return Some(
                record_error(
                    &index.file,
                    line,
                    record,
                    Reason::Unmatched,
                    format!("password-hash row for `{id}` matched no user (by user id or e-mail)"),
                )
                .with_source_id(id),
            );
        }
    }
}

/// Check one row of the export and work out its stored form; rows that cannot be used are
/// errors (no id, no hash, not an object).
fn prepare(
    row: RowJson<'_>,
    prov: &Provenance,
    hashers: &Hashers,
) -> Result<Prepared, RecordError> {
    let RowJson::Object(row) = row else {
        return Err(RecordError::new(
            prov.clone(),
            Reason::InvalidField,
            "expected a JSON object",
        ));
    };
    let Some(user_id) = row.user_id() else {
        return Err(RecordError::new(
            prov.clone(),
            Reason::MissingField,
            "password-hash row has no `_id.$oid` or `alt_id`",
        ));
    };
    let raw_hash = match &row.password_hash {
        Field::Str(s) if !s.trim().is_empty() => s.trim(),
        Field::Absent | Field::Null | Field::Str(_) => {
            return Err(RecordError::new(
                prov.clone(),
                Reason::MissingField,
                "password-hash row has no `passwordHash`",
            )
            .with_source_id(user_id.full()))
        }
        Field::Other => {
            return Err(RecordError::new(
                prov.clone(),
                Reason::InvalidField,
                "`passwordHash` is not a string",
            )
            .with_source_id(user_id.full()))
        }
    };
    let mut key = String::new();
    user_id.write_full(&mut key);
    let id_hash = hashers.id.hash_one(key.as_str());
    let id = match pack_oid(&key) {
        Some(oid) => PackedOr::Packed(oid),
        None => PackedOr::Text(Box::from(key.as_str())),
    };
    let hash = match pack_bcrypt(raw_hash) {
        Some(packed) => PackedOr::Packed(packed),
        None => PackedOr::Text(Box::from(raw_hash)),
    };
    let email = row.email().map(|email| {
        lower_key(&mut key, email);
        (
            hashers.email.hash_one(key.as_str()),
            hashers.email_check.hash_one(key.as_str()),
        )
    });
    Ok(Prepared {
        line: prov.line,
        record: prov.record,
        id,
        id_hash,
        hash,
        email,
        connection: match &row.connection {
            Field::Str(c) => Some(c.to_string()),
            _ => None,
        },
    })
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `auth0|` + 24 lower-case hex digits → the 12 ObjectId bytes (exactly reversible).
fn pack_oid(id: &str) -> Option<[u8; OID_BYTES]> {
    let hex = id.strip_prefix(DB_PROVIDER_PREFIX)?.as_bytes();
    if hex.len() != 2 * OID_BYTES {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut out = [0; OID_BYTES];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *o = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// A spilled-value index stored in the first bytes of a packed field.
fn spill_ref<const N: usize>(index: usize) -> [u8; N] {
    let mut out = [0; N];
    let bytes = (index as u64).to_le_bytes();
    let n = N.min(bytes.len());
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

fn spill_index(field: &[u8]) -> usize {
    let mut bytes = [0u8; 8];
    let n = field.len().min(bytes.len());
    bytes[..n].copy_from_slice(&field[..n]);
    u64::from_le_bytes(bytes) as usize
}

/// `$2a$`/`$2b$`/`$2y$` + a two-digit cost + `$` + 53 bcrypt-alphabet characters → (variant
/// code, cost, packed body). Anything else (other costs spellings included) is not packed,
/// so unpacking gives back the exact text.
fn pack_bcrypt(s: &str) -> Option<(u8, u8, [u8; BCRYPT_PACKED_BYTES])> {
    let b = s.as_bytes();
    if b.len() != 7 + BCRYPT_BODY_CHARS
        || b[0] != b'$'
        || b[1] != b'2'
        || b[3] != b'$'
        || b[6] != b'$'
    {
        return None;
    }
    let variant = BCRYPT_VARIANTS.iter().position(|&v| v == b[2])? as u8;
    if !b[4].is_ascii_digit() || !b[5].is_ascii_digit() {
        return None;
    }
    let cost = (b[4] - b'0') * 10 + (b[5] - b'0');
    let mut packed = [0u8; BCRYPT_PACKED_BYTES];
    for (i, &c) in b[7..].iter().enumerate() {
        let code = match BCRYPT_CODES[usize::from(c)] {
            NOT_BCRYPT => return None,
            code => u32::from(code),
        };
        let bit = i * 6;
        // Six bits starting at `bit`, possibly straddling two bytes (big-endian bit order).
        let word = code << (10 - bit % 8);
        packed[bit / 8] |= (word >> 8) as u8;
        if let Some(next) = packed.get_mut(bit / 8 + 1) {
            *next |= word as u8;
        }
    }
    Some((variant, cost, packed))
}

fn unpack_bcrypt(variant: u8, cost: u8, packed: &[u8; BCRYPT_PACKED_BYTES]) -> String {
    let mut out = String::with_capacity(7 + BCRYPT_BODY_CHARS);
    out.push_str("$2");
    out.push(char::from(
        BCRYPT_VARIANTS
            .get(usize::from(variant & 3))
            .copied()
            .unwrap_or(b'b'),
    ));
    out.push('$');
    out.push(char::from(b'0' + cost / 10 % 10));
    out.push(char::from(b'0' + cost % 10));
    out.push('$');
    for i in 0..BCRYPT_BODY_CHARS {
        let bit = i * 6;
        let hi = u32::from(packed[bit / 8]);
        let lo = u32::from(packed.get(bit / 8 + 1).copied().unwrap_or(0));
        let code = (((hi << 8) | lo) >> (10 - bit % 8)) & 0x3f;
        out.push(char::from(BCRYPT_ALPHABET[code as usize]));
    }
    out
}

/// The e-mail lookup key: trimmed and lower-cased.
fn lower_key(out: &mut String, value: &str) {
    out.clear();
    let value = value.trim();
    if value.is_ascii() {
        out.push_str(value);
        out.make_ascii_lowercase();
    } else {
        out.push_str(&value.to_lowercase());
    }
}

/// A row's user id: an explicit full `user_id`, or the database-connection id `auth0|<rest>`.
enum RowId<'r> {
    Full(&'r str),
    Db(&'r str),
}

impl RowId<'_> {
    fn write_full(&self, out: &mut String) {
        out.clear();
        if let RowId::Db(_) = self {
            out.push_str(DB_PROVIDER_PREFIX);
        }
        out.push_str(match self {
            RowId::Full(s) | RowId::Db(s) => s,
        });
    }

    fn full(&self) -> String {
        let mut out = String::new();
        self.write_full(&mut out);
        out
    }
}

/// A field value as far as the merge cares: a string (borrowed from the record text when it
/// has no escapes) or something else.
#[derive(Default)]
enum Field<'a> {
    #[default]
    Absent,
    Null,
    Str(Cow<'a, str>),
    Other,
}

impl<'a> Field<'a> {
    /// The trimmed text of a non-blank string.
    fn text(&self) -> Option<&str> {
        match self {
            Field::Str(s) if !s.trim().is_empty() => Some(s.trim()),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Owned(v)))
            }
            fn visit_unit<E>(self) -> Result<Field<'de>, E> {
                Ok(Field::Null)
            }
            fn visit_none<E>(self) -> Result<Field<'de>, E> {
                Ok(Field::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Field<'de>, E> {
                Ok(Field::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Field<'de>, E> {
                Ok(Field::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Field<'de>, E> {
                Ok(Field::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Field<'de>, E> {
                Ok(Field::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// `_id`: a string, or `{"$oid": string}`; anything else counts as absent.
struct OidField<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for OidField<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OidField<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an ObjectId")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OidField<'de>, A::Error> {
                let mut oid = None;
                while let Some(key) = map.next_key::<Field<'de>>()? {
                    if matches!(&key, Field::Str(k) if k == "$oid") {
                        oid = match map.next_value::<Field<'de>>()? {
                            Field::Str(s) => Some(s),
                            _ => None,
                        };
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(OidField(oid))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OidField<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(OidField(None))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<OidField<'de>, E> {
                Ok(OidField(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<OidField<'de>, E> {
                Ok(OidField(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<OidField<'de>, E> {
                Ok(OidField(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<OidField<'de>, E> {
                Ok(OidField(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<OidField<'de>, E> {
                Ok(OidField(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<OidField<'de>, E> {
                Ok(OidField(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<OidField<'de>, E> {
                Ok(OidField(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// `identifiers`: the value of the first entry of type `email` with a non-blank value.
struct IdentifierEmail<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for IdentifierEmail<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entry<'a>(Option<Cow<'a, str>>);
        impl<'de> Deserialize<'de> for Entry<'de> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Entry<'de>;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("an identifier")
                    }
                    fn visit_map<A: MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Entry<'de>, A::Error> {
                        let (mut kind, mut value) = (Field::Absent, Field::Absent);
                        while let Some(key) = map.next_key::<Field<'de>>()? {
                            match &key {
                                Field::Str(k) if k == "type" => kind = map.next_value()?,
                                Field::Str(k) if k == "value" => value = map.next_value()?,
                                _ => {
                                    map.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        let is_email = matches!(&kind, Field::Str(k) if k == "email");
                        Ok(Entry(match value {
                            Field::Str(v) if is_email && !v.trim().is_empty() => Some(v),
                            _ => None,
                        }))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(
                        self,
                        mut seq: A,
                    ) -> Result<Entry<'de>, A::Error> {
                        while seq.next_element::<IgnoredAny>()?.is_some() {}
                        Ok(Entry(None))
                    }
                    fn visit_str<E>(self, _: &str) -> Result<Entry<'de>, E> {
                        Ok(Entry(None))
                    }
                    fn visit_unit<E>(self) -> Result<Entry<'de>, E> {
                        Ok(Entry(None))
                    }
                    fn visit_bool<E>(self, _: bool) -> Result<Entry<'de>, E> {
                        Ok(Entry(None))
                    }
                    fn visit_i64<E>(self, _: i64) -> Result<Entry<'de>, E> {
                        Ok(Entry(None))
                    }
                    fn visit_u64<E>(self, _: u64) -> Result<Entry<'de>, E> {
                        Ok(Entry(None))
                    }
                    fn visit_f64<E>(self, _: f64) -> Result<Entry<'de>, E> {
                        Ok(Entry(None))
                    }
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IdentifierEmail<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of identifiers")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<IdentifierEmail<'de>, A::Error> {
                let mut found = None;
                while let Some(Entry(email)) = seq.next_element::<Entry<'de>>()? {
                    if found.is_none() {
                        found = email;
                    }
                }
                Ok(IdentifierEmail(found))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<IdentifierEmail<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(IdentifierEmail(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<IdentifierEmail<'de>, E> {
                Ok(IdentifierEmail(None))
            }
            fn visit_unit<E>(self) -> Result<IdentifierEmail<'de>, E> {
                Ok(IdentifierEmail(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<IdentifierEmail<'de>, E> {
                Ok(IdentifierEmail(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<IdentifierEmail<'de>, E> {
                Ok(IdentifierEmail(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<IdentifierEmail<'de>, E> {
                Ok(IdentifierEmail(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<IdentifierEmail<'de>, E> {
                Ok(IdentifierEmail(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The fields of a row the merge reads. A repeated key counts by its last occurrence, as in
/// a parsed JSON object.
#[derive(Default)]
struct RowFields<'a> {
    user_id: Field<'a>,
    alt_id: Field<'a>,
    oid: Option<Cow<'a, str>>,
    email: Field<'a>,
    identifier_email: Option<Cow<'a, str>>,
    connection: Field<'a>,
    password_hash: Field<'a>,
}

/// One record of the export: an object, or any other JSON value (rejected).
enum RowJson<'a> {
    Object(RowFields<'a>),
    NotObject,
}

impl<'de> Deserialize<'de> for RowJson<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RowJson<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a password-hash row")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RowJson<'de>, A::Error> {
                let mut row = RowFields::default();
                while let Some(key) = map.next_key::<Field<'de>>()? {
                    let Field::Str(key) = key else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    match &*key {
                        "user_id" => row.user_id = map.next_value()?,
                        "alt_id" => row.alt_id = map.next_value()?,
                        "_id" => row.oid = map.next_value::<OidField<'de>>()?.0,
                        "email" => row.email = map.next_value()?,
                        "identifiers" => {
                            row.identifier_email = map.next_value::<IdentifierEmail<'de>>()?.0
                        }
                        "connection" => row.connection = map.next_value()?,
                        "passwordHash" => row.password_hash = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(RowJson::Object(row))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RowJson<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RowJson::NotObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<RowJson<'de>, E> {
                Ok(RowJson::NotObject)
            }
            fn visit_unit<E>(self) -> Result<RowJson<'de>, E> {
                Ok(RowJson::NotObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<RowJson<'de>, E> {
                Ok(RowJson::NotObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<RowJson<'de>, E> {
                Ok(RowJson::NotObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<RowJson<'de>, E> {
                Ok(RowJson::NotObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<RowJson<'de>, E> {
                Ok(RowJson::NotObject)
            }
        }
        d.deserialize_any(V)
    }
}

impl RowFields<'_> {
    /// `auth0|<alt_id>` when `alt_id` is set, else `auth0|<_id.$oid>` (`_id` may also be a
    /// plain string). An explicit full `user_id`, as some re-packaged exports carry, wins.
    fn user_id(&self) -> Option<RowId<'_>> {
        if let Some(id) = self.user_id.text() {
            return Some(RowId::Full(id));
        }
        if let Some(alt) = self.alt_id.text() {
            return Some(RowId::Db(alt));
        }
        let oid = self.oid.as_deref()?.trim();
        (!oid.is_empty()).then_some(RowId::Db(oid))
    }

    /// Top-level `email`, else the first `identifiers[]` entry of type `email` (the export
    /// does not always carry root attributes).
    fn email(&self) -> Option<&str> {
        match &self.email {
            Field::Str(email) if !email.trim().is_empty() => Some(email),
            _ => self.identifier_email.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcm_model::LinkedIdentity;

    const HASH: &str = "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K";

    fn index(text: &str) -> (HashIndex, Vec<RecordError>) {
        let input =
            Input::from_reader("h.ndjson", std::io::Cursor::new(text.as_bytes().to_vec())).unwrap();
        HashIndex::build(input, 1 << 20)
    }

    fn user(id: &str, email: &str, provider: &str, connection: Option<&str>) -> User {
        User {
            source_id: id.into(),
            email: Some(email.into()),
            identities: vec![LinkedIdentity {
                provider: provider.into(),
                user_id: "x".into(),
                connection: connection.map(Into::into),
                username: None,
                email: None,
                primary: true,
            }],
            ..User::default()
        }
    }

    #[test]
    fn email_fallback_respects_connection_and_social_users() {
        let text = format!(
            "{{\"_id\":{{\"$oid\":\"a1\"}},\"email\":\"Same@x.io\",\"connection\":\"db2\",\"passwordHash\":\"{HASH}\"}}\n\
             {{\"_id\":{{\"$oid\":\"a2\"}},\"email\":\"same@x.io\",\"connection\":\"db1\",\"passwordHash\":\"{HASH}\"}}\n"
        );
        let (mut idx, errors) = index(&text);
        assert!(errors.is_empty());
        assert!(idx
            .take_for(&user("google-oauth2|1", "same@x.io", "google-oauth2", None))
            .is_none());
        let m = idx
            .take_for(&user("auth0|zz", "SAME@x.io", "auth0", Some("db1")))
            .unwrap();
        assert_eq!((m.provenance.line, m.by_email), (2, true));
        let m = idx
            .take_for(&user("auth0|yy", "same@x.io", "auth0", None))
            .unwrap();
        assert_eq!(m.provenance.line, 1);
        assert!(idx
            .take_for(&user("auth0|a1", "same@x.io", "auth0", None))
            .is_none());
        assert!(idx.into_unmatched().next().is_none());
    }

    #[test]
    fn bad_and_duplicate_rows_are_errors_and_never_show_the_hash() {
        let text = format!(
            "{{\"email\":\"a@x\",\"passwordHash\":\"{HASH}\"}}\n\
             {{\"_id\":{{\"$oid\":\"b\"}}}}\n\
             {{\"_id\":\"c\",\"passwordHash\":\"{HASH}\"}}\n\
             {{\"_id\":\"c\",\"passwordHash\":\"{HASH}\"}}\n\
             [1]\n"
        );
        let (idx, errors) = index(&text);
        assert_eq!(idx.len(), 1);
        let got: Vec<_> = errors
            .iter()
            .map(|e| (e.provenance.line, e.reason))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, Reason::MissingField),
                (2, Reason::MissingField),
                (4, Reason::Duplicate),
                (5, Reason::InvalidField)
            ]
        );
        let unmatched: Vec<_> = idx.into_unmatched().collect();
        assert_eq!(unmatched[0].source_id.as_deref(), Some("auth0|c"));
        for e in errors.iter().chain(&unmatched) {
            assert!(!e.to_string().contains("nFgu"), "{e}");
        }
    }

    #[test]
    fn packed_ids_and_bcrypt_hashes_unpack_to_the_exact_text() {
        let oid = "auth0|0123456789abcdef01234567";
        let packed = pack_oid(oid).unwrap();
        let mut index = HashIndex::new(Arc::from("h"));
        index.rows.push(Row {
            email_check: 0,
            id: packed,
            hash: [0; BCRYPT_PACKED_BYTES],
            line: 1,
            record: 1,
            connection: NONE_U16,
            cost: 0,
            flags: 0,
        });
        assert_eq!(index.id_of(0), oid);
        for id in [
            "auth0|0123456789ABCDEF01234567",
            "auth0|short",
            "google-oauth2|1",
            "0123456789abcdef01234567",
        ] {
            assert!(pack_oid(id).is_none(), "{id}");
        }
        // Every alphabet character in every position, all variants, both cost digits.
        for (n, variant) in ["$2a$", "$2b$", "$2y$"].iter().enumerate() {
            for shift in 0..64 {
                let body: String = (0..BCRYPT_BODY_CHARS)
                    .map(|i| char::from(BCRYPT_ALPHABET[(i * 7 + shift) % 64]))
                    .collect();
                let text = format!("{variant}{:02}${body}", 4 + (shift % 28));
                let (v, cost, packed) = pack_bcrypt(&text).unwrap();
                assert_eq!(usize::from(v), n);
                assert_eq!(unpack_bcrypt(v, cost, &packed), text);
            }
        }
        for other in [
            "$2b$4$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K",
            "$2x$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K",
            "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1",
            "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1+",
        ] {
            assert!(pack_bcrypt(other).is_none(), "{other}");
        }
    }

    #[test]
    fn unusual_ids_and_hashes_are_kept_whole_and_merge_the_same() {
        let argon = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        let text = format!(
            "{{\"_id\":\"AA\",\"passwordHash\":\"{argon}\"}}\n\
             {{\"_id\":{{\"$oid\":\"0123456789abcdef01234567\"}},\"passwordHash\":\" {HASH} \"}}\n\
             {{\"user_id\":\"samlp|corp|ann\",\"passwordHash\":\"$1$x$y\",\"identifiers\":[{{\"type\":\"username\",\"value\":\"ann\"}},{{\"type\":\"email\",\"value\":\"Ann@X.io\"}}]}}\n\
             {{\"alt_id\":\"euclid\",\"_id\":{{\"$oid\":\"ff\"}},\"passwordHash\":\"{HASH}\",\"email\":\"e\\u0040x.io\"}}\n"
        );
        let (mut idx, errors) = index(&text);
        assert!(errors.is_empty(), "{errors:?}");
        let m = idx.take_for(&user("auth0|AA", "-", "auth0", None)).unwrap();
        assert_eq!(m.hash.algorithm_name(), "argon2");
        let m = idx
            .take_for(&user("auth0|0123456789abcdef01234567", "-", "auth0", None))
            .unwrap();
        match &m.hash {
            PasswordHash::Bcrypt { mcf, cost } => {
                assert_eq!((mcf.expose().as_str(), *cost), (HASH, 10))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            idx.take_for(&user("auth0|x", "ann@x.IO", "auth0", None))
                .unwrap()
                .provenance
                .line,
            3
        );
        let m = idx
            .take_for(&user("auth0|other", "E@x.io", "auth0", None))
            .unwrap();
        assert_eq!((m.provenance.line, m.by_email), (4, true));
        assert!(idx.into_unmatched().next().is_none());
    }

    #[test]
    fn a_repeated_id_keeps_its_first_row_wherever_the_rows_are() {
        let text = format!(
            "{{\"_id\":\"b\",\"passwordHash\":\"{HASH}\"}}\n\
             {{\"_id\":\"a\",\"passwordHash\":\"{HASH}\",\"email\":\"a@x\"}}\n\
             {{\"_id\":\"b\",\"passwordHash\":\"x\",\"email\":\"b@x\"}}\n\
             nope\n\
             {{\"_id\":\"b\",\"passwordHash\":\"y\"}}\n"
        );
        let (mut idx, errors) = index(&text);
        let got: Vec<_> = errors
            .iter()
            .map(|e| (e.provenance.line, e.reason, e.message.clone()))
            .collect();
        assert_eq!(
            got[0],
            (
                3,
                Reason::Duplicate,
                "a second password-hash row for `auth0|b`; the row on line 1 is used".to_string()
            )
        );
        assert_eq!((got[1].0, got[1].1), (4, Reason::Malformed));
        assert_eq!((got[2].0, got[2].1), (5, Reason::Duplicate));
        assert_eq!(idx.len(), 2);
        // The dead row's e-mail leads nowhere.
        assert!(idx
            .take_for(&user("auth0|zz", "b@x", "auth0", None))
            .is_none());
        assert_eq!(
            idx.take_for(&user("auth0|b", "-", "auth0", None))
                .unwrap()
                .provenance
                .line,
            1
        );
        let left: Vec<_> = idx.into_unmatched().map(|e| e.source_id).collect();
        assert_eq!(left, [Some("auth0|a".to_string())]);
    }

    #[test]
    fn sorted_keys_find_every_row_of_a_hash_in_file_order() {
        for n in [0usize, 1, 7, 8, 9, 1000] {
            let mut keys = SortedKeys::default();
            let mut seed = 0x9e37_79b9_7f4a_7c15u64;
            let mut hashes = Vec::new();
            for row in 0..n as u32 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                // Every fifth row repeats the previous hash; the extremes are included.
                let hash = match row % 5 {
                    _ if row == 0 => 0,
                    _ if row == 1 => u64::MAX,
                    4 => hashes[row as usize - 1],
                    _ => seed,
                };
                hashes.push(hash);
                keys.keys.push(Key::new(hash, row));
            }
            keys.finish();
            for (row, &hash) in hashes.iter().enumerate() {
                let expected: Vec<u32> = (0..n as u32)
                    .filter(|&r| hashes[r as usize] == hash)
                    .collect();
                let got: Vec<u32> = keys.rows_with(hash).collect();
                assert_eq!(got, expected, "n {n} row {row}");
            }
            assert_eq!(keys.rows_with(12345).count(), 0);
        }
    }
}
