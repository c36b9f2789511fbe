//! `apply`: loads users through `partialImport` in batches (keycloak-target.md §2), with the
//! journal, bisection of failing batches, reconciliation of unknown outcomes and resume.
//!
//! A batch is one Keycloak transaction: all-or-nothing, with a single error for the whole batch.
//! A record-level failure (400, 409, 413, 500) is therefore split in halves until the failing
//! users are isolated; each is rejected with Keycloak's message and the rest load. A request
//! whose outcome is unknown (timeout, dropped connection, gateway timeout) is never blindly
//! repeated: the batch's users are looked up by username, those found count as added by this run,
//! and only the others are sent again — so no policy can duplicate or double-overwrite a user.

use std::collections::{HashMap, HashSet};

use kcm_keycloak_types::{
    ImportAction, PartialImportResults, Policy, ResourceType, UserRepresentation,
};
use reqwest::Method;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::client::{ApiRequest, KeycloakClient};
use crate::config::LoadSettings;
use crate::error::SinkError;
use crate::journal::{
    now_rfc3339, read_journal, CreatedKind, CreatedObject, Entry, Header, JournalOutcome,
    JournalUser, JournalWriter, PlannedFacts, JOURNAL_FORMAT,
};
use crate::lookup;
use crate::preflight::create_realm_if_missing;
use crate::progress::{Phase, Progress};
use crate::report::{ApplyReport, RejectReason, RejectedUser, UserOutcome};
use crate::retry::Replay;
use crate::structure::ensure_structure;
use crate::targets::{LoadTargets, UserToLoad};
use crate::user_profile;

/// A batch in which every user failed with a 500 is a failing server, not bad records, once it
/// has at least this many users: the run stops instead of rejecting everyone.
const SERVER_FAILURE_MIN_BATCH: usize = 4;

/// Loads `users` into the realm: realm (optional) → user profile → roles, clients, groups →
/// user batches. Errors before the first batch are returned; a fatal problem during the user
/// phase stops the run and is reported in [`ApplyReport::interrupted`] (the journal lets a
/// resume finish it).
pub async fn apply(
    client: &KeycloakClient,
    targets: &LoadTargets,
    users: impl Iterator<Item = UserToLoad> + Send,
    settings: &LoadSettings,
    progress: &dyn Progress,
) -> Result<ApplyReport, SinkError> {
    settings.validate()?;
    let stats_at_start = client.stats();
    let (journal, state) = open_journal(client, settings)?;
    let resumed = state.is_some();
    let mut run = Run {
        client: client.clone(),
        settings,
        progress,
        journal,
        report: ApplyReport::new(
            &client.base_url(),
            client.realm(),
            settings.on_existing,
            settings.journal.clone(),
            resumed,
        ),
        completed: HashSet::new(),
        reconciled: HashSet::new(),
        next_batch: 0,
        in_flight: JoinSet::new(),
        in_flight_sizes: HashMap::new(),
    };

    progress.start(Phase::Structure, None);
    if settings.create_realm {
        run.report.structure.realm_created = create_realm_if_missing(client).await?;
        if run.report.structure.realm_created {
            run.journal.append(&Entry::Created(CreatedObject::new(
                CreatedKind::Realm,
                client.realm(),
            )))?;
        }
    } else if lookup::realm_info(client).await?.is_none() {
        return Err(SinkError::RealmNotFound {
            realm: client.realm().to_string(),
        });
    }
    if !targets.attribute_names.is_empty() {
        let change =
            user_profile::ensure(client, settings.user_profile, &targets.attribute_names).await?;
        for name in &change.declared {
            run.journal.append(&Entry::Created(CreatedObject::new(
                CreatedKind::UserProfileAttribute,
                name.clone(),
            )))?;
        }
        if change.policy_after != change.policy_before {
            if let Some(policy) = &change.policy_after {
                let mut object =
                    CreatedObject::new(CreatedKind::UnmanagedAttributePolicy, policy.clone());
                object.previous = change.policy_before.clone();
                run.journal.append(&Entry::Created(object))?;
            }
        }
        run.report.structure.user_profile = change;
    }
    ensure_structure(
        client,
        targets,
        &mut run.report.structure,
        &mut run.journal,
        progress,
    )
    .await?;
    progress.finish(Phase::Structure);

    if let Some(state) = state {
        run.completed = state.completed;
        run.next_batch = state.next_batch;
        run.reconcile_pending(state.pending).await?;
    }

    progress.start(Phase::Users, None);
    let result = run.load(users).await;
    progress.finish(Phase::Users);
    result?;
    run.report.requests = client.stats().since(&stats_at_start);
    Ok(run.report)
}

