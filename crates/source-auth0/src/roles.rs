//! Roles files: Auth0 Core RBAC roles with their members, or an Authorization Extension export.
//!
//! Roles are not part of Auth0's user export; they come from `GET /api/v2/roles` plus
//! `GET /api/v2/roles/{id}/users`, collected into one file (shape in the crate docs), or from
//! the Authorization Extension's own export (`{configuration, groups, roles, permissions}`).
//! Core RBAC files are streamed record by record. Extension exports are small
//! administrator-made configurations whose groups refer to each other by id (`nested`), so
//! they are read whole before anything is emitted.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;

use kcm_model::{
    Group, MemberRef, Membership, MembershipKind, Provenance, Reason, RecordError, Role,
    SourceItem, SourceResult,
};
use kcm_source_io::{open_input, JsonRecords, RawRecord, ReadOptions, SourceError};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::require_json;

/// Wrapper key of a roles file (`{"roles": [...]}`, also `GET /api/v2/roles` pages).
pub const ROLES_WRAPPER_KEY: &str = "roles";
/// Wrapper key of the Authorization Extension export's group list.
const GROUPS_WRAPPER_KEY: &str = "groups";
/// Top-level keys that only the Authorization Extension export has.
const EXTENSION_KEYS: &[&str] = &["groups", "configuration", "permissions"];

/// Items of a roles file, produced on demand.
pub enum RolesReader {
    Stream {
        records: JsonRecords,
        file: Arc<str>,
    },
    Ready(std::vec::IntoIter<SourceResult>),
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
            records: JsonRecords::new(input, &[ROLES_WRAPPER_KEY], opts.max_record_bytes),
            file,
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
            RolesReader::Stream { records, file } => match records.next() {
                None => false,
                Some(Err(e)) => {
                    out.push_back(Err(e));
                    true
                }
                Some(Ok(raw)) => {
                    rbac_role(&raw, file, out);
                    true
                }
            },
        }
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
        let member = match entry {
            Value::String(id) if !id.trim().is_empty() => {
                Some(MemberRef::Id(id.trim().to_string()))
            }
            Value::Object(o) => text(o, "user_id")
                .map(MemberRef::Id)
                .or_else(|| text(o, "email").map(MemberRef::Email)),
            _ => None,
        };
        out.push_back(match member {
            Some(member) => Ok(SourceItem::Membership(Membership {
                kind: MembershipKind::Role,
                name: name.clone(),
                member,
                provenance: prov.clone(),
            })),
            None => Err(RecordError::new(
                prov.clone(),
                Reason::InvalidField,
                format!("role `{name}`: users[{i}] is neither a user id nor an object with `user_id` or `email`"),
            )),
        });
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
