//! Okta group memberships: a CSV with a group column and a user column, Rockstar's
//! group-member export (user columns only), or the API body of `GET /groups/{id}/users`.
//!
//! When the file names no group (Rockstar's `id,login,firstName,lastName,status` export, the
//! API body), every row belongs to the group named by the file's stem: `Engineering.csv` and
//! `Engineering.csv.gz` both mean group `Engineering`. Rename the file to the group's name.

use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::Arc;

use kcm_model::{
    Group, MemberRef, Membership, MembershipKind, Provenance, Reason, RecordError, SourceItem,
    SourceResult,
};
use kcm_source_io::{Input, JsonRecords, RawRecord, SourceError};
use serde_json::Value;

use crate::columns;
use crate::csv_rows::{CsvRows, Row};

/// Extensions stripped from a file name to find the group named by its stem.
const STEM_EXTENSIONS: &[&str] = &["gz", "csv", "json", "ndjson", "txt"];

/// Wrapper keys accepted around a JSON membership listing.
const JSON_WRAPPER_KEYS: &[&str] = &["users"];

/// What a membership-CSV column holds. The user kinds are listed in preference order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Role {
    GroupName,
    GroupId,
    GroupDescription,
    UserLogin,
    UserEmail,
    UserId,
    /// `user`: could be a login, an e-mail or an id; matched against all three.
    UserAny,
}

/// Membership-CSV header → role. Headers are compared lower-cased with spaces, `_`, `-`
/// and `.` removed, so `Group name`, `groupName` and `group_name` are one entry.
const HEADERS: &[(&str, Role)] = &[
    ("group", Role::GroupName),
    ("groupname", Role::GroupName),
    ("groupprofilename", Role::GroupName),
    ("groupid", Role::GroupId),
    ("groupdescription", Role::GroupDescription),
    ("login", Role::UserLogin),
    ("username", Role::UserLogin),
    ("profilelogin", Role::UserLogin),
    ("oktausername", Role::UserLogin),
    ("userlogin", Role::UserLogin),
    ("email", Role::UserEmail),
    ("primaryemail", Role::UserEmail),
    ("profileemail", Role::UserEmail),
    ("useremail", Role::UserEmail),
    ("id", Role::UserId),
    ("userid", Role::UserId),
    ("user", Role::UserAny),
];

fn role_of(header: &str) -> Option<Role> {
    let key: String = header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    HEADERS.iter().find(|(h, _)| *h == key).map(|(_, r)| *r)
}

/// The group a file names by its stem: the file name without `.gz`, `.csv`, `.json`, ...
fn stem_group(path: &str) -> String {
    let mut name = Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned());
    while let Some((stem, ext)) = name.rsplit_once('.') {
        if stem.is_empty() || !STEM_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)) {
            break;
        }
        name = stem.to_string();
    }
    name
}

/// Group items not yet emitted, and the names already emitted: a group is announced once,
/// before its first membership.
#[derive(Default)]
struct Groups {
    seen: HashSet<String>,
    queue: VecDeque<SourceResult>,
}

impl Groups {
    fn announce(
        &mut self,
        name: &str,
        source_id: Option<String>,
        description: Option<String>,
        at: &Provenance,
    ) {
        // Looked up first: most rows name a group already seen, and need no copy of it.
        if !self.seen.contains(name) && self.seen.insert(name.to_string()) {
            self.queue.push_back(Ok(SourceItem::Group(Group {
                source_id,
                name: name.to_string(),
                parent: None,
                description,
                provenance: at.clone(),
            })));
        }
    }
}

/// The items of a membership CSV: groups (once each) and one membership per row.
pub(crate) struct CsvMemberships {
    rows: CsvRows,
    layout: Layout,
    groups: Groups,
}

/// Where a membership CSV keeps what.
struct Layout {
    /// Column index of each role present.
    columns: Vec<(Role, usize)>,
    /// The group every row belongs to when no group column exists.
    stem_group: Option<String>,
}

/// One row read: the membership, and the group details to announce before it.
struct RowMembership {
    group_id: Option<String>,
    description: Option<String>,
    membership: Membership,
}