/// Opens or creates the journal; on resume returns what it recorded.
fn open_journal(
    client: &KeycloakClient,
    settings: &LoadSettings,
) -> Result<(JournalWriter, Option<crate::journal::JournalState>), SinkError> {
    let path = settings.journal.as_path();
    let header = Header {
        format: JOURNAL_FORMAT,
        started_at: now_rfc3339(),
        url: client.base_url(),
        realm: client.realm().to_string(),
        plan_fingerprint: settings.plan_fingerprint.clone(),
        on_existing: settings.on_existing,
        batch_size: settings.batch_size,
        user_profile: settings.user_profile,
        create_realm: settings.create_realm,
        rate: client.inner.settings.traffic.rate,
        concurrency: client.concurrency(),
    };
    let exists = std::fs::metadata(path)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if settings.resume && exists {
        let state = read_journal(path)?;
        if let Some(old) = &state.header {
            for (field, expected, found) in [
                ("realm", &header.realm, &old.realm),
                ("url", &header.url, &old.url),
                (
                    "plan fingerprint",
                    &header.plan_fingerprint,
                    &old.plan_fingerprint,
                ),
            ] {
                if expected != found {
                    return Err(SinkError::JournalMismatch {
                        path: path.to_path_buf(),
                        field,
                        expected: expected.clone(),
                        found: found.clone(),
                    });
                }
            }
        }
        let mut writer = JournalWriter::append_to(path)?;
        if state.header.is_some() {
            writer.append(&Entry::Resumed { at: now_rfc3339() })?;
        } else {
            writer.append(&Entry::Header(header))?;
        }
        return Ok((writer, Some(state)));
    }
    if settings.resume {
        tracing::warn!(path = %path.display(), "nothing to resume: the journal is missing or empty; starting a new run");
    }
    let mut writer = JournalWriter::create(path)?;
    writer.append(&Entry::Header(header))?;
    Ok((writer, None))
}

/// Users accumulating into the next batch.
#[derive(Default)]
struct Accumulator {
    users: Vec<UserToLoad>,
    names: HashSet<String>,
    /// Users rejected before sending (no name, duplicate name in the batch).
    early: Vec<JournalOutcome>,
}

struct Run<'a> {
    client: KeycloakClient,
    settings: &'a LoadSettings,
    progress: &'a dyn Progress,
    journal: JournalWriter,
    report: ApplyReport,
    /// Keys finished by an earlier run of this journal.
    completed: HashSet<String>,
    /// Keys of unfinished earlier batches found in the realm on resume.
    reconciled: HashSet<String>,
    next_batch: u64,
    in_flight: JoinSet<BatchResult>,
    in_flight_sizes: HashMap<tokio::task::Id, (u64, Vec<JournalUser>)>,
}

