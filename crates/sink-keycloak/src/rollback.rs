//! `rollback`: undoes an `apply` run from its journal. It deletes exactly the users that run
//! added and, on request, the realm objects it created; it is a dry run unless told otherwise
//! and resumable through its own journal.
//!
//! * Which users: journal outcomes `added` and `added_unconfirmed`. An unconfirmed user is one
//!   whose create request had an unknown outcome and that a lookup found right afterwards; the
//!   apply run counted it as its own, so rollback deletes it too (`keep_unconfirmed` leaves
//!   them). Users the run skipped or overwrote are never deleted — they existed before the run
//!   (an overwritten user's earlier state is gone; deleting it would lose the account) — and
//!   are listed as left in place, with rejected and unresolved ones counted.
//! * Same user: each user is looked up by username at rollback time and deleted (by id) only
//!   when its id is the one the journal recorded; another id means the username was re-created
//!   since (left in place, `replaced`); no user means `already_gone`. Format-1 journals recorded
//!   no ids: their users are `unverifiable` and left in place.
//! * Realm objects (`roles_and_groups`): the `created` entries of the apply journal, undone
//!   newest first — groups, client roles, clients, realm roles, identity providers, declared
//!   user-profile attributes, the unmanaged-attribute policy (restored only when nobody changed
//!   it since). Each is checked by id first. Decision: an object the run created is deleted
//!   even when something else uses it now; Keycloak drops every role mapping and group
//!   membership with it (also those of users left in place); removing an attribute
//!   declaration hides, but does not erase, the values users still hold. The dry run lists
//!   what would go. A realm created by the run is never deleted (`kept`).
//! * Resume: every settled user and object is journaled; a resumed rollback skips them. A
//!   deletion whose record was lost in a crash finds the user gone (`already_gone`), never an
//!   error. Failures are not final and are retried by a resume.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::applied::{check_target, AppliedJournal};
use crate::client::{encode_segment, ApiRequest, KeycloakClient, RequestStats};
use crate::error::SinkError;
use crate::journal::{
    now_rfc3339, open_op_journal, CreatedKind, CreatedObject, JournalOutcome, JournalWriter,
};
use crate::lookup;
use crate::progress::{Phase, Progress};
use crate::report::UserOutcome;
use crate::user_profile;
use crate::verify::MAX_LISTED;

/// Format of the rollback journal.
pub const ROLLBACK_JOURNAL_FORMAT: u32 = 1;

/// Settings of one rollback.
#[derive(Debug, Clone)]
pub struct RollbackSettings {
    /// Only look and list (the default): nothing is deleted and no journal is written.
    pub dry_run: bool,
    /// Also remove the realm objects the apply run created.
    pub roles_and_groups: bool,
    /// Leave `added_unconfirmed` users in place.
    pub keep_unconfirmed: bool,
    /// The rollback's own journal (mode 0600), for resuming.
    pub journal_out: PathBuf,
    /// Continue the rollback recorded in `journal_out`.
    pub resume: bool,
    /// Settle at most this many users, then stop as interrupted (trial runs, tests).
    pub max_users: Option<u64>,
}

impl RollbackSettings {
    /// A dry run of the users only.
    pub fn new(journal_out: impl Into<PathBuf>) -> Self {
        RollbackSettings {
            dry_run: true,
            roles_and_groups: false,
            keep_unconfirmed: false,
            journal_out: journal_out.into(),
            resume: false,
            max_users: None,
        }
    }

    pub fn validate(&self) -> Result<(), SinkError> {
        if !self.dry_run && self.journal_out.as_os_str().is_empty() {
            return Err(SinkError::InvalidSettings(
                "a rollback journal path is required".into(),
            ));
        }
        Ok(())
    }
}

/// What happened (or would happen) to one user or object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackAction {
    Deleted,
    /// Dry run: it exists, is the same object, and would be deleted.
    WouldDelete,
    /// Not in the realm any more.
    AlreadyGone,
    /// The name now belongs to another object (different id): left in place.
    Replaced,
    /// The journal recorded no id (format 1): left in place.
    Unverifiable,
    /// Left in place on purpose (`keep_unconfirmed`, a realm).
    Kept,
    /// Keycloak refused; a resume tries again.
    Failed,
}

