//! `notify`: password-reset e-mails (`PUT /users/{id}/execute-actions-email` with
//! `["UPDATE_PASSWORD"]`, keycloak-target.md §3 "Required actions / emails") for the users an
//! `apply` run loaded with `UPDATE_PASSWORD` planned. A dry run by default; rate-limited by the
//! client; never e-mails anyone twice.
//!
//! * Candidates: apply-journal users with outcome `added`, `added_unconfirmed` or `overwritten`
//!   whose planned facts say `UPDATE_PASSWORD`. Skipped users were not changed by the run and
//!   are not e-mailed. Format-1 journals carry no planned facts: nobody is a candidate.
//! * Before any e-mail the realm must have an SMTP server (`smtpServer.host`); otherwise the
//!   run stops with [`SinkError::SmtpNotConfigured`] (a dry run reports it instead).
//! * Each candidate is read by its recorded id first: gone, disabled, without e-mail, or no
//!   longer carrying `UPDATE_PASSWORD` (already reset) are skipped with that reason — Keycloak
//!   would answer 400 for the first two. The dry run only counts from the journal.
//! * Crash consistency: the notify journal records `sending` (synced) before the request and
//!   `sent` / `failed` after the answer. A user whose last entry is `sending` — the process died,
//!   or the answer was lost (timeout, dropped connection) — may or may not have received the
//!   e-mail: it is never e-mailed again automatically and is reported as `unknown` ("check
//!   manually"). A `failed` user (Keycloak answered with an error, so no e-mail went out) is
//!   tried again by a resume.
//! * The journal holds keys, usernames and ids only: no e-mail address is ever written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::applied::{check_target, AppliedJournal};
use crate::client::{encode_segment, ApiRequest, KeycloakClient, RequestStats};
use crate::error::SinkError;
use crate::journal::{
    now_rfc3339, open_op_journal, JournalOutcome, JournalWriter, UPDATE_PASSWORD,
};
use crate::lookup::{self, ServerUser};
use crate::progress::{Phase, Progress};
use crate::report::UserOutcome;
use crate::retry::Replay;
use crate::verify::MAX_LISTED;

/// Format of the notify journal.
pub const NOTIFY_JOURNAL_FORMAT: u32 = 1;
/// Suggested request rate for notify runs (requests per second; each e-mail costs a read and a
/// send): mail servers and their reputation suffer from bursts.
pub const DEFAULT_NOTIFY_RATE: f64 = 5.0;
/// This many 500 answers in a row mean the mail server is failing, not the users: stop.
const MAX_CONSECUTIVE_SERVER_ERRORS: u32 = 3;
/// Keycloak's 400 messages for users it will not e-mail (`UserResource.executeActionsEmail`).
const DISABLED_MESSAGE: &str = "User is disabled";
const NO_EMAIL_MESSAGE: &str = "User email missing";

/// Settings of one notify run.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// Only count (the default): no e-mail, no journal.
    pub dry_run: bool,
    /// Link validity in seconds (`lifespan`; Keycloak's default applies when absent).
    pub lifespan: Option<u64>,
    /// Client the link returns to (`client_id`).
    pub client_id: Option<String>,
    /// Where the user lands after the action (`redirect_uri`; needs `client_id`).
    pub redirect_uri: Option<String>,
    /// The notify journal (mode 0600).
    pub journal: PathBuf,
    /// Continue the run recorded in `journal`.
    pub resume: bool,
    /// Send at most this many e-mails, then stop as interrupted (trial runs, tests).
    pub max_sends: Option<u64>,
}

impl NotifySettings {
    pub fn new(journal: impl Into<PathBuf>) -> Self {
        NotifySettings {
            dry_run: true,
            lifespan: None,
            client_id: None,
            redirect_uri: None,
            journal: journal.into(),
            resume: false,
            max_sends: None,
        }
    }

    pub fn validate(&self) -> Result<(), SinkError> {
        if self.redirect_uri.is_some() && self.client_id.is_none() {
            return Err(SinkError::InvalidSettings(
                "a redirect URI needs a client id (Keycloak answers 400 \"Client id missing\")"
                    .into(),
            ));
        }
        if self.lifespan == Some(0) {
            return Err(SinkError::InvalidSettings(
                "the link lifespan must be positive".into(),
            ));
        }
        if !self.dry_run && self.journal.as_os_str().is_empty() {
            return Err(SinkError::InvalidSettings(
                "a notify journal path is required".into(),
            ));
        }
        Ok(())
    }
}

/// What happened to one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyAction {
    Sent,
    WouldSend,
    /// Sent by an earlier run of this journal.
    AlreadySent,
    /// An earlier attempt may or may not have sent it: check manually; never resent.
    Unknown,
    NoEmail,
    Disabled,
    /// The user is not in the realm any more.
    NotFound,
    /// `UPDATE_PASSWORD` is no longer required: the password was already set.
    AlreadyReset,
    Failed,
}

