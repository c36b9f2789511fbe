//! `update_existing` (delta sync, `apply --update-existing [--prune]`): brings planned users
//! that already exist in the realm in line with the plan, without touching their credentials
//! or sessions. New users are not created here: run `apply` first (on-existing = skip), which
//! loads the new ones and creates roles, clients and groups, then `update_existing` with the
//! same planned users (it reports users it cannot find as `not_found`).
//!
//! Per user (keycloak-target.md §3): `GET /users?username=&exact=true` (full representation);
//! profile fields (`firstName`, `lastName`, `email`, `emailVerified`, `enabled`), the planned
//! attributes and missing planned required actions are written with `PUT /users/{id}` — the
//! representation read back, modified, without `credentials`, so every field the plan does not
//! manage (other attributes, timestamps, federation link) is sent back unchanged. Realm and
//! client role mappings (`POST /role-mappings/realm|clients/{uuid}`, entries by name + id) and
//! group memberships (`PUT /groups/{id}`) are added; with `prune` the plan is authoritative:
//! direct mappings, memberships and visible attributes it does not list are removed
//! (`DELETE`), except the realm's default role and the `locale` attribute, which users set
//! themselves. Required actions are only ever added. Every id is resolved before the first
//! write: a role or group the realm lacks fails the user without a partial change.
//!
//! Skipping unchanged users: the journals record a content hash of each planned user
//! ([`crate::planned_hash`], credentials excluded). A user whose hash equals the one an earlier
//! run recorded *after bringing it in line* (an apply that added or overwrote it, an update
//! that updated it or found it unchanged) is not even read (`in_line`), unless `compare_all`.
//! Every other user is compared with Keycloak and written only where it differs.
//!
//! The update journal records each user's outcome and changes by name (field names, role
//! names, group paths — never values of profile fields, which may be personal data). A resume
//! skips users already settled; the operations are idempotent, so a user interrupted halfway
//! is simply compared again.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::task::JoinSet;

use crate::applied::check_target;
use crate::client::{encode_segment, ApiRequest, KeycloakClient, RequestStats};
use crate::error::SinkError;
use crate::journal::{
    now_rfc3339, open_op_journal, planned_hash, JournalLines, JournalOutcome, JournalWriter,
};
use crate::lookup::{self, RoleRef};
use crate::progress::{Phase, Progress};
use crate::report::UserOutcome;
use crate::targets::{GroupPath, UserToLoad};
use crate::user_profile;
use crate::verify::MAX_LISTED;

/// Format of the update journal.
pub const UPDATE_JOURNAL_FORMAT: u32 = 1;
/// Attributes `prune` never removes: set by users themselves, never by a migration.
const PRUNE_KEEP_ATTRIBUTES: [&str; 1] = ["locale"];
/// Profile fields the delta sync manages (the representation's own names).
const PROFILE_FIELDS: [&str; 3] = ["firstName", "lastName", "email"];

/// Settings of one delta-sync run.
#[derive(Debug, Clone)]
pub struct UpdateSettings {
    /// Remove mappings, memberships and attributes the plan does not list.
    pub prune: bool,
    /// The update journal (mode 0600).
    pub journal: PathBuf,
    /// Continue the run recorded in `journal`.
    pub resume: bool,
    /// Journals of earlier runs (apply or update), oldest first: their content hashes say
    /// which users are already in line with the plan.
    pub previous_journals: Vec<PathBuf>,
    /// Compare every user with Keycloak, even when its hash says it is in line (finds changes
    /// made by hand since).
    pub compare_all: bool,
    /// Identifies the plan; a resume with another fingerprint is refused.
    pub plan_fingerprint: String,
}

impl UpdateSettings {
    pub fn new(journal: impl Into<PathBuf>) -> Self {
        UpdateSettings {
            prune: false,
            journal: journal.into(),
            resume: false,
            previous_journals: Vec::new(),
            compare_all: false,
            plan_fingerprint: String::new(),
        }
    }

    pub fn validate(&self) -> Result<(), SinkError> {
        if self.journal.as_os_str().is_empty() {
            return Err(SinkError::InvalidSettings(
                "an update journal path is required".into(),
            ));
        }
        if self.previous_journals.contains(&self.journal) {
            return Err(SinkError::InvalidSettings(
                "the update journal cannot also be a previous journal".into(),
            ));
        }
        Ok(())
    }
}

/// What happened to one planned user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateOutcome {
    /// Compared and changed.
    Updated,
    /// Compared; already in line.
    Unchanged,
    /// Not read: an earlier run brought the same planned state in line.
    InLine,
    /// No user with this username: left to `apply`.
    NotFound,
    Failed,
}