impl RollbackAction {
    /// Settled for good: a resumed rollback does not look at it again.
    fn is_final(self) -> bool {
        !matches!(self, RollbackAction::WouldDelete | RollbackAction::Failed)
    }
}

/// One user the rollback acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackUser {
    pub key: String,
    pub username: String,
    pub id: Option<String>,
    pub action: RollbackAction,
    /// The apply run recorded it as `added_unconfirmed`.
    pub unconfirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why a user of the apply journal is not the rollback's to delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    /// Existed before the run, which skipped it.
    Skipped,
    /// Existed before the run, which replaced it.
    Overwritten,
    /// Sent by the run, outcome never recorded (resume the apply run first to settle it).
    Unresolved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftUser {
    pub key: String,
    pub username: String,
    pub reason: LeftReason,
}

/// Users of the apply journal the rollback leaves alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LeftInPlace {
    pub skipped: u64,
    pub overwritten: u64,
    pub unresolved: u64,
    /// Rejected by the run: never created, nothing to undo.
    pub rejected: u64,
    /// Skipped, overwritten and unresolved users (at most [`MAX_LISTED`]).
    pub users: Vec<LeftUser>,
}

/// `added_in_journal = deleted + would_delete + already_gone + replaced + unverifiable + kept +
/// failed + already_done_from_journal + not_reached`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RollbackUserCounts {
    /// Users the apply journal records as `added` or `added_unconfirmed`.
    pub added_in_journal: u64,
    pub deleted: u64,
    pub would_delete: u64,
    pub already_gone: u64,
    pub replaced: u64,
    pub unverifiable: u64,
    pub kept: u64,
    pub failed: u64,
    /// Settled by an earlier run of this rollback journal.
    pub already_done_from_journal: u64,
    /// Not handled because the rollback stopped (see `interrupted`).
    pub not_reached: u64,
}

impl RollbackUserCounts {
    fn record(&mut self, action: RollbackAction) {
        match action {
            RollbackAction::Deleted => self.deleted += 1,
            RollbackAction::WouldDelete => self.would_delete += 1,
            RollbackAction::AlreadyGone => self.already_gone += 1,
            RollbackAction::Replaced => self.replaced += 1,
            RollbackAction::Unverifiable => self.unverifiable += 1,
            RollbackAction::Kept => self.kept += 1,
            RollbackAction::Failed => self.failed += 1,
        }
    }
}

