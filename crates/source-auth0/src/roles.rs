//! Roles files: Auth0 Core RBAC roles with their members, or an Authorization Extension export.
//!
//! Roles are not part of Auth0's user export; they come from `GET /api/v2/roles` plus
//! `GET /api/v2/roles/{id}/users`, collected into one file (shape in the crate docs), or from
//! the Authorization Extension's own export (`{configuration, groups, roles, permissions}`).
//! Core RBAC files are streamed record by record, and a role's `users` (or `members`) array
//! element by element, so a role with a million members neither needs a huge record size
//! limit nor sits in memory as one JSON value: its head (`id`, `name`, `description`) is read
//! first, the [`Role`] emitted, then one membership per element. Keys after the array only
//! matter when the name comes after it; the members are then held until the name is known.
//! Extension exports are small administrator-made configurations whose groups refer to each
//! other by id (`nested`), so they are read whole before anything is emitted.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;

use kcm_model::{
    Group, MemberRef, Membership, MembershipKind, Provenance, Reason, RecordError, Role,
    SourceItem, SourceResult,
};
use kcm_source_io::{
    open_input, JsonRecords, Piece, RawRecord, ReadOptions, RecordText, SourceError,
};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::require_json;

/// Wrapper key of a roles file (`{"roles": [...]}`, also `GET /api/v2/roles` pages).
pub const ROLES_WRAPPER_KEY: &str = "roles";
/// Wrapper key of the Authorization Extension export's group list.
const GROUPS_WRAPPER_KEY: &str = "groups";
/// Top-level keys that only the Authorization Extension export has.
const EXTENSION_KEYS: &[&str] = &["groups", "configuration", "permissions"];
/// Keys of a role's member list, streamed element by element (the first one present).
const MEMBER_KEYS: &[&str] = &["users", "members"];

/// Items of a roles file, produced on demand.
pub enum RolesReader {
    Stream {
        records: Box<JsonRecords>,
        file: Arc<str>,
        /// The role whose member list is being streamed.
        open: Option<OpenRole>,
    },
    Ready(std::vec::IntoIter<SourceResult>),
}

/// A Core RBAC role read up to its member list.
pub struct OpenRole {
    record: u64,
    provenance: Provenance,
    state: OpenState,
}

enum OpenState {
    /// The role was emitted; members follow it directly.
    Emitted { name: String },
    /// No name before the member list: members wait for the rest of the object.
    Waiting {
        head: Map<String, Value>,
        held: Vec<Held>,
    },
    /// The head was rejected: the rest of the record is dropped.
    Rejected,
}

/// A member seen before its role's name.
enum Held {
    Member(MemberRef),
    /// `users[index]` is not a usable entry.
    Bad(u64),
    Error(RecordError),
}

impl RolesReader {
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<Self, SourceError> {
        let mut input = open_input(path)?;
        let first = require_json(&mut input, "a roles file (JSON)")?;
        if first == Some(b'{') {
            let keys = top_level_keys(path)?;
            // A role object may carry `permissions` too; only the export lacks a `name`.
            let is_extension = !keys.iter().any(|k| k == "name")
                && keys.iter().any(|k| EXTENSION_KEYS.contains(&k.as_str()));
            if is_extension {
                let items = read_extension_export(path, &keys, opts)?;
                return Ok(RolesReader::Ready(items.into_iter()));
            }
        }
        let file = input.path.clone();
        Ok(RolesReader::Stream {
            records: Box::new(
                JsonRecords::new(input, &[ROLES_WRAPPER_KEY], opts.max_record_bytes)
                    .split_arrays(MEMBER_KEYS),
            ),
            file,
            open: None,
        })
    }