impl UpdateOutcome {
    /// The user matches the plan whose hash is recorded with this outcome.
    fn in_line(self) -> bool {
        matches!(
            self,
            UpdateOutcome::Updated | UpdateOutcome::Unchanged | UpdateOutcome::InLine
        )
    }
}

/// The changes made to one user, by name only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChanges {
    /// Fields written: `firstName`, `lastName`, `email`, `emailVerified`, `enabled`,
    /// `requiredActions`, `attributes.<name>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub realm_roles_added: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub realm_roles_removed: Vec<String>,
    /// `clientId/role`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_roles_added: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_roles_removed: Vec<String>,
    /// Group paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups_added: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups_removed: Vec<String>,
}

impl UserChanges {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.realm_roles_added.is_empty()
            && self.realm_roles_removed.is_empty()
            && self.client_roles_added.is_empty()
            && self.client_roles_removed.is_empty()
            && self.groups_added.is_empty()
            && self.groups_removed.is_empty()
    }
}

/// One user's journal record (also listed in the report for changes and failures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUpdate {
    pub key: String,
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Content hash of the planned user.
    pub hash: String,
    pub outcome: UpdateOutcome,
    /// The changes made (for a failed user: the changes that were attempted).
    #[serde(default, skip_serializing_if = "UserChanges::is_empty")]
    pub changes: UserChanges,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Keycloak's message or the reason of a failure (never a field value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `seen = updated + unchanged + in_line + not_found + failed + already_done_from_journal +
/// not_reached`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpdateCounts {
    pub seen: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub in_line: u64,
    pub not_found: u64,
    pub failed: u64,
    /// Settled by an earlier run of this journal.
    pub already_done_from_journal: u64,
    /// Not handled because the run stopped (see `interrupted`).
    pub not_reached: u64,
}

/// The result of [`update_existing`] (serialisable for `--output-format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateReport {
    pub url: String,
    pub realm: String,
    pub journal: PathBuf,
    pub resumed: bool,
    pub prune: bool,
    pub users: UpdateCounts,
    /// Users changed per field name.
    pub field_changes: BTreeMap<String, u64>,
    pub role_mappings_added: u64,
    pub role_mappings_removed: u64,
    pub group_memberships_added: u64,
    pub group_memberships_removed: u64,
    /// Updated and failed users (at most [`MAX_LISTED`]).
    pub listed: Vec<UserUpdate>,
    /// Planned attributes the user profile does not let the Admin API write (declare them or
    /// set the unmanaged-attribute policy): not compared.
    pub attributes_not_writable: BTreeSet<String>,
    pub truncated: bool,
    pub requests: RequestStats,
    /// Why the run stopped early; `None` when complete.
    pub interrupted: Option<String>,
}

impl UpdateReport {
    pub fn is_clean(&self) -> bool {
        self.interrupted.is_none() && self.users.failed == 0
    }
}

/// Lines of the update journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum UpdateEntry {
    Header {
        format: u32,
        started_at: String,
        url: String,
        realm: String,
        plan_fingerprint: String,
        prune: bool,
    },
    Resumed {
        at: String,
    },
    User(UserUpdate),
}

/// Lines of an earlier journal of either kind, as far as content hashes go.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum PreviousLine {
    Header {
        realm: String,
        url: String,
    },
    Done {
        outcomes: Vec<JournalOutcome>,
    },
    User(Box<UserUpdate>),
    #[serde(other)]
    Other,
}

/// Key → hash of the planned state an earlier run brought in line.
fn read_previous(
    paths: &[PathBuf],
    client: &KeycloakClient,
) -> Result<HashMap<String, String>, SinkError> {
    let mut in_line = HashMap::new();
    for path in paths {
        for line in JournalLines::<PreviousLine>::open(path)? {
            match line? {
                PreviousLine::Header { realm, url } => check_target(path, client, &realm, &url)?,
                PreviousLine::Done { outcomes } => {
                    for o in outcomes {
                        let loaded = matches!(
                            o.outcome,
                            UserOutcome::Added
                                | UserOutcome::AddedUnconfirmed
                                | UserOutcome::Overwritten
                        );
                        if let (true, Some(planned)) = (loaded, o.planned) {
                            in_line.insert(o.key, planned.hash);
                        }
                    }
                }
                PreviousLine::User(u) => {
                    let UserUpdate {
                        key, hash, outcome, ..
                    } = *u;
                    if outcome.in_line() {
                        in_line.insert(key, hash);
                    } else {
                        in_line.remove(&key);
                    }
                }
                PreviousLine::Other => {}
            }
        }
    }
    Ok(in_line)
}

/// Which planned attributes the Admin API can write.
struct Writable {
    all: bool,
    declared: BTreeSet<String>,
}

impl Writable {
    fn allows(&self, name: &str) -> bool {
        self.all || self.declared.contains(name)
    }
}