/// One realm object the rollback acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackObject {
    pub kind: CreatedKind,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub id: Option<String>,
    pub action: RollbackAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The result of [`rollback`] (serialisable for `--output-format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackReport {
    pub url: String,
    pub realm: String,
    pub apply_journal: PathBuf,
    /// The rollback journal (`None` in a dry run).
    pub journal: Option<PathBuf>,
    pub dry_run: bool,
    pub resumed: bool,
    pub users: RollbackUserCounts,
    /// Users acted on (at most [`MAX_LISTED`]; the counters stay exact).
    pub user_actions: Vec<RollbackUser>,
    pub left_in_place: LeftInPlace,
    /// Realm objects, in the order they were handled (`roles_and_groups` only).
    pub objects: Vec<RollbackObject>,
    /// False for format-1 apply journals, which did not record the objects they created.
    pub objects_recorded: bool,
    /// True when a list was cut at [`MAX_LISTED`].
    pub truncated: bool,
    pub requests: RequestStats,
    /// Why the rollback stopped early; `None` when complete.
    pub interrupted: Option<String>,
}

impl RollbackReport {
    /// Complete, and nothing failed.
    pub fn is_clean(&self) -> bool {
        self.interrupted.is_none()
            && self.users.failed == 0
            && self
                .objects
                .iter()
                .all(|o| o.action != RollbackAction::Failed)
    }
}

/// Lines of the rollback journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RollbackEntry {
    Header {
        format: u32,
        started_at: String,
        url: String,
        realm: String,
        apply_journal: PathBuf,
    },
    Resumed {
        at: String,
    },
    User {
        key: String,
        username: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        action: RollbackAction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    Object {
        kind: CreatedKind,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        action: RollbackAction,
    },
}

/// Identity of a realm object across journals.
type ObjectKey = (CreatedKind, Option<String>, String);

fn object_key(o: &CreatedObject) -> ObjectKey {
    (o.kind, o.client_id.clone(), o.name.clone())
}

/// A step's outcome: the action and, for failures, Keycloak's status and message.
type Step = (RollbackAction, Option<u16>, Option<String>);

fn step(action: RollbackAction) -> Step {
    (action, None, None)
}

/// Undoes the apply run recorded in `journal` (see the module documentation).
pub async fn rollback(
    client: &KeycloakClient,
    journal: &Path,
    settings: &RollbackSettings,
    progress: &dyn Progress,
) -> Result<RollbackReport, SinkError> {
    settings.validate()?;
    let stats_at_start = client.stats();
    let mut applied = AppliedJournal::open(journal, client)?;
    let mut done_users: HashSet<String> = HashSet::new();
    let mut done_objects: HashSet<ObjectKey> = HashSet::new();
    let (mut writer, resumed) = if settings.dry_run {
        (None, false)
    } else {
        let header = RollbackEntry::Header {
            format: ROLLBACK_JOURNAL_FORMAT,
            started_at: now_rfc3339(),
            url: client.base_url(),
            realm: client.realm().to_string(),
            apply_journal: journal.to_path_buf(),
        };
        let resumed = RollbackEntry::Resumed { at: now_rfc3339() };
        let path = settings.journal_out.as_path();
        let (w, resumed) = open_op_journal(path, settings.resume, &header, &resumed, |e| {
            match e {
                RollbackEntry::Header { url, realm, .. } => {
                    check_target(path, client, &realm, &url)?
                }
                RollbackEntry::User { key, action, .. } if action.is_final() => {
                    done_users.insert(key);
                }
                RollbackEntry::Object {
                    kind,
                    name,
                    client_id,
                    action,
                    ..
                } if action.is_final() => {
                    done_objects.insert((kind, client_id, name));
                }
                _ => {}
            }
            Ok(())
        })?;
        (Some(w), resumed)
    };
    let mut report = RollbackReport {
        url: client.base_url(),
        realm: client.realm().to_string(),
        apply_journal: journal.to_path_buf(),
        journal: (!settings.dry_run).then(|| settings.journal_out.clone()),
        dry_run: settings.dry_run,
        resumed,
        users: RollbackUserCounts::default(),
        user_actions: Vec::new(),
        left_in_place: LeftInPlace::default(),
        objects: Vec::new(),
        objects_recorded: applied.header.format >= 2,
        truncated: false,
        requests: RequestStats::default(),
        interrupted: None,
    };

    progress.start(Phase::Users, None);
    let mut sink = UserSink {
        report: &mut report,
        writer: writer.as_mut(),
        progress,
    };
    let mut tasks: JoinSet<(JournalOutcome, Result<Step, SinkError>)> = JoinSet::new();
    let mut dispatched: u64 = 0;
    while let Some(next) = applied.next_outcome() {
        let o = next?;
        match o.outcome {
            UserOutcome::Added | UserOutcome::AddedUnconfirmed => {}
            UserOutcome::Skipped => {
                sink.report.left_in_place.skipped += 1;
                sink.left(&o.key, &o.username, LeftReason::Skipped);
                continue;
            }
            UserOutcome::Overwritten => {
                sink.report.left_in_place.overwritten += 1;
                sink.left(&o.key, &o.username, LeftReason::Overwritten);
                continue;
            }
            UserOutcome::Rejected => {
                sink.report.left_in_place.rejected += 1;
                continue;
            }
        }
        sink.report.users.added_in_journal += 1;
        if done_users.contains(&o.key) {
            sink.report.users.already_done_from_journal += 1;
            continue;
        }
        if sink.report.interrupted.is_none() {
            if let Some(max) = settings.max_users {
                if dispatched >= max {
                    sink.report.interrupted =
                        Some(format!("stopped after {max} users (max_users)"));
                }
            }
        }
        if sink.report.interrupted.is_some() {
            sink.report.users.not_reached += 1;
            continue;
        }
        if o.outcome == UserOutcome::AddedUnconfirmed && settings.keep_unconfirmed {
            sink.settle(o, step(RollbackAction::Kept))?;
            continue;
        }
        let Some(id) = o.id.clone() else {
            sink.settle(o, step(RollbackAction::Unverifiable))?;
            continue;
        };
        dispatched += 1;
        while tasks.len() >= client.concurrency() {
            if let Some(joined) = tasks.join_next().await {
                sink.joined(joined)?;
            }
        }
        let client = client.clone();
        let dry_run = settings.dry_run;
        tasks.spawn(async move {
            let result = remove_user(&client, &o.username, &id, dry_run).await;
            (o, result)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        sink.joined(joined)?;
    }
    let tail = applied.finish();
    for u in &tail.unresolved {
        sink.report.left_in_place.unresolved += 1;
        sink.left(&u.key, &u.username, LeftReason::Unresolved);
    }
    progress.finish(Phase::Users);

    if settings.roles_and_groups && report.interrupted.is_none() {
        progress.start(Phase::Structure, Some(tail.created.len() as u64));
        remove_objects(
            client,
            tail.created,
            settings.dry_run,
            &done_objects,
            writer.as_mut(),
            &mut report,
            progress,
        )
        .await?;
        progress.finish(Phase::Structure);
    }
    report.requests = client.stats().since(&stats_at_start);
    Ok(report)
}

/// Records settled users: journal first, then report.
struct UserSink<'a> {
    report: &'a mut RollbackReport,
    writer: Option<&'a mut JournalWriter>,
    progress: &'a dyn Progress,
}

impl UserSink<'_> {
    fn left(&mut self, key: &str, username: &str, reason: LeftReason) {
        if self.report.left_in_place.users.len() < MAX_LISTED {
            self.report.left_in_place.users.push(LeftUser {
                key: key.to_string(),
                username: username.to_string(),
                reason,
            });
        } else {
            self.report.truncated = true;
        }
    }

    fn joined(
        &mut self,
        joined: Result<(JournalOutcome, Result<Step, SinkError>), tokio::task::JoinError>,
    ) -> Result<(), SinkError> {
        match joined {
            Ok((o, Ok(step))) => self.settle(o, step),
            Ok((_, Err(e))) => {
                // Nothing more can be done in this run (forbidden, server unreachable): the
                // user stays unsettled and a resume picks it up.
                self.report.users.not_reached += 1;
                self.report.interrupted.get_or_insert_with(|| e.to_string());
                Ok(())
            }
            Err(e) => {
                self.report.users.not_reached += 1;
                self.report
                    .interrupted
                    .get_or_insert_with(|| format!("a rollback task failed: {e}"));
                Ok(())
            }
        }
    }

    fn settle(
        &mut self,
        o: JournalOutcome,
        (action, status, message): Step,
    ) -> Result<(), SinkError> {
        if action != RollbackAction::WouldDelete {
            if let Some(w) = self.writer.as_deref_mut() {
                w.append(&RollbackEntry::User {
                    key: o.key.clone(),
                    username: o.username.clone(),
                    id: o.id.clone(),
                    action,
                    status,
                    message: message.clone(),
                })?;
            }
        }
        self.report.users.record(action);
        self.progress.advance(Phase::Users, 1);
        if self.report.user_actions.len() < MAX_LISTED {
            self.report.user_actions.push(RollbackUser {
                key: o.key,
                username: o.username,
                id: o.id,
                action,
                unconfirmed: o.outcome == UserOutcome::AddedUnconfirmed,
                status,
                message,
            });
        } else {
            self.report.truncated = true;
        }
        Ok(())
    }
}

/// Deletes one user if it is still the one the run added.
async fn remove_user(
    client: &KeycloakClient,
    username: &str,
    id: &str,
    dry_run: bool,
) -> Result<Step, SinkError> {
    let Some(found) = lookup::find_user_by_username(client, username).await? else {
        return Ok(step(RollbackAction::AlreadyGone));
    };
    if found.id.as_deref() != Some(id) {
        return Ok(step(RollbackAction::Replaced));
    }
    if dry_run {
        return Ok(step(RollbackAction::WouldDelete));
    }
    delete(
        client,
        client.realm_path(&format!("/users/{}", encode_segment(id))),
    )
    .await
}

/// `DELETE`: 204 deleted, 404 already gone, 403 stops the run, anything else failed.
async fn delete(client: &KeycloakClient, path: String) -> Result<Step, SinkError> {
    let req = ApiRequest::new(Method::DELETE, path);
    let resp = client.send(&req).await?;
    match resp.status {
        200 | 204 => Ok(step(RollbackAction::Deleted)),
        404 => Ok(step(RollbackAction::AlreadyGone)),
        403 => Err(resp.into_error(&req)),
        status => Ok((RollbackAction::Failed, Some(status), Some(resp.message()))),
    }
}

/// Undoes the created objects, newest first.
async fn remove_objects(
    client: &KeycloakClient,
    created: Vec<CreatedObject>,
    dry_run: bool,
    done: &HashSet<ObjectKey>,
    mut writer: Option<&mut JournalWriter>,
    report: &mut RollbackReport,
    progress: &dyn Progress,
) -> Result<(), SinkError> {
    for object in created.into_iter().rev() {
        if done.contains(&object_key(&object)) {
            progress.advance(Phase::Structure, 1);
            continue;
        }
        let (action, status, message) = match remove_object(client, &object, dry_run).await {
            Ok(step) => step,
            Err(e) => {
                report.interrupted.get_or_insert_with(|| e.to_string());
                return Ok(());
            }
        };
        if action != RollbackAction::WouldDelete {
            if let Some(w) = writer.as_deref_mut() {
                w.append(&RollbackEntry::Object {
                    kind: object.kind,
                    name: object.name.clone(),
                    client_id: object.client_id.clone(),
                    id: object.id.clone(),
                    action,
                })?;
            }
        }
        progress.advance(Phase::Structure, 1);
        report.objects.push(RollbackObject {
            kind: object.kind,
            name: object.name,
            client_id: object.client_id,
            id: object.id,
            action,
            status,
            message,
        });
    }
    Ok(())
}

async fn remove_object(
    client: &KeycloakClient,
    object: &CreatedObject,
    dry_run: bool,
) -> Result<Step, SinkError> {
    let id = object.id.as_deref();
    match object.kind {
        CreatedKind::Realm => Ok((
            RollbackAction::Kept,
            None,
            Some("a rollback never deletes a realm".into()),
        )),
        CreatedKind::Group => {
            let Some(id) = id else {
                return Ok(step(RollbackAction::Unverifiable));
            };
            let path = client.realm_path(&format!("/groups/{}", encode_segment(id)));
            if !exists(client, &path).await? {
                return Ok(step(RollbackAction::AlreadyGone));
            }
            delete_unless_dry(client, path, dry_run).await
        }
        CreatedKind::RealmRole => {
            let roles = client.realm_path("/roles");
            remove_role(client, &roles, &object.name, id, dry_run).await
        }
        CreatedKind::ClientRole => {
            let Some(client_id) = object.client_id.as_deref() else {
                return Ok(step(RollbackAction::Unverifiable));
            };
            let Some(uuid) = lookup::find_client(client, client_id).await? else {
                return Ok(step(RollbackAction::AlreadyGone));
            };
            let roles = client.realm_path(&format!("/clients/{}/roles", encode_segment(&uuid)));
            remove_role(client, &roles, &object.name, id, dry_run).await
        }
        CreatedKind::Client => {
            let Some(id) = id else {
                return Ok(step(RollbackAction::Unverifiable));
            };
            match lookup::find_client(client, &object.name).await? {
                None => Ok(step(RollbackAction::AlreadyGone)),
                Some(uuid) if uuid != id => Ok(step(RollbackAction::Replaced)),
                Some(uuid) => {
                    let path = client.realm_path(&format!("/clients/{}", encode_segment(&uuid)));
                    delete_unless_dry(client, path, dry_run).await
                }
            }
        }
        CreatedKind::IdentityProvider => {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Idp {
                internal_id: Option<String>,
            }
            let path = client.realm_path(&format!(
                "/identity-provider/instances/{}",
                encode_segment(&object.name)
            ));
            let req = ApiRequest::get(path.clone());
            let resp = client.send(&req).await?;
            match resp.status {
                404 => return Ok(step(RollbackAction::AlreadyGone)),
                200 => {}
                _ => return Err(resp.into_error(&req)),
            }
            let found: Idp = resp.json(&req)?;
            if id.is_some() && found.internal_id.as_deref() != id {
                return Ok(step(RollbackAction::Replaced));
            }
            delete_unless_dry(client, path, dry_run).await
        }
        CreatedKind::UserProfileAttribute | CreatedKind::UnmanagedAttributePolicy => {
            undo_profile_change(client, object, dry_run).await
        }
    }
}

async fn remove_role(
    client: &KeycloakClient,
    roles_path: &str,
    name: &str,
    id: Option<&str>,
    dry_run: bool,
) -> Result<Step, SinkError> {
    let Some(found) = lookup::role(client, roles_path, name).await? else {
        return Ok(step(RollbackAction::AlreadyGone));
    };
    match id {
        None => Ok(step(RollbackAction::Unverifiable)),
        Some(id) if found.id.as_deref() != Some(id) => Ok(step(RollbackAction::Replaced)),
        Some(_) => {
            let path = format!("{roles_path}/{}", encode_segment(name));
            delete_unless_dry(client, path, dry_run).await
        }
    }
}

async fn exists(client: &KeycloakClient, path: &str) -> Result<bool, SinkError> {
    let req = ApiRequest::get(path.to_string());
    let resp = client.send(&req).await?;
    match resp.status {
        200 => Ok(true),
        404 => Ok(false),
        _ => Err(resp.into_error(&req)),
    }
}

async fn delete_unless_dry(
    client: &KeycloakClient,
    path: String,
    dry_run: bool,
) -> Result<Step, SinkError> {
    if dry_run {
        return Ok(step(RollbackAction::WouldDelete));
    }
    delete(client, path).await
}

/// Removes a declared attribute, or restores the unmanaged-attribute policy the run replaced
/// when it is still the one the run set.
async fn undo_profile_change(
    client: &KeycloakClient,
    object: &CreatedObject,
    dry_run: bool,
) -> Result<Step, SinkError> {
    let Some(mut config) = user_profile::read(client).await? else {
        return Ok(step(RollbackAction::AlreadyGone));
    };
    if object.kind == CreatedKind::UserProfileAttribute {
        let before = config.attributes.len();
        config.attributes.retain(|a| a.name != object.name);
        if config.attributes.len() == before {
            return Ok(step(RollbackAction::AlreadyGone));
        }
    } else {
        if config.unmanaged_attribute_policy.as_deref() != Some(object.name.as_str()) {
            return Ok(step(RollbackAction::Replaced));
        }
        config.unmanaged_attribute_policy = object.previous.clone();
    }
    if dry_run {
        return Ok(step(RollbackAction::WouldDelete));
    }
    user_profile::write(client, &config).await?;
    Ok(step(RollbackAction::Deleted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settled_actions_are_final() {
        assert!(RollbackAction::Deleted.is_final());
        assert!(RollbackAction::AlreadyGone.is_final());
        assert!(RollbackAction::Replaced.is_final());
        assert!(!RollbackAction::Failed.is_final());
        assert!(!RollbackAction::WouldDelete.is_final());
    }

    #[test]
    fn journal_entries_round_trip_without_secrets() {
        let entry = RollbackEntry::User {
            key: "src-1".into(),
            username: "ada".into(),
            id: Some("u-1".into()),
            action: RollbackAction::Deleted,
            status: None,
            message: None,
        };
        let text = serde_json::to_string(&entry).unwrap();
        assert_eq!(
            text,
            r#"{"type":"user","key":"src-1","username":"ada","id":"u-1","action":"deleted"}"#
        );
        let back: RollbackEntry = serde_json::from_str(&text).unwrap();
        assert!(matches!(
            back,
            RollbackEntry::User {
                action: RollbackAction::Deleted,
                ..
            }
        ));
    }

    #[test]
    fn settings_default_to_a_dry_run_of_users() {
        let s = RollbackSettings::new("/tmp/rb.ndjson");
        assert!(s.dry_run && !s.roles_and_groups && !s.keep_unconfirmed);
        s.validate().unwrap();
        let mut s = RollbackSettings::new("");
        s.validate().unwrap();
        s.dry_run = false;
        assert!(s.validate().is_err());
    }
}