    /// Append the items of the next record to `out`; false when the file is exhausted.
    pub fn next_into(&mut self, out: &mut VecDeque<SourceResult>) -> bool {
        match self {
            RolesReader::Ready(items) => match items.next() {
                Some(item) => {
                    out.push_back(item);
                    true
                }
                None => false,
            },
            RolesReader::Stream {
                records,
                file,
                open,
            } => match records.next_text() {
                None => false,
                Some(Err(e)) => {
                    let same = open
                        .as_ref()
                        .is_some_and(|o| o.record == e.provenance.record);
                    // After an error, a split record either goes on (the error was one
                    // element's) or has ended (the error stands for the rest of it).
                    let ended = same && !records.in_split_record();
                    match open.as_mut() {
                        Some(role) if same => match &mut role.state {
                            // The role already has its one error.
                            OpenState::Rejected => {}
                            OpenState::Waiting { held, .. } if !ended => held.push(Held::Error(e)),
                            // A waiting role that broke off is dropped whole, held members
                            // included: this error is all that is left of it.
                            _ => out.push_back(Err(e)),
                        },
                        _ => out.push_back(Err(e)),
                    }
                    if ended {
                        *open = None;
                    }
                    true
                }
                Some(Ok((piece, text))) => {
                    // A new record after an open one means the open one broke off (its
                    // error is already out): what it held is dropped with it.
                    if open.as_ref().is_some_and(|o| o.record != text.record) {
                        *open = None;
                    }
                    match piece {
                        Piece::Whole => rbac_role(&text.to_raw(), file, out),
                        Piece::Head => *open = Some(open_role(&text, file, out)),
                        Piece::Element { index } => {
                            if let Some(role) = open {
                                role_member(role, &text, index, out);
                            }
                        }
                        Piece::Tail => {
                            if let Some(role) = open.take() {
                                close_role(role, &text, file, out);
                            }
                        }
                    }
                    true
                }
            },
        }
    }
}

/// The head of a split role: emit the role if it has a name, else wait for the tail.
fn open_role(text: &RecordText<'_>, file: &Arc<str>, out: &mut VecDeque<SourceResult>) -> OpenRole {
    let provenance = text.provenance(file);
    let state = match text.parse::<Map<String, Value>>(file) {
        Err(e) => {
            out.push_back(Err(e));
            OpenState::Rejected
        }
        Ok(head) => match role_item(&head, &provenance) {
            Ok(role) => {
                let name = role.name.clone();
                out.push_back(Ok(SourceItem::Role(role)));
                OpenState::Emitted { name }
            }
            Err(_) => OpenState::Waiting {
                head,
                held: Vec::new(),
            },
        },
    };
    OpenRole {
        record: text.record,
        provenance,
        state,
    }
}

/// One element of a role's member list.
fn role_member(
    role: &mut OpenRole,
    text: &RecordText<'_>,
    index: u64,
    out: &mut VecDeque<SourceResult>,
) {
    let member = match serde_json::from_str::<Value>(text.text) {
        Ok(entry) => member_ref(entry),
        // The scanner has checked the element's structure; what is left is a bad literal.
        Err(_) => None,
    };
    match &mut role.state {
        OpenState::Emitted { name } => {
            out.push_back(membership(name, member, index, &role.provenance))
        }
        OpenState::Waiting { held, .. } => held.push(member.map_or(Held::Bad(index), Held::Member)),
        OpenState::Rejected => {}
    }
}

/// The tail of a split role: a waiting role gets its name (or its error) now.
fn close_role(
    role: OpenRole,
    text: &RecordText<'_>,
    file: &Arc<str>,
    out: &mut VecDeque<SourceResult>,
) {
    let OpenState::Waiting { mut head, held } = role.state else {
        return;
    };
    match text.parse::<Map<String, Value>>(file) {
        Ok(tail) => head.extend(tail),
        Err(e) => return out.push_back(Err(e)),
    }
    let role_item = match role_item(&head, &role.provenance) {
        Ok(role_item) => role_item,
        Err(e) => return out.push_back(Err(e)),
    };
    let name = role_item.name.clone();
    out.push_back(Ok(SourceItem::Role(role_item)));
    for item in held {
        out.push_back(match item {
            Held::Member(member) => membership(&name, Some(member), 0, &role.provenance),
            Held::Bad(index) => membership(&name, None, index, &role.provenance),
            Held::Error(e) => Err(e),
        });
    }
}