/// Ids resolved once per run (roles, clients and groups change rarely; a miss is not cached,
/// so a later `apply` creating the object is seen by a resumed run).
#[derive(Default)]
struct Ids {
    realm_roles: HashMap<String, RoleRef>,
    clients: HashMap<String, String>,
    client_roles: HashMap<(String, String), RoleRef>,
    groups: HashMap<String, String>,
}

struct Context {
    prune: bool,
    writable: Writable,
    default_role: String,
    ids: Mutex<Ids>,
}

fn ids(ctx: &Context) -> std::sync::MutexGuard<'_, Ids> {
    match ctx.ids.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// What a user task hands back.
struct Settled {
    record: UserUpdate,
    not_writable: Vec<String>,
}

/// Brings existing planned users in line with the plan (see the module documentation).
pub async fn update_existing(
    client: &KeycloakClient,
    users: impl Iterator<Item = UserToLoad> + Send,
    settings: &UpdateSettings,
    progress: &dyn Progress,
) -> Result<UpdateReport, SinkError> {
    settings.validate()?;
    let stats_at_start = client.stats();
    let previous = read_previous(&settings.previous_journals, client)?;
    let path = settings.journal.as_path();
    let header = UpdateEntry::Header {
        format: UPDATE_JOURNAL_FORMAT,
        started_at: now_rfc3339(),
        url: client.base_url(),
        realm: client.realm().to_string(),
        plan_fingerprint: settings.plan_fingerprint.clone(),
        prune: settings.prune,
    };
    let mut completed: HashSet<String> = HashSet::new();
    let (mut writer, resumed) = open_op_journal(
        path,
        settings.resume,
        &header,
        &UpdateEntry::Resumed { at: now_rfc3339() },
        |e| {
            match e {
                UpdateEntry::Header {
                    url,
                    realm,
                    plan_fingerprint,
                    ..
                } => {
                    check_target(path, client, &realm, &url)?;
                    if plan_fingerprint != settings.plan_fingerprint {
                        return Err(SinkError::JournalMismatch {
                            path: path.to_path_buf(),
                            field: "plan fingerprint",
                            expected: settings.plan_fingerprint.clone(),
                            found: plan_fingerprint,
                        });
                    }
                }
                UpdateEntry::User(u) if u.outcome != UpdateOutcome::Failed => {
                    completed.insert(u.key);
                }
                _ => {}
            }
            Ok(())
        },
    )?;
    let profile = user_profile::read(client).await?;
    let context = Arc::new(Context {
        prune: settings.prune,
        writable: Writable {
            // Without a user-profile endpoint (Keycloak < 24) every attribute is writable.
            all: profile.as_ref().is_none_or(|p| {
                matches!(
                    p.unmanaged_attribute_policy.as_deref(),
                    Some("ENABLED" | "ADMIN_EDIT")
                )
            }),
            declared: profile
                .iter()
                .flat_map(|p| p.attributes.iter().map(|a| a.name.clone()))
                .collect(),
        },
        default_role: format!("default-roles-{}", client.realm().to_lowercase()),
        ids: Mutex::new(Ids::default()),
    });
    let mut run = UpdateRun {
        writer: &mut writer,
        progress,
        report: UpdateReport {
            url: client.base_url(),
            realm: client.realm().to_string(),
            journal: settings.journal.clone(),
            resumed,
            prune: settings.prune,
            users: UpdateCounts::default(),
            field_changes: BTreeMap::new(),
            role_mappings_added: 0,
            role_mappings_removed: 0,
            group_memberships_added: 0,
            group_memberships_removed: 0,
            listed: Vec::new(),
            attributes_not_writable: BTreeSet::new(),
            truncated: false,
            requests: RequestStats::default(),
            interrupted: None,
        },
    };
    progress.start(Phase::Users, None);
    let mut tasks: JoinSet<Result<Settled, SinkError>> = JoinSet::new();
    for user in users {
        run.report.users.seen += 1;
        if completed.contains(&user.key) {
            run.report.users.already_done_from_journal += 1;
            continue;
        }
        if run.report.interrupted.is_some() {
            run.report.users.not_reached += 1;
            continue;
        }
        let hash = planned_hash(&user.user);
        let Some(username) = user.import_name().map(str::to_string) else {
            run.settle(Settled {
                record: record(&user.key, "", hash, UpdateOutcome::Failed)
                    .message("the user has neither a username nor an email"),
                not_writable: Vec::new(),
            })?;
            continue;
        };
        if !settings.compare_all && previous.get(&user.key) == Some(&hash) {
            run.settle(Settled {
                record: record(&user.key, &username, hash, UpdateOutcome::InLine),
                not_writable: Vec::new(),
            })?;
            continue;
        }
        while tasks.len() >= client.concurrency() {
            if let Some(joined) = tasks.join_next().await {
                run.joined(joined)?;
            }
        }
        let client = client.clone();
        let context = Arc::clone(&context);
        tasks.spawn(async move { update_user(&client, &context, user, username, hash).await });
    }
    while let Some(joined) = tasks.join_next().await {
        run.joined(joined)?;
    }
    progress.finish(Phase::Users);
    let mut report = run.report;
    report.requests = client.stats().since(&stats_at_start);
    Ok(report)
}