impl CsvMemberships {
    pub(crate) fn open(input: Input, max_row_bytes: usize) -> Result<Self, SourceError> {
        let rows = CsvRows::open(input, max_row_bytes)?;
        let path = rows.path().to_string();
        let unknown = |why: String| SourceError::UnknownFormat {
            path: path.clone(),
            why,
        };
        let mut columns: Vec<(Role, usize)> = Vec::new();
        let mut clashes = Vec::new();
        for (i, header) in rows.headers().iter().enumerate() {
            let Some(role) = role_of(header) else {
                continue;
            };
            match columns.iter().find(|(r, _)| *r == role) {
                Some(&(_, first)) => clashes.push(format!(
                    "`{}` (column {}) and `{header}` (column {})",
                    rows.headers()
                        .get(first)
                        .map(String::as_str)
                        .unwrap_or_default(),
                    first + 1,
                    i + 1
                )),
                None => columns.push((role, i)),
            }
        }
        if !clashes.is_empty() {
            return Err(unknown(format!(
                "duplicate columns: {}",
                clashes.join("; ")
            )));
        }
        if !columns.iter().any(|(r, _)| *r >= Role::UserLogin) {
            return Err(unknown(format!(
                "not a group-membership CSV: no user column (`login`, `username`, `user`, `email`, `user id`, `userId`, `id`); columns found: {}",
                columns::list(rows.headers())
            )));
        }
        let has_group = columns
            .iter()
            .any(|(r, _)| matches!(r, Role::GroupName | Role::GroupId));
        let stem_group = (!has_group).then(|| stem_group(&path));
        if let Some(group) = &stem_group {
            tracing::info!(file = %path, group = %group, "no group column: every row is a member of the group named by the file name");
        }
        Ok(Self {
            rows,
            layout: Layout {
                columns,
                stem_group,
            },
            groups: Groups::default(),
        })
    }

    fn next_item(&mut self) -> Option<SourceResult> {
        if let Some(item) = self.groups.queue.pop_front() {
            return Some(item);
        }
        let row = self.rows.next()?;
        let result = row
            .and_then(|row| self.layout.membership(row, self.rows.path()))
            .map(|row| {
                let m = row.membership;
                self.groups
                    .announce(&m.name, row.group_id, row.description, &m.provenance);
                SourceItem::Membership(m)
            });
        // Any group this row announced goes out before the row's own item.
        self.groups.queue.push_back(result);
        self.groups.queue.pop_front()
    }
}

impl Layout {
    fn cell<'a>(&self, row: &'a Row, role: Role) -> Option<&'a str> {
        let (_, i) = self.columns.iter().find(|(r, _)| *r == role)?;
        row.cells
            .get(*i)
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
    }

    fn membership(&self, row: Row, path: &Arc<str>) -> Result<RowMembership, RecordError> {
        let at = Provenance::new(path.clone(), row.line, row.record);
        let group_id = self.cell(&row, Role::GroupId).map(str::to_string);
        let group = match (&self.stem_group, self.cell(&row, Role::GroupName)) {
            (Some(stem), _) => stem.clone(),
            (None, Some(name)) => name.to_string(),
            // Only an id column: the id is the best name there is.
            (None, None) => match &group_id {
                Some(id) => id.clone(),
                None => {
                    return Err(RecordError::new(
                        at,
                        Reason::MissingField,
                        "the row names no group",
                    ))
                }
            },
        };
        let member = [
            Role::UserLogin,
            Role::UserEmail,
            Role::UserId,
            Role::UserAny,
        ]
        .into_iter()
        .find_map(|role| self.cell(&row, role).map(|v| member_ref(role, v)));
        let Some(member) = member else {
            return Err(RecordError::new(
                at,
                Reason::MissingField,
                "the row names no user",
            ));
        };
        let description = self.cell(&row, Role::GroupDescription).map(str::to_string);
        Ok(RowMembership {
            group_id,
            description,
            membership: Membership {
                kind: MembershipKind::Group,
                name: group,
                member,
                provenance: at,
            },
        })
    }
}

impl Iterator for CsvMemberships {
    type Item = SourceResult;