/// A member entry: a user-id string, or a `GET /roles/{id}/users` object (`user_id`, else
/// `email`).
fn member_ref(entry: Value) -> Option<MemberRef> {
    match entry {
        Value::String(id) if !id.trim().is_empty() => Some(MemberRef::Id(trimmed(id))),
        Value::Object(o) => text(&o, "user_id")
            .map(MemberRef::Id)
            .or_else(|| text(&o, "email").map(MemberRef::Email)),
        _ => None,
    }
}

/// `s` without surrounding white space, reusing its allocation when there is none.
fn trimmed(s: String) -> String {
    if s.trim().len() == s.len() {
        s
    } else {
        s.trim().to_string()
    }
}

/// The membership for entry `index` of role `name`, or the error for an unusable entry.
fn membership(
    name: &str,
    member: Option<MemberRef>,
    index: u64,
    provenance: &Provenance,
) -> SourceResult {
    match member {
        Some(member) => Ok(SourceItem::Membership(Membership {
            kind: MembershipKind::Role,
            name: name.to_string(),
            member,
            provenance: provenance.clone(),
        })),
        None => Err(RecordError::new(
            provenance.clone(),
            Reason::InvalidField,
            format!("role `{name}`: users[{index}] is neither a user id nor an object with `user_id` or `email`"),
        )),
    }
}

/// Top-level keys of the first JSON value in the file (empty when it is not an object or is
/// unreadable — the streaming pass then reports what is wrong, with line numbers).
fn top_level_keys(path: &Path) -> Result<Vec<String>, SourceError> {
    let input = open_input(path)?;
    let mut de = serde_json::Deserializer::from_reader(input.reader);
    Ok(TopKeys::deserialize(&mut de)
        .map(|k| k.0)
        .unwrap_or_default())
}

struct TopKeys(Vec<String>);

impl<'de> Deserialize<'de> for TopKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = TopKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(TopKeys(keys))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopKeys, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(TopKeys(Vec::new()))
            }
        }
        d.deserialize_any(KeysVisitor)
    }
}