fn record(key: &str, username: &str, hash: String, outcome: UpdateOutcome) -> UserUpdate {
    UserUpdate {
        key: key.to_string(),
        username: username.to_string(),
        id: None,
        hash,
        outcome,
        changes: UserChanges::default(),
        status: None,
        message: None,
    }
}

impl UserUpdate {
    fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    fn failed(mut self, status: Option<u16>, message: impl Into<String>) -> Self {
        self.outcome = UpdateOutcome::Failed;
        self.status = status;
        self.message = Some(message.into());
        self
    }
}

struct UpdateRun<'a> {
    writer: &'a mut JournalWriter,
    progress: &'a dyn Progress,
    report: UpdateReport,
}

impl UpdateRun<'_> {
    fn joined(
        &mut self,
        joined: Result<Result<Settled, SinkError>, tokio::task::JoinError>,
    ) -> Result<(), SinkError> {
        match joined {
            Ok(Ok(settled)) => self.settle(settled),
            Ok(Err(e)) => {
                self.report.users.not_reached += 1;
                self.report.interrupted.get_or_insert_with(|| e.to_string());
                Ok(())
            }
            Err(e) => {
                self.report.users.not_reached += 1;
                self.report
                    .interrupted
                    .get_or_insert_with(|| format!("an update task failed: {e}"));
                Ok(())
            }
        }
    }

    /// Journal first, then report.
    fn settle(&mut self, settled: Settled) -> Result<(), SinkError> {
        let r = settled.record;
        self.writer.append(&UpdateEntry::User(r.clone()))?;
        self.report
            .attributes_not_writable
            .extend(settled.not_writable);
        self.progress.advance(Phase::Users, 1);
        let counts = &mut self.report.users;
        match r.outcome {
            UpdateOutcome::Updated => counts.updated += 1,
            UpdateOutcome::Unchanged => counts.unchanged += 1,
            UpdateOutcome::InLine => counts.in_line += 1,
            UpdateOutcome::NotFound => counts.not_found += 1,
            UpdateOutcome::Failed => counts.failed += 1,
        }
        for field in &r.changes.fields {
            *self.report.field_changes.entry(field.clone()).or_default() += 1;
        }
        let c = &r.changes;
        self.report.role_mappings_added +=
            (c.realm_roles_added.len() + c.client_roles_added.len()) as u64;
        self.report.role_mappings_removed +=
            (c.realm_roles_removed.len() + c.client_roles_removed.len()) as u64;
        self.report.group_memberships_added += c.groups_added.len() as u64;
        self.report.group_memberships_removed += c.groups_removed.len() as u64;
        if matches!(r.outcome, UpdateOutcome::Updated | UpdateOutcome::Failed) {
            if self.report.listed.len() < MAX_LISTED {
                self.report.listed.push(r);
            } else {
                self.report.truncated = true;
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mappings {
    #[serde(default)]
    realm_mappings: Option<Vec<RoleRef>>,
    #[serde(default)]
    client_mappings: Option<BTreeMap<String, ClientMappings>>,
}

#[derive(Deserialize)]
struct ClientMappings {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    mappings: Option<Vec<RoleRef>>,
}

#[derive(Deserialize)]
struct GroupLink {
    id: Option<String>,
    path: Option<String>,
}

/// The writes one user needs, every id resolved.
#[derive(Default)]
struct Plan {
    put: Option<Value>,
    realm_add: Vec<RoleRef>,
    realm_remove: Vec<RoleRef>,
    /// Client uuid → roles.
    client_add: BTreeMap<String, Vec<RoleRef>>,
    client_remove: BTreeMap<String, Vec<RoleRef>>,
    /// Group id (with its path for the record).
    join: Vec<(String, String)>,
    leave: Vec<(String, String)>,
}

/// A failure of one user: the HTTP status when Keycloak answered, and why.
type UserFailure = (Option<u16>, String);

async fn update_user(
    client: &KeycloakClient,
    ctx: &Context,
    user: UserToLoad,
    username: String,
    hash: String,
) -> Result<Settled, SinkError> {
    let mut rec = record(&user.key, &username, hash, UpdateOutcome::Unchanged);
    let mut not_writable = Vec::new();
    let Some(current) = read_user(client, &username).await? else {
        rec.outcome = UpdateOutcome::NotFound;
        return Ok(Settled {
            record: rec,
            not_writable,
        });
    };
    let Some(id) = current
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Ok(Settled {
            record: rec.failed(None, "Keycloak returned the user without an id"),
            not_writable,
        });
    };
    rec.id = Some(id.clone());
    let user_path = client.realm_path(&format!("/users/{}", encode_segment(&id)));
    let mut plan = Plan::default();
    plan_profile(
        ctx,
        &user,
        current,
        &mut plan,
        &mut rec.changes,
        &mut not_writable,
    );
    let planned = &user.user;
    let resolved = async {
        if ctx.prune || planned.realm_roles.is_some() || planned.client_roles.is_some() {
            plan_roles(client, ctx, &user_path, &user, &mut plan, &mut rec.changes).await?;
        }
        if ctx.prune || planned.groups.is_some() {
            plan_groups(client, ctx, &user_path, &user, &mut plan, &mut rec.changes).await?;
        }
        Ok::<_, PlanError>(())
    }
    .await;
    match resolved {
        Ok(()) => {}
        Err(PlanError::Fatal(e)) => return Err(e),
        Err(PlanError::User(status, message)) => {
            rec.changes = UserChanges::default();
            return Ok(Settled {
                record: rec.failed(status, message),
                not_writable,
            });
        }
    }
    if rec.changes.is_empty() {
        return Ok(Settled {
            record: rec,
            not_writable,
        });
    }
    match write(client, &user_path, plan).await {
        Ok(()) => rec.outcome = UpdateOutcome::Updated,
        Err(PlanError::Fatal(e)) => return Err(e),
        Err(PlanError::User(status, message)) => rec = rec.failed(status, message),
    }
    Ok(Settled {
        record: rec,
        not_writable,
    })
}

/// A problem that fails one user, or one that stops the run.
enum PlanError {
    User(Option<u16>, String),
    Fatal(SinkError),
}

impl From<SinkError> for PlanError {
    fn from(e: SinkError) -> Self {
        match e {
            // A status Keycloak answered for this user's data (not a 403: that stops the run).
            SinkError::Api {
                status, message, ..
            } if status != 403 => PlanError::User(Some(status), message),
            other => PlanError::Fatal(other),
        }
    }
}

impl From<UserFailure> for PlanError {
    fn from((status, message): UserFailure) -> Self {
        PlanError::User(status, message)
    }
}

/// The user by exact username, as the full JSON representation Keycloak returned.
async fn read_user(client: &KeycloakClient, username: &str) -> Result<Option<Value>, SinkError> {
    let req = ApiRequest::get(client.realm_path("/users"))
        .query("username", username)
        .query("exact", "true")
        .query("briefRepresentation", "false");
    let found: Vec<Value> = client.get_json(&req).await?;
    let wanted = username.to_lowercase();
    Ok(found.into_iter().find(|u| {
        u.get("username")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
            .as_deref()
            == Some(wanted.as_str())
    }))
}

/// Profile fields, attributes and required actions: the representation to `PUT`, if any.
fn plan_profile(
    ctx: &Context,
    user: &UserToLoad,
    mut current: Value,
    plan: &mut Plan,
    changes: &mut UserChanges,
    not_writable: &mut Vec<String>,
) {
    let planned = &user.user;
    let Some(obj) = current.as_object_mut() else {
        return;
    };
    for (field, wanted) in
        PROFILE_FIELDS
            .iter()
            .zip([&planned.first_name, &planned.last_name, &planned.email])
    {
        let Some(wanted) = wanted else { continue };
        let have = obj.get(*field).and_then(Value::as_str).unwrap_or_default();
        // Keycloak stores e-mails lower-cased (§3).
        let same = if *field == "email" {
            have.eq_ignore_ascii_case(wanted)
        } else {
            have == wanted
        };
        if !same {
            obj.insert(field.to_string(), Value::String(wanted.clone()));
            changes.fields.push(field.to_string());
        }
    }
    for (field, wanted) in [
        ("emailVerified", planned.email_verified),
        ("enabled", planned.enabled),
    ] {
        let Some(wanted) = wanted else { continue };
        if obj.get(field).and_then(Value::as_bool) != Some(wanted) {
            obj.insert(field.to_string(), Value::Bool(wanted));
            changes.fields.push(field.to_string());
        }
    }
    let have_attrs: BTreeMap<String, Vec<String>> = obj
        .get("attributes")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), strings(v))).collect())
        .unwrap_or_default();
    let mut next = have_attrs.clone();
    let empty = BTreeMap::new();
    let wanted_attrs = planned.attributes.as_ref().unwrap_or(&empty);
    for (name, values) in wanted_attrs {
        if !ctx.writable.allows(name) {
            not_writable.push(name.clone());
            continue;
        }
        if next.get(name) != Some(values) {
            next.insert(name.clone(), values.clone());
            changes.fields.push(format!("attributes.{name}"));
        }
    }
    if ctx.prune {
        for name in have_attrs.keys() {
            if !wanted_attrs.contains_key(name) && !PRUNE_KEEP_ATTRIBUTES.contains(&name.as_str()) {
                next.remove(name);
                changes.fields.push(format!("attributes.{name}"));
            }
        }
    }
    if next != have_attrs {
        obj.insert(
            "attributes".into(),
            serde_json::to_value(&next).unwrap_or(Value::Null),
        );
    }
    let mut actions: Vec<String> = obj.get("requiredActions").map(strings).unwrap_or_default();
    let mut added = false;
    for action in planned.required_actions.iter().flatten() {
        if !actions.iter().any(|a| a.eq_ignore_ascii_case(action)) {
            actions.push(action.clone());
            added = true;
        }
    }
    if added {
        obj.insert(
            "requiredActions".into(),
            serde_json::to_value(&actions).unwrap_or(Value::Null),
        );
        changes.fields.push("requiredActions".into());
    }
    if !changes.fields.is_empty() {
        // The representation read back is sent whole; credentials are never part of an update.
        obj.remove("credentials");
        plan.put = Some(current);
    }
}