    fn next(&mut self) -> Option<SourceResult> {
        self.next_item()
    }
}

fn member_ref(role: Role, value: &str) -> MemberRef {
    let value = value.to_string();
    match role {
        Role::UserLogin => MemberRef::Login(value),
        Role::UserEmail => MemberRef::Email(value),
        Role::UserId => MemberRef::Id(value),
        _ => MemberRef::Any(value),
    }
}

/// The API body of `GET /groups/{id}/users` (users of the group named by the file stem).
/// Group objects (`GET /users/{id}/groups`, `GET /groups`) are read as group definitions.
pub(crate) struct JsonMemberships {
    records: JsonRecords,
    group: String,
    groups: Groups,
}

impl JsonMemberships {
    pub(crate) fn new(input: Input, max_record_bytes: usize) -> Self {
        let group = stem_group(&input.path);
        Self {
            records: JsonRecords::new(input, JSON_WRAPPER_KEYS, max_record_bytes),
            group,
            groups: Groups::default(),
        }
    }

    fn item(&mut self, raw: &RawRecord) -> SourceResult {
        let path = self.records.path().clone();
        let at = raw.provenance(&path);
        let object: serde_json::Map<String, Value> = raw.parse(&path)?;
        let id = object.get("id").and_then(non_empty);
        let profile = object.get("profile");
        let field = |name: &str| profile.and_then(|p| p.get(name)).and_then(non_empty);
        let member = match (field("login"), field("email"), &id) {
            (Some(login), _, _) => Some(MemberRef::Login(login)),
            (None, Some(email), _) => Some(MemberRef::Email(email)),
            _ => None,
        };
        if let Some(member) = member {
            let group = self.group.clone();
            self.groups.announce(&group, None, None, &at);
            return Ok(SourceItem::Membership(Membership {
                kind: MembershipKind::Group,
                name: group,
                member,
                provenance: at,
            }));
        }
        if let Some(name) = field("name") {
            // A group object: a definition, with no member to attach.
            self.groups.seen.insert(name.clone());
            return Ok(SourceItem::Group(Group {
                source_id: id,
                name,
                parent: None,
                description: field("description"),
                provenance: at,
            }));
        }
        match id {
            Some(id) => {
                let group = self.group.clone();
                self.groups.announce(&group, None, None, &at);
                Ok(SourceItem::Membership(Membership {
                    kind: MembershipKind::Group,
                    name: group,
                    member: MemberRef::Id(id),
                    provenance: at,
                }))
            }
            None => Err(RecordError::new(
                at,
                Reason::MissingField,
                "neither a user (`profile.login`, `profile.email`, `id`) nor a group (`profile.name`)",
            )),
        }
    }

    fn next_item(&mut self) -> Option<SourceResult> {
        if let Some(item) = self.groups.queue.pop_front() {
            return Some(item);
        }
        let result = match self.records.next()? {
            Ok(raw) => self.item(&raw),
            Err(e) => Err(e),
        };
        // Any group this row announced goes out before the row's own item.
        self.groups.queue.push_back(result);
        self.groups.queue.pop_front()
    }
}

impl Iterator for JsonMemberships {
    type Item = SourceResult;

    fn next(&mut self) -> Option<SourceResult> {
        self.next_item()
    }
}

fn non_empty(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_variants_share_a_role() {
        for h in [
            "group",
            "Group",
            "group name",
            "groupName",
            "group_name",
            "Group Name",
        ] {
            assert_eq!(role_of(h), Some(Role::GroupName), "{h}");
        }
        for h in ["group id", "groupId", "GROUP_ID"] {
            assert_eq!(role_of(h), Some(Role::GroupId), "{h}");
        }
        assert_eq!(role_of("User Id"), Some(Role::UserId));
        assert_eq!(role_of("user"), Some(Role::UserAny));
        assert_eq!(role_of("firstName"), None);
    }

    #[test]
    fn stem_drops_known_extensions_only() {
        assert_eq!(stem_group("/x/Engineering.csv.gz"), "Engineering");
        assert_eq!(stem_group("Sales.EMEA.csv"), "Sales.EMEA");
        assert_eq!(stem_group("members"), "members");
    }
}