fn as_object(raw: &RawRecord, file: &Arc<str>) -> Result<Map<String, Value>, RecordError> {
    match raw.parse::<Value>(file)? {
        Value::Object(obj) => Ok(obj),
        _ => Err(RecordError::new(
            raw.provenance(file),
            Reason::InvalidField,
            "expected a role object",
        )),
    }
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// `id` (Core RBAC) or `_id` (Authorization Extension).
fn any_id(obj: &Map<String, Value>) -> Option<String> {
    text(obj, "id").or_else(|| text(obj, "_id"))
}

fn role_item(obj: &Map<String, Value>, prov: &Provenance) -> Result<Role, RecordError> {
    let name = text(obj, "name").ok_or_else(|| {
        let e = RecordError::new(prov.clone(), Reason::MissingField, "the role has no `name`");
        match any_id(obj) {
            Some(id) => e.with_source_id(id),
            None => e,
        }
    })?;
    Ok(Role {
        source_id: any_id(obj),
        name,
        description: text(obj, "description"),
        provenance: prov.clone(),
    })
}

/// One Core RBAC role record: the role, then one membership per `users` entry (also accepted
/// as `members`). Entries are user-id strings or `GET /roles/{id}/users` objects.
fn rbac_role(raw: &RawRecord, file: &Arc<str>, out: &mut VecDeque<SourceResult>) {
    let prov = raw.provenance(file);
    let obj = match as_object(raw, file) {
        Ok(obj) => obj,
        Err(e) => return out.push_back(Err(e)),
    };
    let role = match role_item(&obj, &prov) {
        Ok(role) => role,
        Err(e) => return out.push_back(Err(e)),
    };
    let name = role.name.clone();
    out.push_back(Ok(SourceItem::Role(role)));
    let members = match obj.get("users").or_else(|| obj.get("members")) {
        None | Some(Value::Null) => return,
        Some(Value::Array(members)) => members,
        Some(_) => {
            return out.push_back(Err(RecordError::new(
                prov,
                Reason::InvalidField,
                format!("role `{name}`: `users` is not an array"),
            )))
        }
    };
    for (i, entry) in members.iter().enumerate() {
        out.push_back(membership(
            &name,
            member_ref(entry.clone()),
            i as u64,
            &prov,
        ));
    }
}

/// A group of the Authorization Extension export, as far as the model can carry it.
struct ExtGroup {
    id: Option<String>,
    name: String,
    description: Option<String>,
    members: Vec<Value>,
    nested: Vec<String>,
    provenance: Provenance,
}

/// Read an Authorization Extension export: its roles, then each group (parent taken from the
/// group that lists it in `nested`; the first one when several do) followed by its members.
/// Group → role assignments and permissions have no place in the model and are not emitted.
fn read_extension_export(
    path: &Path,
    keys: &[String],
    opts: &ReadOptions,
) -> Result<Vec<SourceResult>, SourceError> {
    let mut out = Vec::new();
    if keys.iter().any(|k| k == ROLES_WRAPPER_KEY) {
        let input = open_input(path)?;
        let file = input.path.clone();
        for raw in JsonRecords::new(input, &[ROLES_WRAPPER_KEY], opts.max_record_bytes) {
            out.push(raw.and_then(|raw| {
                let obj = as_object(&raw, &file)?;
                role_item(&obj, &raw.provenance(&file)).map(SourceItem::Role)
            }));
        }
    }
    if !keys.iter().any(|k| k == GROUPS_WRAPPER_KEY) {
        return Ok(out);
    }
    let input = open_input(path)?;
    let file = input.path.clone();
    let mut groups = Vec::new();
    for raw in JsonRecords::new(input, &[GROUPS_WRAPPER_KEY], opts.max_record_bytes) {
        match raw.and_then(|raw| ext_group(&raw, &file)) {
            Ok(group) => groups.push(group),
            Err(e) => out.push(Err(e)),
        }
    }
    let mut parent_of: HashMap<&str, &str> = HashMap::new();
    for group in &groups {
        for child in &group.nested {
            if group.id.as_deref() != Some(child.as_str()) {
                parent_of
                    .entry(child.as_str())
                    .or_insert(group.name.as_str());
            }
        }
    }
    for group in &groups {
        let parent = group
            .id
            .as_deref()
            .and_then(|id| parent_of.get(id))
            .map(|p| p.to_string());
        out.push(Ok(SourceItem::Group(Group {
            source_id: group.id.clone(),
            name: group.name.clone(),
            parent,
            description: group.description.clone(),
            provenance: group.provenance.clone(),
        })));
        for (i, member) in group.members.iter().enumerate() {
            out.push(match member {
                Value::String(id) if !id.trim().is_empty() => {
                    Ok(SourceItem::Membership(Membership {
                        kind: MembershipKind::Group,
                        name: group.name.clone(),
                        member: MemberRef::Id(id.trim().to_string()),
                        provenance: group.provenance.clone(),
                    }))
                }
                _ => Err(RecordError::new(
                    group.provenance.clone(),
                    Reason::InvalidField,
                    format!("group `{}`: members[{i}] is not a user id", group.name),
                )),
            });
        }
    }
    Ok(out)
}

fn ext_group(raw: &RawRecord, file: &Arc<str>) -> Result<ExtGroup, RecordError> {
    let provenance = raw.provenance(file);
    let mut obj = match raw.parse::<Value>(file)? {
        Value::Object(obj) => obj,
        _ => {
            return Err(RecordError::new(
                provenance,
                Reason::InvalidField,
                "expected a group object",
            ))
        }
    };
    let id = any_id(&obj);
    let Some(name) = text(&obj, "name") else {
        let e = RecordError::new(provenance, Reason::MissingField, "the group has no `name`");
        return Err(match id {
            Some(id) => e.with_source_id(id),
            None => e,
        });
    };
    let mut list = |key: &str| match obj.remove(key) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let nested = list("nested")
        .into_iter()
        .filter_map(|v| v.as_str().map(|s| s.trim().to_string()))
        .collect();
    let members = list("members");
    Ok(ExtGroup {
        id,
        description: text(&obj, "description"),
        members,
        nested,
        name,
        provenance,
    })
}