/// A string or a list of strings (Keycloak's attribute values and lists).
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

async fn plan_roles(
    client: &KeycloakClient,
    ctx: &Context,
    user_path: &str,
    user: &UserToLoad,
    plan: &mut Plan,
    changes: &mut UserChanges,
) -> Result<(), PlanError> {
    let req = ApiRequest::get(format!("{user_path}/role-mappings"));
    let mappings: Mappings = client.get_json(&req).await?;
    let planned = &user.user;

    let have: BTreeMap<String, RoleRef> = mappings
        .realm_mappings
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.name.clone().map(|n| (n, r)))
        .collect();
    let wanted: BTreeSet<&String> = planned.realm_roles.iter().flatten().collect();
    for name in &wanted {
        if have.contains_key(*name) {
            continue;
        }
        let role = realm_role(client, ctx, name).await?;
        plan.realm_add.push(role);
        changes.realm_roles_added.push((*name).clone());
    }
    if ctx.prune {
        for (name, role) in &have {
            if !wanted.contains(name) && *name != ctx.default_role {
                plan.realm_remove.push(role.clone());
                changes.realm_roles_removed.push(name.clone());
            }
        }
    }

    // clientId → (uuid, mapped roles by name).
    let mut have_clients: BTreeMap<String, (Option<String>, BTreeMap<String, RoleRef>)> =
        BTreeMap::new();
    for (key, m) in mappings.client_mappings.unwrap_or_default() {
        let roles = m
            .mappings
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.name.clone().map(|n| (n, r)))
            .collect();
        have_clients.insert(m.client.unwrap_or(key), (m.id, roles));
    }
    let empty = BTreeMap::new();
    let wanted_clients = planned.client_roles.as_ref().unwrap_or(&empty);
    for (client_id, roles) in wanted_clients {
        let mapped = have_clients.get(client_id);
        let missing: Vec<&String> = roles
            .iter()
            .filter(|r| !mapped.is_some_and(|(_, m)| m.contains_key(*r)))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let uuid = match mapped.and_then(|(id, _)| id.clone()) {
            Some(uuid) => uuid,
            None => client_uuid(client, ctx, client_id).await?,
        };
        for name in missing {
            let role = client_role(client, ctx, &uuid, client_id, name).await?;
            plan.client_add.entry(uuid.clone()).or_default().push(role);
            changes
                .client_roles_added
                .push(format!("{client_id}/{name}"));
        }
    }
    if ctx.prune {
        for (client_id, (uuid, roles)) in &have_clients {
            let wanted = wanted_clients.get(client_id);
            for (name, role) in roles {
                if wanted.is_some_and(|w| w.contains(name)) {
                    continue;
                }
                let Some(uuid) = uuid else { continue };
                plan.client_remove
                    .entry(uuid.clone())
                    .or_default()
                    .push(role.clone());
                changes
                    .client_roles_removed
                    .push(format!("{client_id}/{name}"));
            }
        }
    }
    Ok(())
}