/// One candidate worth listing (everything but plain successes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifyUser {
    pub key: String,
    pub username: String,
    pub action: NotifyAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `candidates = sent + would_send + already_sent + unknown + no_email + disabled + not_found +
/// already_reset + failed + not_reached`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NotifyCounts {
    pub candidates: u64,
    pub sent: u64,
    pub would_send: u64,
    pub already_sent: u64,
    pub unknown: u64,
    pub no_email: u64,
    pub disabled: u64,
    pub not_found: u64,
    pub already_reset: u64,
    pub failed: u64,
    /// Not handled because the run stopped (see `interrupted`).
    pub not_reached: u64,
}

impl NotifyCounts {
    fn record(&mut self, action: NotifyAction) {
        match action {
            NotifyAction::Sent => self.sent += 1,
            NotifyAction::WouldSend => self.would_send += 1,
            NotifyAction::AlreadySent => self.already_sent += 1,
            NotifyAction::Unknown => self.unknown += 1,
            NotifyAction::NoEmail => self.no_email += 1,
            NotifyAction::Disabled => self.disabled += 1,
            NotifyAction::NotFound => self.not_found += 1,
            NotifyAction::AlreadyReset => self.already_reset += 1,
            NotifyAction::Failed => self.failed += 1,
        }
    }
}

/// Apply-journal users that are not candidates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NotCandidates {
    /// Loaded without `UPDATE_PASSWORD` planned.
    pub no_update_password: u64,
    /// Skipped or rejected by the run.
    pub not_loaded_by_run: u64,
    /// Loaded, but the journal (format 1) has no planned facts.
    pub facts_missing: u64,
}

/// The result of [`notify`] (serialisable for `--output-format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotifyReport {
    pub url: String,
    pub realm: String,
    pub apply_journal: PathBuf,
    /// The notify journal (`None` in a dry run).
    pub journal: Option<PathBuf>,
    pub dry_run: bool,
    pub resumed: bool,
    pub smtp_configured: bool,
    pub users: NotifyCounts,
    pub not_candidates: NotCandidates,
    /// Unknown, skipped and failed candidates (at most [`MAX_LISTED`]).
    pub listed: Vec<NotifyUser>,
    pub truncated: bool,
    pub requests: RequestStats,
    /// Why the run stopped early; `None` when complete.
    pub interrupted: Option<String>,
}

impl NotifyReport {
    /// Complete, nothing failed and no outcome unknown.
    pub fn is_clean(&self) -> bool {
        self.interrupted.is_none() && self.users.failed == 0 && self.users.unknown == 0
    }
}