impl Run<'_> {
    async fn load(&mut self, users: impl Iterator<Item = UserToLoad>) -> Result<(), SinkError> {
        let mut acc = Accumulator::default();
        for user in users {
            if self.report.interrupted.is_some() {
                break;
            }
            self.report.users.seen += 1;
            if self.completed.contains(&user.key) {
                self.report.users.already_done_from_journal += 1;
                continue;
            }
            if self.reconciled.remove(&user.key) {
                self.report.users.record(UserOutcome::AddedUnconfirmed);
                self.progress.advance(Phase::Users, 1);
                continue;
            }
            let Some(name) = user.import_name().map(str::to_lowercase) else {
                acc.early.push(early_rejection(
                    &user,
                    RejectReason::NoUsername,
                    "the user has neither a username nor an email",
                ));
                continue;
            };
            if !acc.names.insert(name) {
                acc.early.push(early_rejection(
                    &user,
                    RejectReason::DuplicateInBatch,
                    "another user of the same batch has this username",
                ));
                continue;
            }
            acc.users.push(user);
            if acc.users.len() >= self.settings.batch_size {
                self.dispatch(std::mem::take(&mut acc)).await?;
            }
        }
        if !acc.users.is_empty() || !acc.early.is_empty() {
            self.dispatch(acc).await?;
        }
        while let Some(joined) = self.in_flight.join_next_with_id().await {
            self.settle(joined)?;
        }
        Ok(())
    }

    /// Starts a batch once a concurrency slot is free.
    async fn dispatch(&mut self, acc: Accumulator) -> Result<(), SinkError> {
        while self.in_flight.len() >= self.client.concurrency() {
            if let Some(joined) = self.in_flight.join_next_with_id().await {
                self.settle(joined)?;
            }
        }
        if self.report.interrupted.is_none() {
            if let Some(max) = self.settings.max_batches {
                if self.report.batches_sent >= max {
                    self.report.interrupted =
                        Some(format!("stopped after {max} batches (max_batches)"));
                }
            }
        }
        if self.report.interrupted.is_some() {
            self.report.users.unresolved += (acc.users.len() + acc.early.len()) as u64;
            return Ok(());
        }
        let batch = self.next_batch;
        self.next_batch += 1;
        if acc.users.is_empty() {
            return self.finish_batch(batch, acc.early, Vec::new());
        }
        let keys: Vec<JournalUser> = acc.users.iter().map(journal_user).collect();
        self.journal.append(&Entry::Sent {
            batch,
            users: keys.clone(),
        })?;
        self.report.batches_sent += 1;
        let client = self.client.clone();
        let policy = self.settings.on_existing.policy();
        let handle = self
            .in_flight
            .spawn(run_batch(client, batch, acc.users, acc.early, policy));
        self.in_flight_sizes.insert(handle.id(), (batch, keys));
        Ok(())
    }

    fn settle(
        &mut self,
        joined: Result<(tokio::task::Id, BatchResult), tokio::task::JoinError>,
    ) -> Result<(), SinkError> {
        let result = match joined {
            Ok((id, result)) => {
                self.in_flight_sizes.remove(&id);
                result
            }
            Err(err) => {
                // The task died (it cannot panic on input; this is a bug or a runtime shutdown):
                // its batch stays open in the journal and a resume reconciles it.
                let size = self
                    .in_flight_sizes
                    .remove(&err.id())
                    .map(|(_, u)| u.len())
                    .unwrap_or(0);
                self.report.users.unresolved += size as u64;
                self.report
                    .interrupted
                    .get_or_insert_with(|| format!("a batch task failed: {err}"));
                return Ok(());
            }
        };
        self.report.partial_import_requests += result.partial_imports;
        self.report.bisections += result.bisections;
        if let Some(fatal) = &result.fatal {
            self.report
                .interrupted
                .get_or_insert_with(|| fatal.to_string());
        }
        self.finish_batch(result.batch, result.outcomes, result.unresolved)
    }

    /// Records a batch's outcomes (journal first, then report). Users left unresolved are
    /// re-registered as a new open batch so that a resume reconciles them.
    fn finish_batch(
        &mut self,
        batch: u64,
        outcomes: Vec<JournalOutcome>,
        unresolved: Vec<JournalUser>,
    ) -> Result<(), SinkError> {
        self.journal.append(&Entry::Done {
            batch,
            outcomes: outcomes.clone(),
        })?;
        if !unresolved.is_empty() {
            let reopened = self.next_batch;
            self.next_batch += 1;
            self.report.users.unresolved += unresolved.len() as u64;
            self.journal.append(&Entry::Sent {
                batch: reopened,
                users: unresolved,
            })?;
        }
        self.progress.advance(Phase::Users, outcomes.len() as u64);
        for o in outcomes {
            self.report.users.record(o.outcome);
            if o.outcome == UserOutcome::Rejected {
                self.report.rejected.push(RejectedUser {
                    key: o.key,
                    username: o.username,
                    reason: o.reason.unwrap_or(RejectReason::KeycloakOther),
                    status: o.status,
                    message: o.message.unwrap_or_default(),
                });
            }
        }
        Ok(())
    }

    /// Batches an earlier run sent but never finished: users now in the realm count as added by
    /// that run; the others are loaded normally when the input reaches them.
    async fn reconcile_pending(
        &mut self,
        pending: Vec<(u64, Vec<JournalUser>)>,
    ) -> Result<(), SinkError> {
        if pending.is_empty() {
            return Ok(());
        }
        self.progress.start(
            Phase::Reconcile,
            Some(pending.iter().map(|(_, u)| u.len() as u64).sum()),
        );
        let mut tasks = JoinSet::new();
        for (batch, users) in pending {
            let client = self.client.clone();
            tasks.spawn(async move {
                let mut found = Vec::new();
                for u in users {
                    if let Some(existing) =
                        lookup::find_user_by_username(&client, &u.username).await?
                    {
                        found.push((u, existing.id));
                    }
                }
                Ok::<_, SinkError>((batch, found))
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (batch, found) = joined
                .map_err(|e| SinkError::HttpClient(format!("reconcile task failed: {e}")))??;
            let outcomes: Vec<JournalOutcome> = found
                .into_iter()
                .map(|(u, id)| JournalOutcome {
                    key: u.key,
                    username: u.username,
                    outcome: UserOutcome::AddedUnconfirmed,
                    reason: None,
                    status: None,
                    message: None,
                    id,
                    planned: u.planned,
                })
                .collect();
            self.journal.append(&Entry::Done {
                batch,
                outcomes: outcomes.clone(),
            })?;
            self.report.reconciled_batches += 1;
            self.progress
                .advance(Phase::Reconcile, outcomes.len() as u64);
            self.reconciled.extend(outcomes.into_iter().map(|o| o.key));
        }
        self.progress.finish(Phase::Reconcile);
        Ok(())
    }
}

fn journal_user(u: &UserToLoad) -> JournalUser {
    JournalUser {
        key: u.key.clone(),
        username: u.import_name().unwrap_or_default().to_string(),
        planned: Some(PlannedFacts::of(&u.user)),
    }
}

fn early_rejection(u: &UserToLoad, reason: RejectReason, message: &str) -> JournalOutcome {
    JournalOutcome {
        key: u.key.clone(),
        username: u.import_name().unwrap_or_default().to_string(),
        outcome: UserOutcome::Rejected,
        reason: Some(reason),
        status: None,
        message: Some(message.to_string()),
        id: None,
        planned: None,
    }
}

/// A settled user, with the Keycloak id when known and the planned facts later cutover steps
/// need (rollback: the id; notify: the flags; delta sync: the hash).
fn outcome(u: &UserToLoad, outcome: UserOutcome, id: Option<String>) -> JournalOutcome {
    JournalOutcome {
        key: u.key.clone(),
        username: u.import_name().unwrap_or_default().to_string(),
        outcome,
        reason: None,
        status: None,
        message: None,
        id,
        planned: Some(PlannedFacts::of(&u.user)),
    }
}

fn rejection(u: &UserToLoad, status: u16, message: &str) -> JournalOutcome {
    JournalOutcome {
        key: u.key.clone(),
        username: u.import_name().unwrap_or_default().to_string(),
        outcome: UserOutcome::Rejected,
        reason: Some(RejectReason::from_status(status)),
        status: Some(status),
        message: Some(message.to_string()),
        id: None,
        planned: None,
    }
}

/// What a batch task hands back to the driver.
struct BatchResult {
    batch: u64,
    outcomes: Vec<JournalOutcome>,
    unresolved: Vec<JournalUser>,
    partial_imports: u64,
    bisections: u64,
    fatal: Option<SinkError>,
}

/// How one partialImport request ended.
enum ImportFailure {
    /// The batch was rolled back because of (at least) one of its users.
    Record { status: u16, message: String },
    /// The request may or may not have been applied.
    Unknown,
    /// Nothing more can be done in this run.
    Fatal(SinkError),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportBody<'a> {
    if_resource_exists: Policy,
    users: Vec<&'a UserRepresentation>,
}

/// Loads one batch to the end: bisects record-level failures, reconciles unknown outcomes.
async fn run_batch(
    client: KeycloakClient,
    batch: u64,
    users: Vec<UserToLoad>,
    early: Vec<JournalOutcome>,
    policy: Policy,
) -> BatchResult {
    let size = users.len();
    let max_unknown = client.inner.backoff.max_attempts();
    let mut result = BatchResult {
        batch,
        outcomes: early,
        unresolved: Vec::new(),
        partial_imports: 0,
        bisections: 0,
        fatal: None,
    };
    let mut server_errors = 0usize;
    let mut unknown_rounds = 0u32;
    // Depth-first over halves; the left half is on top so users settle roughly in input order.
    let mut stack: Vec<Vec<UserToLoad>> = vec![users];
    while let Some(mut part) = stack.pop() {
        result.partial_imports += 1;
        let failure = match import(&client, &part, policy).await {
            Ok(results) => {
                let missing = settle_results(part, &results, &mut result.outcomes);
                if missing.is_empty() {
                    continue;
                }
                // Keycloak answered without naming some users: find out where they stand.
                part = missing;
                ImportFailure::Unknown
            }
            Err(f) => f,
        };
        match failure {
            ImportFailure::Record { status, message } => {
                if part.len() == 1 {
                    if status == 500 {
                        server_errors += 1;
                    }
                    result
                        .outcomes
                        .extend(part.iter().map(|u| rejection(u, status, &message)));
                } else if let Some(i) = named_conflict(&part, status, &message, policy) {
                    let bad = part.remove(i);
                    result.outcomes.push(rejection(&bad, status, &message));
                    stack.push(part);
                } else {
                    result.bisections += 1;
                    let right = part.split_off(part.len() / 2);
                    stack.push(right);
                    stack.push(part);
                }
            }
            ImportFailure::Unknown => {
                unknown_rounds += 1;
                if unknown_rounds > max_unknown {
                    result.fatal = Some(SinkError::RetriesExhausted {
                        method: "POST".into(),
                        path: client.realm_path("/partialImport"),
                        attempts: unknown_rounds,
                        last: "the outcome stayed unknown (timeouts or dropped connections)".into(),
                    });
                    stack.push(part);
                    break;
                }
                match reconcile(&client, part).await {
                    Ok((found, rest)) => {
                        result.outcomes.extend(
                            found
                                .into_iter()
                                .map(|(u, id)| outcome(&u, UserOutcome::AddedUnconfirmed, id)),
                        );
                        if !rest.is_empty() {
                            stack.push(rest);
                        }
                    }
                    Err((e, users)) => {
                        result.fatal = Some(e);
                        stack.push(users);
                        break;
                    }
                }
            }
            ImportFailure::Fatal(e) => {
                result.fatal = Some(e);
                stack.push(part);
                break;
            }
        }
    }
    if result.fatal.is_none() && size >= SERVER_FAILURE_MIN_BATCH && server_errors == size {
        // Every single user failed with a 500: the server is failing, not the records. Undo the
        // rejections so a later run (resume) tries them again.
        let mut unresolved = Vec::new();
        result.outcomes.retain(|o| {
            let server_rejected = o.outcome == UserOutcome::Rejected && o.status == Some(500);
            if server_rejected {
                unresolved.push(JournalUser {
                    key: o.key.clone(),
                    username: o.username.clone(),
                    planned: o.planned.clone(),
                });
            }
            !server_rejected
        });
        result.unresolved = unresolved;
        result.fatal = Some(SinkError::Api {
            method: "POST".into(),
            path: client.realm_path("/partialImport"),
            status: 500,
            message: "every user of a batch failed with a server error; stopping".into(),
        });
        return result;
    }
    result
        .unresolved
        .extend(stack.iter().flatten().map(journal_user));
    result
}

/// One partialImport request.
async fn import(
    client: &KeycloakClient,
    part: &[UserToLoad],
    policy: Policy,
) -> Result<PartialImportResults, ImportFailure> {
    let body = ImportBody {
        if_resource_exists: policy,
        users: part.iter().map(|u| &u.user).collect(),
    };
    let req = ApiRequest::with_json(Method::POST, client.realm_path("/partialImport"), &body)
        .map_err(ImportFailure::Fatal)?
        .replay(Replay::Reconcile);
    let resp = match client.send(&req).await {
        Ok(resp) => resp,
        Err(SinkError::UnknownOutcome { .. }) => return Err(ImportFailure::Unknown),
        Err(e) => return Err(ImportFailure::Fatal(e)),
    };
    match resp.status {
        // A 200 whose body cannot be read was applied in some unknown way.
        200 => resp
            .json::<PartialImportResults>(&req)
            .map_err(|_| ImportFailure::Unknown),
        400 | 409 | 413 | 500 => Err(ImportFailure::Record {
            status: resp.status,
            message: resp.message(),
        }),
        _ => Err(ImportFailure::Fatal(resp.into_error(&req))),
    }
}

/// Maps partialImport results to users by `(USER, resourceName)` — the order is arbitrary (§2);
/// names compare case-insensitively because Keycloak lower-cases usernames. Returns the users
/// the response did not mention.
fn settle_results(
    part: Vec<UserToLoad>,
    results: &PartialImportResults,
    out: &mut Vec<JournalOutcome>,
) -> Vec<UserToLoad> {
    let actions: HashMap<String, (ImportAction, Option<&String>)> = results
        .results
        .iter()
        .filter(|r| r.resource_type == ResourceType::User)
        .map(|r| (r.resource_name.to_lowercase(), (r.action, r.id.as_ref())))
        .collect();
    let mut missing = Vec::new();
    for u in part {
        let action = u.import_name().and_then(|n| actions.get(&n.to_lowercase()));
        let (settled, id) = match action {
            Some((ImportAction::Added, id)) => (UserOutcome::Added, id),
            Some((ImportAction::Skipped, id)) => (UserOutcome::Skipped, id),
            Some((ImportAction::Overwritten, id)) => (UserOutcome::Overwritten, id),
            None => {
                missing.push(u);
                continue;
            }
        };
        out.push(outcome(&u, settled, id.cloned()));
    }
    missing
}

/// With on-existing = fail Keycloak names the first existing user ("User with user name X
/// already exists.", §2): reject that user directly instead of bisecting.
fn named_conflict(
    part: &[UserToLoad],
    status: u16,
    message: &str,
    policy: Policy,
) -> Option<usize> {
    if status != 409 || policy != Policy::Fail {
        return None;
    }
    let message = message.to_lowercase();
    part.iter().position(|u| {
        u.import_name().is_some_and(|n| {
            let n = n.to_lowercase();
            message.contains(&format!("user name {n} "))
                || message.contains(&format!("user name {n}."))
        })
    })
}

/// Users now present in the realm (with their ids), and the rest.
type Reconciled = (Vec<(UserToLoad, Option<String>)>, Vec<UserToLoad>);

/// Splits users into those now present in the realm and the rest.
async fn reconcile(
    client: &KeycloakClient,
    users: Vec<UserToLoad>,
) -> Result<Reconciled, (SinkError, Vec<UserToLoad>)> {
    let mut found = Vec::new();
    let mut rest = Vec::new();
    let mut iter = users.into_iter();
    while let Some(u) = iter.next() {
        let name = u.import_name().unwrap_or_default().to_string();
        match lookup::find_user_by_username(client, &name).await {
            Ok(Some(existing)) => found.push((u, existing.id)),
            Ok(None) => rest.push(u),
            Err(e) => {
                let mut unresolved: Vec<UserToLoad> = found.into_iter().map(|(u, _)| u).collect();
                unresolved.extend(rest);
                unresolved.push(u);
                unresolved.extend(iter);
                return Err((e, unresolved));
            }
        }
    }
    Ok((found, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcm_keycloak_types::PartialImportResult;

    fn user(name: &str) -> UserToLoad {
        UserToLoad::new(
            format!("k-{name}"),
            UserRepresentation {
                username: Some(name.into()),
                ..Default::default()
            },
        )
    }

    #[test]
    fn results_correlate_by_name_in_any_order_and_case() {
        let results = PartialImportResults {
            added: 1,
            skipped: 1,
            overwritten: 0,
            results: vec![
                PartialImportResult {
                    action: ImportAction::Skipped,
                    resource_type: ResourceType::User,
                    resource_name: "bob".into(),
                    id: None,
                },
                PartialImportResult {
                    action: ImportAction::Added,
                    resource_type: ResourceType::User,
                    resource_name: "alice".into(),
                    id: None,
                },
                PartialImportResult {
                    action: ImportAction::Added,
                    resource_type: ResourceType::Group,
                    resource_name: "carol".into(),
                    id: None,
                },
            ],
        };
        let mut out = Vec::new();
        let missing = settle_results(
            vec![user("Alice"), user("bob"), user("carol")],
            &results,
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].key, "k-Alice");
        assert_eq!(out[0].outcome, UserOutcome::Added);
        assert_eq!(out[1].outcome, UserOutcome::Skipped);
        assert_eq!(missing.len(), 1, "a GROUP result does not settle a user");
        assert_eq!(missing[0].key, "k-carol");
    }

    #[test]
    fn fail_policy_conflicts_name_the_user() {
        let part = vec![user("al"), user("alice"), user("bob")];
        let msg = "User with user name alice already exists.";
        assert_eq!(named_conflict(&part, 409, msg, Policy::Fail), Some(1));
        assert_eq!(
            named_conflict(
                &part,
                409,
                "User with user name bob or with email b@x already exists.",
                Policy::Fail
            ),
            Some(2)
        );
        assert_eq!(named_conflict(&part, 409, msg, Policy::Skip), None);
        assert_eq!(named_conflict(&part, 500, msg, Policy::Fail), None);
        assert_eq!(
            named_conflict(
                &part,
                409,
                "User with user name zed already exists.",
                Policy::Fail
            ),
            None
        );
    }

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn the_apply_future_can_be_spawned() {
        let settings = crate::config::ConnectionSettings::new(
            "http://127.0.0.1:9",
            "acme",
            crate::config::Auth::ClientCredentials { secret: "s".into() },
        );
        let client = KeycloakClient::new(settings).unwrap();
        let targets = LoadTargets::default();
        let load = LoadSettings::new("/nonexistent/journal");
        let fut = apply(
            &client,
            &targets,
            Vec::<UserToLoad>::new().into_iter(),
            &load,
            &crate::progress::NoProgress,
        );
        assert_send(&fut);
    }

    #[test]
    fn import_body_holds_the_policy_and_users() {
        let u = user("ada");
        let body = ImportBody {
            if_resource_exists: Policy::Overwrite,
            users: vec![&u.user],
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"ifResourceExists":"OVERWRITE","users":[{"username":"ada"}]}"#
        );
    }
}