async fn plan_groups(
    client: &KeycloakClient,
    ctx: &Context,
    user_path: &str,
    user: &UserToLoad,
    plan: &mut Plan,
    changes: &mut UserChanges,
) -> Result<(), PlanError> {
    let req = ApiRequest::get(format!("{user_path}/groups"))
        .query("first", "0")
        .query("max", lookup::USER_GROUPS_MAX.to_string())
        .query("briefRepresentation", "true");
    let links: Vec<GroupLink> = client.get_json(&req).await?;
    let canonical = |p: &str| GroupPath::parse(p).map(|g| g.render());
    let have: BTreeMap<String, String> = links
        .into_iter()
        .filter_map(|g| Some((canonical(g.path.as_deref()?)?, g.id?)))
        .collect();
    let mut wanted = BTreeSet::new();
    for raw in user.user.groups.iter().flatten() {
        let Some(path) = GroupPath::parse(raw) else {
            return Err(PlanError::User(None, format!("invalid group path {raw:?}")));
        };
        let rendered = path.render();
        if !have.contains_key(&rendered) {
            let id = group_id(client, ctx, &path).await?;
            plan.join.push((id, rendered.clone()));
            changes.groups_added.push(rendered.clone());
        }
        wanted.insert(rendered);
    }
    if ctx.prune {
        for (path, id) in &have {
            if !wanted.contains(path) {
                plan.leave.push((id.clone(), path.clone()));
                changes.groups_removed.push(path.clone());
            }
        }
    }
    Ok(())
}