/// Lines of the notify journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum NotifyEntry {
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
    /// Written and synced before the request.
    Sending {
        key: String,
        username: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    Sent {
        key: String,
    },
    /// Keycloak answered with an error: no e-mail went out.
    Failed {
        key: String,
        /// Absent when the request failed before Keycloak processed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

/// A candidate's state in the notify journal (its last entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    Sending,
    Sent,
    Failed,
}

/// Sends the password-reset e-mails of the apply run recorded in `apply_journal` (see the
/// module documentation).
pub async fn notify(
    client: &KeycloakClient,
    apply_journal: &Path,
    settings: &NotifySettings,
    progress: &dyn Progress,
) -> Result<NotifyReport, SinkError> {
    settings.validate()?;
    let stats_at_start = client.stats();
    let mut applied = AppliedJournal::open(apply_journal, client)?;
    let realm = lookup::realm_info(client)
        .await?
        .ok_or_else(|| SinkError::RealmNotFound {
            realm: client.realm().to_string(),
        })?;
    let smtp_configured = realm.smtp_configured();
    if !smtp_configured && !settings.dry_run {
        return Err(SinkError::SmtpNotConfigured {
            realm: client.realm().to_string(),
        });
    }

    let mut recorded: HashMap<String, Recorded> = HashMap::new();
    let path = settings.journal.as_path();
    let mut visit = |e: NotifyEntry| {
        match e {
            NotifyEntry::Header { url, realm, .. } => check_target(path, client, &realm, &url)?,
            NotifyEntry::Sending { key, .. } => {
                recorded.insert(key, Recorded::Sending);
            }
            NotifyEntry::Sent { key } => {
                recorded.insert(key, Recorded::Sent);
            }
            NotifyEntry::Failed { key, .. } => {
                recorded.insert(key, Recorded::Failed);
            }
            NotifyEntry::Resumed { .. } => {}
        }
        Ok(())
    };
    let (mut writer, resumed) = if settings.dry_run {
        // A dry run writes nothing, but still accounts for what an earlier run recorded.
        let exists = std::fs::metadata(path)
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        if settings.resume && exists {
            for entry in crate::journal::JournalLines::<NotifyEntry>::open(path)? {
                visit(entry?)?;
            }
        }
        (None, false)
    } else {
        let header = NotifyEntry::Header {
            format: NOTIFY_JOURNAL_FORMAT,
            started_at: now_rfc3339(),
            url: client.base_url(),
            realm: client.realm().to_string(),
            apply_journal: apply_journal.to_path_buf(),
        };
        let resumed = NotifyEntry::Resumed { at: now_rfc3339() };
        let (w, resumed) = open_op_journal(path, settings.resume, &header, &resumed, visit)?;
        (Some(w), resumed)
    };

    let mut run = NotifyRun {
        client,
        settings,
        writer: writer.as_mut(),
        progress,
        report: NotifyReport {
            url: client.base_url(),
            realm: client.realm().to_string(),
            apply_journal: apply_journal.to_path_buf(),
            journal: (!settings.dry_run).then(|| settings.journal.clone()),
            dry_run: settings.dry_run,
            resumed,
            smtp_configured,
            users: NotifyCounts::default(),
            not_candidates: NotCandidates::default(),
            listed: Vec::new(),
            truncated: false,
            requests: RequestStats::default(),
            interrupted: None,
        },
        sends: 0,
        server_errors_in_a_row: 0,
    };
    progress.start(Phase::Users, None);
    while let Some(next) = applied.next_outcome() {
        let o = next?;
        if !matches!(
            o.outcome,
            UserOutcome::Added | UserOutcome::AddedUnconfirmed | UserOutcome::Overwritten
        ) {
            run.report.not_candidates.not_loaded_by_run += 1;
            continue;
        }
        let Some(planned) = &o.planned else {
            run.report.not_candidates.facts_missing += 1;
            continue;
        };
        if !planned.update_password {
            run.report.not_candidates.no_update_password += 1;
            continue;
        }
        run.report.users.candidates += 1;
        let has_email = planned.has_email;
        let action = match recorded.get(&o.key) {
            Some(Recorded::Sent) => Some(NotifyAction::AlreadySent),
            Some(Recorded::Sending) => Some(NotifyAction::Unknown),
            Some(Recorded::Failed) | None if !has_email => Some(NotifyAction::NoEmail),
            Some(Recorded::Failed) | None => None,
        };
        match action {
            Some(action) => run.record(&o, action, None, None),
            None => run.candidate(o).await?,
        }
    }
    progress.finish(Phase::Users);
    let mut report = run.report;
    report.requests = client.stats().since(&stats_at_start);
    Ok(report)
}

struct NotifyRun<'a> {
    client: &'a KeycloakClient,
    settings: &'a NotifySettings,
    writer: Option<&'a mut JournalWriter>,
    progress: &'a dyn Progress,
    report: NotifyReport,
    sends: u64,
    server_errors_in_a_row: u32,
}