async fn realm_role(
    client: &KeycloakClient,
    ctx: &Context,
    name: &str,
) -> Result<RoleRef, PlanError> {
    if let Some(r) = ids(ctx).realm_roles.get(name) {
        return Ok(r.clone());
    }
    let found = lookup::role(client, &client.realm_path("/roles"), name)
        .await?
        .filter(|r| r.id.is_some())
        .ok_or_else(|| missing("realm role", name))?;
    let role = RoleRef {
        id: found.id,
        name: Some(name.to_string()),
    };
    ids(ctx).realm_roles.insert(name.to_string(), role.clone());
    Ok(role)
}

async fn client_uuid(
    client: &KeycloakClient,
    ctx: &Context,
    client_id: &str,
) -> Result<String, PlanError> {
    if let Some(uuid) = ids(ctx).clients.get(client_id) {
        return Ok(uuid.clone());
    }
    let uuid = lookup::find_client(client, client_id)
        .await?
        .ok_or_else(|| missing("client", client_id))?;
    ids(ctx).clients.insert(client_id.to_string(), uuid.clone());
    Ok(uuid)
}

async fn client_role(
    client: &KeycloakClient,
    ctx: &Context,
    uuid: &str,
    client_id: &str,
    name: &str,
) -> Result<RoleRef, PlanError> {
    let key = (uuid.to_string(), name.to_string());
    if let Some(r) = ids(ctx).client_roles.get(&key) {
        return Ok(r.clone());
    }
    let roles = client.realm_path(&format!("/clients/{}/roles", encode_segment(uuid)));
    let found = lookup::role(client, &roles, name)
        .await?
        .filter(|r| r.id.is_some())
        .ok_or_else(|| missing("client role", &format!("{client_id}/{name}")))?;
    let role = RoleRef {
        id: found.id,
        name: Some(name.to_string()),
    };
    ids(ctx).client_roles.insert(key, role.clone());
    Ok(role)
}

async fn group_id(
    client: &KeycloakClient,
    ctx: &Context,
    path: &GroupPath,
) -> Result<String, PlanError> {
    let rendered = path.render();
    if let Some(id) = ids(ctx).groups.get(&rendered) {
        return Ok(id.clone());
    }
    let id = lookup::find_group(client, path)
        .await?
        .ok_or_else(|| missing("group", &rendered))?;
    ids(ctx).groups.insert(rendered, id.clone());
    Ok(id)
}

fn missing(what: &str, name: &str) -> PlanError {
    PlanError::User(
        None,
        format!("{what} {name} does not exist in the realm (apply creates it)"),
    )
}

/// Performs the planned writes: profile, then role mappings, then memberships.
async fn write(client: &KeycloakClient, user_path: &str, plan: Plan) -> Result<(), PlanError> {
    if let Some(rep) = &plan.put {
        expect_success(
            client,
            ApiRequest::with_json(Method::PUT, user_path.to_string(), rep)?,
        )
        .await?;
    }
    let realm_mappings = format!("{user_path}/role-mappings/realm");
    if !plan.realm_add.is_empty() {
        let req = ApiRequest::with_json(Method::POST, realm_mappings.clone(), &plan.realm_add)?;
        expect_success(client, req).await?;
    }
    if !plan.realm_remove.is_empty() {
        let req = ApiRequest::with_json(Method::DELETE, realm_mappings, &plan.realm_remove)?;
        expect_success(client, req).await?;
    }
    for (uuid, roles) in &plan.client_add {
        let path = format!("{user_path}/role-mappings/clients/{}", encode_segment(uuid));
        expect_success(client, ApiRequest::with_json(Method::POST, path, roles)?).await?;
    }
    for (uuid, roles) in &plan.client_remove {
        let path = format!("{user_path}/role-mappings/clients/{}", encode_segment(uuid));
        expect_success(client, ApiRequest::with_json(Method::DELETE, path, roles)?).await?;
    }
    for (id, _) in &plan.join {
        let path = format!("{user_path}/groups/{}", encode_segment(id));
        expect_success(client, ApiRequest::new(Method::PUT, path)).await?;
    }
    for (id, _) in &plan.leave {
        let path = format!("{user_path}/groups/{}", encode_segment(id));
        expect_success(client, ApiRequest::new(Method::DELETE, path)).await?;
    }
    Ok(())
}

async fn expect_success(client: &KeycloakClient, req: ApiRequest) -> Result<(), PlanError> {
    let resp = client.send(&req).await?;
    if (200..300).contains(&resp.status) {
        return Ok(());
    }
    Err(resp.into_error(&req).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcm_keycloak_types::UserRepresentation;
    use serde_json::json;

    fn context(prune: bool) -> Context {
        Context {
            prune,
            writable: Writable {
                all: false,
                declared: ["dept".to_string(), "team".to_string()].into(),
            },
            default_role: "default-roles-acme".into(),
            ids: Mutex::new(Ids::default()),
        }
    }

    fn planned(rep: Value) -> UserToLoad {
        UserToLoad::new(
            "k",
            serde_json::from_value::<UserRepresentation>(rep).unwrap(),
        )
    }

    #[test]
    fn profile_changes_are_named_and_the_rest_is_sent_back_unchanged() {
        let current = json!({
            "id": "u1", "username": "ada", "firstName": "Ada", "lastName": "L",
            "email": "ada@example.com", "emailVerified": true, "enabled": true,
            "createdTimestamp": 5, "attributes": {"dept": ["a"], "locale": ["fr"], "team": ["x"]},
            "requiredActions": ["VERIFY_EMAIL"]
        });
        let user = planned(json!({
            "username": "ada", "firstName": "Ada", "lastName": "Lovelace",
            "email": "ADA@example.com", "enabled": false,
            "attributes": {"dept": ["b"], "secret:odd": ["v"]},
            "requiredActions": ["UPDATE_PASSWORD"],
            "credentials": [{"type": "password", "value": "never-sent"}]
        }));
        let mut plan = Plan::default();
        let mut changes = UserChanges::default();
        let mut hidden = Vec::new();
        plan_profile(
            &context(false),
            &user,
            current.clone(),
            &mut plan,
            &mut changes,
            &mut hidden,
        );
        assert_eq!(
            changes.fields,
            vec!["lastName", "enabled", "attributes.dept", "requiredActions"]
        );
        assert_eq!(hidden, vec!["secret:odd"]);
        let put = plan.put.unwrap();
        assert_eq!(put["lastName"], "Lovelace");
        assert_eq!(
            put["email"], "ada@example.com",
            "same address in another case"
        );
        assert_eq!(put["createdTimestamp"], 5);
        assert_eq!(
            put["attributes"],
            json!({"dept": ["b"], "locale": ["fr"], "team": ["x"]})
        );
        assert_eq!(
            put["requiredActions"],
            json!(["VERIFY_EMAIL", "UPDATE_PASSWORD"])
        );
        assert!(put.get("credentials").is_none());

        // Prune removes unplanned visible attributes, never `locale`.
        let mut plan = Plan::default();
        let mut changes = UserChanges::default();
        plan_profile(
            &context(true),
            &user,
            current,
            &mut plan,
            &mut changes,
            &mut hidden,
        );
        assert!(changes.fields.contains(&"attributes.team".to_string()));
        assert_eq!(
            plan.put.unwrap()["attributes"],
            json!({"dept": ["b"], "locale": ["fr"]})
        );
    }

    #[test]
    fn an_unchanged_user_needs_no_write() {
        let current = json!({"id": "u1", "username": "ada", "firstName": "Ada", "enabled": true,
            "attributes": {"dept": ["a"]}, "requiredActions": []});
        let user = planned(
            json!({"username": "ada", "firstName": "Ada", "enabled": true,
            "attributes": {"dept": ["a"]}}),
        );
        let mut plan = Plan::default();
        let mut changes = UserChanges::default();
        plan_profile(
            &context(true),
            &user,
            current,
            &mut plan,
            &mut changes,
            &mut Vec::new(),
        );
        assert!(changes.is_empty());
        assert!(plan.put.is_none());
    }

    #[test]
    fn settings_refuse_their_own_journal_as_previous() {
        let mut s = UpdateSettings::new("/tmp/u.ndjson");
        s.validate().unwrap();
        s.previous_journals.push("/tmp/u.ndjson".into());
        assert!(s.validate().is_err());
    }
}