impl NotifyRun<'_> {
    fn record(
        &mut self,
        o: &JournalOutcome,
        action: NotifyAction,
        status: Option<u16>,
        message: Option<String>,
    ) {
        self.report.users.record(action);
        self.progress.advance(Phase::Users, 1);
        if matches!(
            action,
            NotifyAction::Sent | NotifyAction::WouldSend | NotifyAction::AlreadySent
        ) {
            return;
        }
        if self.report.listed.len() < MAX_LISTED {
            self.report.listed.push(NotifyUser {
                key: o.key.clone(),
                username: o.username.clone(),
                action,
                status,
                message,
            });
        } else {
            self.report.truncated = true;
        }
    }

    fn append(&mut self, entry: &NotifyEntry) -> Result<(), SinkError> {
        match self.writer.as_deref_mut() {
            Some(w) => w.append(entry),
            None => Ok(()),
        }
    }

    /// A candidate not yet e-mailed.
    async fn candidate(&mut self, o: JournalOutcome) -> Result<(), SinkError> {
        if self.report.interrupted.is_some() {
            self.report.users.not_reached += 1;
            return Ok(());
        }
        if self.settings.dry_run {
            self.record(&o, NotifyAction::WouldSend, None, None);
            return Ok(());
        }
        if let Some(max) = self.settings.max_sends {
            if self.sends >= max {
                self.report.interrupted = Some(format!("stopped after {max} e-mails (max_sends)"));
                self.report.users.not_reached += 1;
                return Ok(());
            }
        }
        let user = match self.read_user(&o).await {
            Ok(user) => user,
            Err(e) => return self.stop(e),
        };
        let Some(user) = user else {
            self.record(&o, NotifyAction::NotFound, None, None);
            return Ok(());
        };
        let skip = if user.enabled == Some(false) {
            Some(NotifyAction::Disabled)
        } else if user.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
            Some(NotifyAction::NoEmail)
        } else if !user
            .required_actions
            .as_ref()
            .is_some_and(|a| a.iter().any(|x| x == UPDATE_PASSWORD))
        {
            Some(NotifyAction::AlreadyReset)
        } else {
            None
        };
        if let Some(action) = skip {
            self.record(&o, action, None, None);
            return Ok(());
        }
        let Some(id) = user.id else {
            self.record(&o, NotifyAction::NotFound, None, None);
            return Ok(());
        };
        self.append(&NotifyEntry::Sending {
            key: o.key.clone(),
            username: o.username.clone(),
            id: Some(id.clone()),
        })?;
        self.sends += 1;
        let resp = match self.send(&id).await {
            Ok(resp) => resp,
            Err(SinkError::UnknownOutcome { detail, .. }) => {
                self.record(
                    &o,
                    NotifyAction::Unknown,
                    None,
                    Some(format!("outcome unknown ({detail}): check manually")),
                );
                return Ok(());
            }
            Err(e) => {
                // The request never reached Keycloak in a usable way (or was refused before
                // processing): nothing was sent, the user may be tried again.
                self.append(&NotifyEntry::Failed {
                    key: o.key.clone(),
                    status: None,
                    message: None,
                })?;
                return self.stop(e);
            }
        };
        if resp.0 == 204 || resp.0 == 200 {
            self.server_errors_in_a_row = 0;
            self.append(&NotifyEntry::Sent { key: o.key.clone() })?;
            self.record(&o, NotifyAction::Sent, None, None);
            return Ok(());
        }
        let (status, message) = resp;
        self.append(&NotifyEntry::Failed {
            key: o.key.clone(),
            status: Some(status),
            message: Some(message.clone()),
        })?;
        let action = match status {
            400 if message == DISABLED_MESSAGE => NotifyAction::Disabled,
            400 if message == NO_EMAIL_MESSAGE => NotifyAction::NoEmail,
            404 => NotifyAction::NotFound,
            _ => NotifyAction::Failed,
        };
        self.record(&o, action, Some(status), Some(message.clone()));
        if status >= 500 {
            self.server_errors_in_a_row += 1;
            if self.server_errors_in_a_row >= MAX_CONSECUTIVE_SERVER_ERRORS {
                self.report.interrupted = Some(format!(
                    "{MAX_CONSECUTIVE_SERVER_ERRORS} e-mails in a row failed with a server error (last: {message}); stopping"
                ));
            }
        } else {
            self.server_errors_in_a_row = 0;
            if status == 403 {
                self.report.interrupted = Some(format!("forbidden (HTTP 403): {message}"));
            }
        }
        Ok(())
    }

    /// The user as it is now: by the recorded id, or by username when none was recorded.
    async fn read_user(&self, o: &JournalOutcome) -> Result<Option<ServerUser>, SinkError> {
        match &o.id {
            Some(id) => lookup::user_by_id(self.client, id).await,
            None => lookup::find_user_by_username(self.client, &o.username).await,
        }
    }

    /// `PUT /users/{id}/execute-actions-email`; never repeated when its effect is unknown.
    async fn send(&self, id: &str) -> Result<(u16, String), SinkError> {
        let path = self.client.realm_path(&format!(
            "/users/{}/execute-actions-email",
            encode_segment(id)
        ));
        let mut req =
            ApiRequest::with_json(Method::PUT, path, &[UPDATE_PASSWORD])?.replay(Replay::Reconcile);
        if let Some(lifespan) = self.settings.lifespan {
            req = req.query("lifespan", lifespan.to_string());
        }
        if let Some(client_id) = &self.settings.client_id {
            req = req.query("client_id", client_id.clone());
        }
        if let Some(uri) = &self.settings.redirect_uri {
            req = req.query("redirect_uri", uri.clone());
        }
        let resp = self.client.send(&req).await?;
        Ok((resp.status, resp.message()))
    }

    /// Nothing more can be done in this run: the user stays unsettled for a resume.
    fn stop(&mut self, e: SinkError) -> Result<(), SinkError> {
        self.report.users.not_reached += 1;
        self.report.interrupted.get_or_insert_with(|| e.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_without_io() {
        let mut s = NotifySettings::new("/tmp/n.ndjson");
        assert!(s.dry_run);
        s.validate().unwrap();
        s.redirect_uri = Some("https://app.example/after".into());
        assert!(s.validate().is_err());
        s.client_id = Some("app".into());
        s.validate().unwrap();
        s.lifespan = Some(0);
        assert!(s.validate().is_err());
    }

    #[test]
    fn journal_lines_hold_no_address() {
        let e = NotifyEntry::Sending {
            key: "k".into(),
            username: "ada".into(),
            id: Some("u-1".into()),
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"sending","key":"k","username":"ada","id":"u-1"}"#
        );
    }
}
