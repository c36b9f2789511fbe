//! The transform stage: source items in, outcomes out. Each user becomes a planned Keycloak
//! user, or is filtered (by a named rule) or rejected (with a reason code); side records
//! (roles, groups, memberships, merged hash rows) are counted so that the accounting
//! identity in [`crate::PlanSummary`] holds.
//!
//! Memory is O(1) per user apart from the duplicate-key digests and the per-role/group
//! counters; memberships (which arrive before users) are held in a
//! [`kcm_model::MembershipIndex`] until the end.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use kcm_keycloak_types::UserRepresentation;
use kcm_model::{
    Diagnostic, Group, MemberRef, MembershipIndex, MembershipKind, Provenance, RecordError, Role,
    SourceItem, SourceResult, User,
};
use serde::Serialize;
use uuid::Uuid;

use crate::dedup::{KeySets, UserKeys};
use crate::fields::FieldPath;
use crate::mapping::{
    DuplicatePolicy, FilterKind, InvalidPolicy, Mapping, UsernameSource, Verified,
};
use crate::passwords::{decide, PasswordOutcome, TransformOptions};
use crate::roles::Grants;
use crate::status::{UPDATE_PASSWORD, VERIFY_EMAIL};
use crate::summary::{bump, DuplicateExample, PlanSummary, MAX_DUPLICATE_EXAMPLES};
use crate::transforms::apply_all;
use crate::validate::{check_email, check_person_name, check_username, normalize_email};

/// Namespace of deterministic Keycloak user ids: UUID v5 of the URL namespace and
/// `kc-migrate:user-id`. A user's id is UUID v5 of this namespace and
/// `<source kind>:<source id>` (e.g. `auth0:auth0|abc`), so re-runs give the same ids.
pub const USER_ID_NAMESPACE: Uuid = uuid::uuid!("b5efdb5f-ad8f-57b2-88e1-0700139cbdd9");

/// Longest attribute value Keycloak accepts for unmanaged attributes.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 2048;

/// Stable reason codes of transform-stage rejections (source-stage rejections keep the
/// source's `kcm_model::Reason` code).
pub mod reason {
    /// No username source produced a value.
    pub const MISSING_USERNAME: &str = "missing_username";
    /// The username breaks a Keycloak constraint.
    pub const INVALID_USERNAME: &str = "invalid_username";
    /// The e-mail is malformed and `invalid_email = "reject"`.
    pub const INVALID_EMAIL: &str = "invalid_email";
    /// A first/last name breaks a Keycloak constraint and `names.invalid = "reject"`.
    pub const INVALID_NAME: &str = "invalid_name";
    /// The username (or, with `duplicates = "reject"`, the e-mail) is already taken.
    pub const DUPLICATE: &str = "duplicate";
    /// A membership row matched no user.
    pub const UNMATCHED: &str = "unmatched";
}

/// Where a rejection was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Source,
    Transform,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Source => "source",
            Stage::Transform => "transform",
        }
    }
}

/// A record that will not be loaded, and why. Messages never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub provenance: Provenance,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// Stable reason code.
    pub reason: String,
    pub message: String,
    pub stage: Stage,
}

/// A side record: a role or group definition from the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SideKind {
    Role,
    Group,
}

/// A user ready for a sink.
#[derive(Clone)]
pub struct PlannedUser {
    pub source_id: String,
    pub provenance: Provenance,
    /// Complete: username, email, emailVerified, names, enabled, createdTimestamp,
    /// attributes, credentials, requiredActions, federatedIdentities, realmRoles,
    /// clientRoles, groups, and `id` when ids are deterministic.
    pub user: UserRepresentation,
    pub password: PasswordOutcome,
    /// The source's diagnostics plus the transform's.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Debug for PlannedUser {
    /// Credentials carry hashes in `secretData`: they are redacted here.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut user = self.user.clone();
        for c in user.credentials.iter_mut().flatten() {
            for field in [
                &mut c.secret_data,
                &mut c.value,
                &mut c.hashed_salted_value,
                &mut c.salt,
            ] {
                if field.is_some() {
                    *field = Some("[redacted]".into());
                }
            }
        }
        f.debug_struct("PlannedUser")
            .field("source_id", &self.source_id)
            .field("provenance", &self.provenance)
            .field("user", &user)
            .field("password", &self.password)
            .field("diagnostics", &self.diagnostics)
            .finish()
    }
}

/// What one input item (or the end of input) produced.
#[derive(Debug, Clone)]
pub enum Outcome {
    Planned(Box<PlannedUser>),
    /// Removed by a filter rule (`rule` is the filter's name, or `not_included`).
    Filtered {
        provenance: Provenance,
        source_id: String,
        rule: String,
    },
    Rejected(Rejection),
    /// A secondary record the source merged into a user.
    Merged {
        provenance: Provenance,
        what: String,
        into: String,
    },
    /// A role or group definition from the source, counted as a side record.
    Side {
        provenance: Provenance,
        kind: SideKind,
        name: String,
    },
}

/// Filter name used when include filters exist and none matched.
pub const NOT_INCLUDED: &str = "not_included";

/// The transform stage.
///
/// Planning a user has three steps: [`Transformer::stage`] (in input order: memberships join
/// the index, users take their memberships), [`Planner::prepare`] (everything that depends
/// only on the mapping and the user: it can run on any thread) and [`Transformer::commit`]
/// (in input order again: duplicate detection and the counts). [`Transformer::push`] runs the
/// three inline; [`Transformer::run`] spreads the middle one over worker threads.
pub struct Transformer {
    pub(crate) planner: std::sync::Arc<Planner>,
    pub(crate) joins: Joins,
    keys: KeySets,
    summary: PlanSummary,
}

/// What [`Transformer::stage`] keeps: the memberships, and how many arrived (in total and
/// after the first user).
#[derive(Default)]
pub(crate) struct Joins {
    index: MembershipIndex,
    users_seen: bool,
    memberships: u64,
    memberships_after_users: u64,
}

/// The mapping and options a user is planned with; shared read-only by the workers.
pub(crate) struct Planner {
    mapping: Mapping,
    options: TransformOptions,
    /// Source attribute names consumed by attribute rules (not copied by keep_unmapped).
    consumed_attributes: BTreeSet<String>,
}

/// An item after [`Transformer::stage`]: a user with its memberships attached, or a record
/// that needs no planning (a source rejection, a role, a group, a merged row).
pub(crate) enum Staged {
    User(Box<User>),
    Other(Passed),
}

/// A record that is counted and reported but not planned.
#[derive(Clone)]
pub(crate) enum Passed {
    Error(RecordError),
    Role(Role),
    Group(Group),
    Merged {
        what: String,
        into: String,
        provenance: Provenance,
    },
}

/// An item after [`Planner::prepare`], waiting for [`Transformer::commit`].
pub(crate) enum Prepared {
    Filtered {
        provenance: Provenance,
        source_id: String,
        rule: String,
    },
    Rejected(Rejection),
    User(Candidate),
    Other(Passed),
}

/// A user planned up to duplicate detection: everything after it cannot reject.
pub(crate) struct Candidate {
    planned: Box<PlannedUser>,
    username: String,
    email: Option<String>,
    /// `emailVerified` if the e-mail survives duplicate detection.
    email_verified: Option<bool>,
    /// Required actions, without the VERIFY_EMAIL the mapping adds for an unverified e-mail.
    actions: Vec<String>,
    unmapped_roles: BTreeSet<String>,
    unmapped_groups: BTreeSet<String>,
    identities_dropped: Vec<String>,
    /// The source status, when no status rule knows it.
    unknown_status: Option<String>,
}

type Reject = (&'static str, String);

impl Transformer {
    pub fn new(mapping: Mapping, options: TransformOptions) -> Self {
        let summary = PlanSummary {
            mapping: mapping.name.clone(),
            source: mapping.source.as_str().to_string(),
            realm: mapping.realm.clone(),
            ..PlanSummary::default()
        };
        let consumed_attributes = mapping
            .attributes
            .rules
            .iter()
            .filter_map(|r| match &r.from {
                Some(FieldPath::Attribute(name)) => Some(name.clone()),
                _ => None,
            })
            .collect();
        Self {
            planner: std::sync::Arc::new(Planner {
                mapping,
                options,
                consumed_attributes,
            }),
            joins: Joins::default(),
            keys: KeySets::new(),
            summary,
        }
    }

    pub fn mapping(&self) -> &Mapping {
        &self.planner.mapping
    }

    /// Feed one source item; returns the outcomes it produced: one, or none for a
    /// membership row (it is joined to users as they pass and reported at [`finish`] if it
    /// matched none).
    ///
    /// [`finish`]: Transformer::finish
    pub fn push(&mut self, item: SourceResult) -> Vec<Outcome> {
        match self.stage(item) {
            Some(staged) => {
                let prepared = self.planner.prepare(&staged);
                vec![self.commit(prepared)]
            }
            None => Vec::new(),
        }
    }

    /// Step one, in input order: a membership joins the index (and is counted); a user takes
    /// the memberships that name it.
    pub(crate) fn stage(&mut self, item: SourceResult) -> Option<Staged> {
        self.joins.stage(item)
    }

    /// Step three, in input order: duplicate detection, then the counts.
    pub(crate) fn commit(&mut self, prepared: Prepared) -> Outcome {
        self.summary.records_read += 1;
        match prepared {
            Prepared::Other(Passed::Error(e)) => {
                let rejection = Rejection {
                    provenance: e.provenance,
                    source_id: e.source_id,
                    reason: e.reason.as_str().to_string(),
                    message: e.message,
                    stage: Stage::Source,
                };
                self.count_rejection(&rejection);
                Outcome::Rejected(rejection)
            }
            Prepared::Other(Passed::Role(role)) => {
                self.summary.side_records.roles += 1;
                self.summary.side_records.total += 1;
                Outcome::Side {
                    provenance: role.provenance,
                    kind: SideKind::Role,
                    name: role.name,
                }
            }
            Prepared::Other(Passed::Group(group)) => {
                self.summary.side_records.groups += 1;
                self.summary.side_records.total += 1;
                Outcome::Side {
                    provenance: group.provenance,
                    kind: SideKind::Group,
                    name: group.name,
                }
            }
            Prepared::Other(Passed::Merged {
                what,
                into,
                provenance,
            }) => {
                self.summary.merged += 1;
                Outcome::Merged {
                    provenance,
                    what,
                    into,
                }
            }
            Prepared::Filtered {
                provenance,
                source_id,
                rule,
            } => {
                self.summary.filtered.total += 1;
                bump(&mut self.summary.filtered.by_rule, &rule);
                Outcome::Filtered {
                    provenance,
                    source_id,
                    rule,
                }
            }
            Prepared::Rejected(rejection) => {
                self.count_rejection(&rejection);
                Outcome::Rejected(rejection)
            }
            Prepared::User(candidate) => self.commit_user(candidate),
        }
    }

    /// End of input: membership rows that matched no user become rejections; returns them
    /// with the final summary. [`Transformer::finish_with`] streams them instead.
    pub fn finish(self) -> (Vec<Outcome>, PlanSummary) {
        let mut outcomes = Vec::new();
        let summary = self
            .finish_with(|o| {
                outcomes.push(o.clone());
                Ok::<(), std::convert::Infallible>(())
            })
            .unwrap_or_else(|never| match never {});
        (outcomes, summary)
    }

    /// End of input: `each` sees a rejection for every membership row that matched no user,
    /// in input order, one at a time (there can be millions); then the final summary.
    pub fn finish_with<E>(
        mut self,
        mut each: impl FnMut(&Outcome) -> Result<(), E>,
    ) -> Result<PlanSummary, E> {
        let joins = std::mem::take(&mut self.joins);
        let mut unmatched = 0u64;
        for m in joins.index.unmatched() {
            let what = match m.kind {
                MembershipKind::Role => "role",
                MembershipKind::Group => "group",
            };
            let (by, value) = match &m.member {
                MemberRef::Id(v) => ("id", v),
                MemberRef::Email(v) => ("e-mail", v),
                MemberRef::Login(v) => ("login", v),
                MemberRef::Any(v) => ("id, e-mail or login", v),
            };
            let rejection = Rejection {
                provenance: m.provenance.clone(),
                source_id: None,
                reason: reason::UNMATCHED.to_string(),
                message: format!(
                    "{what} membership `{}` for {by} `{value}` matched no user",
                    m.name
                ),
                stage: Stage::Transform,
            };
            unmatched += 1;
            self.count_rejection(&rejection);
            each(&Outcome::Rejected(rejection))?;
        }
        self.summary.records_read += joins.memberships;
        let side = &mut self.summary.side_records;
        side.memberships = joins.memberships;
        side.memberships_after_users = joins.memberships_after_users;
        side.memberships_unmatched = unmatched;
        side.memberships_attached = side.memberships.saturating_sub(unmatched);
        side.total += side.memberships_attached;
        Ok(self.summary)
    }

    fn count_rejection(&mut self, r: &Rejection) {
        self.summary.rejected.total += 1;
        bump(&mut self.summary.rejected.by_reason, &r.reason);
        bump(&mut self.summary.rejected.by_stage, r.stage.as_str());
    }

    fn reject_duplicate(&mut self, planned: &PlannedUser, message: String) -> Outcome {
        let rejection = Rejection {
            provenance: planned.provenance.clone(),
            source_id: Some(planned.source_id.clone()),
            reason: reason::DUPLICATE.to_string(),
            message,
            stage: Stage::Transform,
        };
        self.count_rejection(&rejection);
        Outcome::Rejected(rejection)
    }

    fn duplicate_example(&mut self, kind: &str, action: &str, user: &PlannedUser, first: String) {
        let examples = &mut self.summary.duplicates.examples;
        if examples.len() < MAX_DUPLICATE_EXAMPLES {
            examples.push(DuplicateExample {
                kind: kind.to_string(),
                action: action.to_string(),
                source_id: user.source_id.clone(),
                at: format!("{}:{}", user.provenance.file, user.provenance.line),
                first,
            });
        }
    }

    /// Duplicate detection, the required actions that depend on the e-mail surviving it,
    /// and the counts.
    fn commit_user(&mut self, candidate: Candidate) -> Outcome {
        let Candidate {
            mut planned,
            username,
            mut email,
            email_verified,
            mut actions,
            unmapped_roles,
            unmapped_groups,
            identities_dropped,
            unknown_status,
        } = candidate;
        let keys = UserKeys::new(&username, email.as_deref());
        if let Some(first) = self.keys.username_holder(&keys) {
            self.summary.duplicates.usernames_rejected += 1;
            self.duplicate_example("username", "rejected", &planned, first.to_string());
            return self.reject_duplicate(
                &planned,
                format!("username `{username}` is already taken by the user at {first}"),
            );
        }
        if let Some(e) = &email {
            if let Some(first) = self.keys.email_holder(&keys) {
                match self.planner.mapping.email.duplicates {
                    DuplicatePolicy::Reject => {
                        self.summary.duplicates.emails_rejected += 1;
                        self.duplicate_example("email", "rejected", &planned, first.to_string());
                        let message =
                            format!("e-mail `{e}` is already used by the user at {first}");
                        return self.reject_duplicate(&planned, message);
                    }
                    DuplicatePolicy::DropEmail => {
                        self.summary.duplicates.emails_dropped += 1;
                        self.duplicate_example(
                            "email",
                            "email_dropped",
                            &planned,
                            first.to_string(),
                        );
                        planned.diagnostics.push(Diagnostic::new(
                            "duplicate_email_dropped",
                            format!("e-mail `{e}` is already used by the user at {first}; this user is kept without it"),
                        ));
                        email = None;
                    }
                }
            }
        }
        if let Some(status) = &unknown_status {
            bump(&mut self.summary.unknown_statuses, status);
        }
        let email_verified = email.as_ref().and(email_verified);
        if self.planner.mapping.email.verify_email_action
            && email_verified == Some(false)
            && !actions.iter().any(|a| a == VERIFY_EMAIL)
        {
            actions.push(VERIFY_EMAIL.to_string());
        }

        self.keys.claim(&keys, email.is_some(), &planned.provenance);
        let user = &mut planned.user;
        user.username = Some(username);
        user.email = email;
        user.email_verified = email_verified;
        user.required_actions = (!actions.is_empty()).then_some(actions);
        self.count_planned(
            &planned,
            &unmapped_roles,
            &unmapped_groups,
            &identities_dropped,
        );
        Outcome::Planned(planned)
    }

    /// Add a planned user to the summary, reading what was granted from the representation
    /// itself so the counts describe exactly what the sink receives.
    fn count_planned(
        &mut self,
        planned: &PlannedUser,
        unmapped_roles: &BTreeSet<String>,
        unmapped_groups: &BTreeSet<String>,
        identities_dropped: &[String],
    ) {
        let s = &mut self.summary;
        let u = &planned.user;
        s.users_planned += 1;
        if u.enabled == Some(true) {
            s.enabled += 1;
        } else {
            s.disabled += 1;
        }
        for a in u.required_actions.iter().flatten() {
            bump(&mut s.required_actions, a);
        }
        match &planned.password {
            PasswordOutcome::Carried { provider } => bump(&mut s.passwords.carried, provider),
            PasswordOutcome::Reset { reason, .. } => bump(&mut s.passwords.reset, reason.as_str()),
            PasswordOutcome::NotNeeded => s.passwords.not_needed += 1,
        }
        for r in u.realm_roles.iter().flatten() {
            bump(&mut s.realm_roles, r);
        }
        for (client, roles) in u.client_roles.iter().flatten() {
            let per_client = s.client_roles.entry(client.clone()).or_default();
            for r in roles {
                bump(per_client, r);
            }
        }
        for g in u.groups.iter().flatten() {
            bump(&mut s.groups, g);
        }
        for alias in u
            .federated_identities
            .iter()
            .flatten()
            .filter_map(|l| l.identity_provider.as_ref())
        {
            bump(&mut s.identities, alias);
        }
        for p in identities_dropped {
            bump(&mut s.identities_dropped, p);
        }
        for r in unmapped_roles {
            bump(&mut s.unmapped_roles, r);
        }
        for g in unmapped_groups {
            bump(&mut s.unmapped_groups, g);
        }
        for d in &planned.diagnostics {
            bump(&mut s.diagnostics, &d.code);
        }
    }
}

impl Planner {
    /// Step two: everything about a user that depends only on the mapping and the user. It
    /// borrows the item and copies what it keeps, so that in [`Transformer::run`] each
    /// thread frees what it allocated (freeing on another thread is slow in every allocator
    /// tried).
    pub(crate) fn prepare(&self, staged: &Staged) -> Prepared {
        match staged {
            Staged::Other(passed) => Prepared::Other(passed.clone()),
            Staged::User(user) => self.plan(user),
        }
    }

    fn plan(&self, user: &User) -> Prepared {
        if let Some(rule) = self.filter_rule(user) {
            return Prepared::Filtered {
                provenance: user.provenance.clone(),
                source_id: user.source_id.clone(),
                rule,
            };
        }
        let mut diags = user.diagnostics.clone();

        let username = match self.username(user) {
            Ok(u) => u,
            Err(r) => return reject(user, r),
        };

        let mut email = None;
        if let Some(raw) = self.mapping.email.from.first(user) {
            let normalized = normalize_email(&raw);
            match check_email(&normalized) {
                Ok(()) => email = Some(normalized),
                Err(why) => match self.mapping.email.invalid {
                    InvalidPolicy::Reject => {
                        let message = format!("e-mail `{}` is invalid: {why}", raw.trim());
                        return reject(user, (reason::INVALID_EMAIL, message));
                    }
                    InvalidPolicy::Drop => diags.push(Diagnostic::new(
                        "email_dropped",
                        format!("invalid e-mail `{}` dropped: {why}", raw.trim()),
                    )),
                },
            }
        }

        let (first_name, last_name) = match self.names(user, &mut diags) {
            Ok(n) => n,
            Err(r) => return reject(user, r),
        };

        // Nothing after this point rejects, except duplicate detection in `commit`.
        let (enabled, mut actions, known_status) = self.mapping.status.resolve(user);
        let unknown_status = (!known_status).then(|| user.status.clone());
        if !known_status {
            diags.push(Diagnostic::new(
                "status_unknown",
                format!(
                    "status `{}` has no status rule; the source's enabled flag was kept",
                    user.status
                ),
            ));
        }

        // Identities first: a user counts as social-only only if at least one of its linked
        // identities maps to a Keycloak identity provider. Otherwise (e.g. an Auth0 `sms`
        // passwordless user) it would arrive with no credential, no link and no way in.
        let identities = self.mapping.identities.map(&user.identities);
        diags.extend(identities.diagnostics);
        let social_only = user.is_social_only() && !identities.links.is_empty();
        if user.is_social_only() && !social_only {
            diags.push(Diagnostic::new(
                "social_identity_not_mapped",
                "none of the user's linked identities maps to a Keycloak identity provider; the user must set a password",
            ));
        }
        let (credential, password) = decide(user, &self.options, social_only);
        if matches!(password, PasswordOutcome::Reset { .. })
            || (social_only && self.mapping.passwords.social_only_update_password)
        {
            actions.push(UPDATE_PASSWORD.to_string());
        } else if social_only {
            actions.retain(|a| a != UPDATE_PASSWORD);
        }
        let mut seen_actions = BTreeSet::new();
        actions.retain(|a| seen_actions.insert(a.clone()));

        let email_verified = match self.mapping.email.verified {
            Verified::Source => user.email_verified.unwrap_or(false),
            Verified::Always => true,
            Verified::Never => false,
        };

        let attributes = self.attributes(user, &mut diags);
        let mut grants = Grants::default();
        self.mapping.roles.apply(user, &mut grants);
        self.mapping.groups.apply(user, &mut grants);

        let id = self.mapping.deterministic_ids.then(|| {
            Uuid::new_v5(
                &USER_ID_NAMESPACE,
                format!("{}:{}", self.mapping.source.as_str(), user.source_id).as_bytes(),
            )
            .to_string()
        });

        let non_empty = |v: Vec<String>| (!v.is_empty()).then_some(v);
        let client_roles: BTreeMap<String, Vec<String>> = grants
            .client_roles
            .into_iter()
            .map(|(c, r)| (c, r.into_iter().collect()))
            .collect();
        // username, email, emailVerified and requiredActions are set by `commit`.
        let representation = UserRepresentation {
            id,
            first_name,
            last_name,
            attributes: (!attributes.is_empty()).then_some(attributes),
            enabled: Some(enabled),
            created_timestamp: user.created_at,
            credentials: credential.map(|c| vec![c]),
            federated_identities: (!identities.links.is_empty()).then_some(identities.links),
            realm_roles: non_empty(grants.realm_roles.into_iter().collect()),
            client_roles: (!client_roles.is_empty()).then_some(client_roles),
            groups: non_empty(grants.groups.into_iter().collect()),
            ..UserRepresentation::default()
        };
        Prepared::User(Candidate {
            email_verified: email.as_ref().map(|_| email_verified),
            planned: Box::new(PlannedUser {
                source_id: user.source_id.clone(),
                provenance: user.provenance.clone(),
                user: representation,
                password,
                diagnostics: diags,
            }),
            username,
            email,
            actions,
            unmapped_roles: grants.unmapped_roles,
            unmapped_groups: grants.unmapped_groups,
            identities_dropped: identities.dropped,
            unknown_status,
        })
    }

    fn filter_rule(&self, user: &User) -> Option<String> {
        let filters = &self.mapping.filters;
        let has_include = filters.iter().any(|f| f.kind == FilterKind::Include);
        if has_include
            && !filters
                .iter()
                .any(|f| f.kind == FilterKind::Include && f.condition.matches(user))
        {
            return Some(NOT_INCLUDED.to_string());
        }
        filters
            .iter()
            .find(|f| f.kind == FilterKind::Exclude && f.condition.matches(user))
            .map(|f| f.name.clone())
    }

    fn username(&self, user: &User) -> Result<String, Reject> {
        let spec = &self.mapping.username;
        for source in &spec.from {
            let (candidate, label) = match source {
                UsernameSource::Field(p) => (p.first(user), p.to_string()),
                UsernameSource::Template(t) => (t.render(user, None), "template".to_string()),
            };
            let Some(candidate) = candidate else { continue };
            let candidate = candidate.trim().to_lowercase();
            if candidate.is_empty() {
                continue;
            }
            check_username(&candidate, spec.min_length, spec.ascii_only).map_err(|why| {
                (
                    reason::INVALID_USERNAME,
                    format!("{why} (username taken from {label})"),
                )
            })?;
            return Ok(candidate);
        }
        let tried: Vec<String> = spec
            .from
            .iter()
            .map(|s| match s {
                UsernameSource::Field(p) => p.to_string(),
                UsernameSource::Template(_) => "template".to_string(),
            })
            .collect();
        Err((
            reason::MISSING_USERNAME,
            format!("no username: none of {} has a value", tried.join(", ")),
        ))
    }

    fn names(
        &self,
        user: &User,
        diags: &mut Vec<Diagnostic>,
    ) -> Result<(Option<String>, Option<String>), Reject> {
        let spec = &self.mapping.names;
        let pick = |paths: &[FieldPath]| {
            paths.iter().find_map(|p| {
                p.first(user)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
        };
        let mut first = pick(&spec.first);
        let mut last = pick(&spec.last);
        if first.is_none() && last.is_none() && spec.split_display_name {
            if let Some(display) = &user.display_name {
                (first, last) = split_display_name(display);
            }
        }
        for (label, slot) in [("first name", &mut first), ("last name", &mut last)] {
            let Some(value) = slot.as_deref() else {
                continue;
            };
            if let Err(why) = check_person_name(value) {
                match spec.invalid {
                    InvalidPolicy::Reject => {
                        return Err((reason::INVALID_NAME, format!("{label} {why}")))
                    }
                    InvalidPolicy::Drop => {
                        diags.push(Diagnostic::new(
                            "name_dropped",
                            format!("{label} dropped: {why}"),
                        ));
                        *slot = None;
                    }
                }
            }
        }
        Ok((first, last))
    }

    fn attributes(
        &self,
        user: &User,
        diags: &mut Vec<Diagnostic>,
    ) -> BTreeMap<String, Vec<String>> {
        let spec = &self.mapping.attributes;
        let mut attrs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if spec.keep_unmapped {
            for (name, values) in &user.attributes {
                if self.consumed_attributes.contains(name)
                    || crate::mapping::is_reserved_attribute(name)
                {
                    continue;
                }
                let values: Vec<String> =
                    values.iter().filter(|v| !v.is_empty()).cloned().collect();
                if !values.is_empty() {
                    attrs.insert(name.clone(), values);
                }
            }
        }
        let mut written: Vec<&str> = Vec::new();
        for rule in &spec.rules {
            let input = rule
                .from
                .as_ref()
                .map(|p| p.values(user))
                .unwrap_or_default();
            let values = apply_all(&rule.transforms, input, user);
            if values.is_empty() {
                continue;
            }
            // The first rule writing a name replaces a kept source value; later rules add.
            let first_write = !written.contains(&rule.to.as_str());
            if first_write {
                written.push(&rule.to);
            }
            let entry = match attrs.get_mut(&rule.to) {
                Some(entry) => entry,
                None => attrs.entry(rule.to.clone()).or_default(),
            };
            if first_write {
                entry.clear();
            }
            for v in values {
                if !entry.contains(&v) {
                    entry.push(v);
                }
            }
        }
        if let Some(name) = &spec.legacy_id {
            attrs.insert(name.clone(), vec![user.source_id.clone()]);
        }
        for (name, values) in attrs.iter_mut() {
            let before = values.len();
            // A value of at most that many bytes has at most that many characters.
            values.retain(|v| {
                v.len() <= MAX_ATTRIBUTE_VALUE_CHARS
                    || v.chars().count() <= MAX_ATTRIBUTE_VALUE_CHARS
            });
            if values.len() != before {
                diags.push(Diagnostic::new(
                    "attribute_value_too_long",
                    format!("attribute `{name}`: values over {MAX_ATTRIBUTE_VALUE_CHARS} characters dropped"),
                ));
            }
        }
        attrs.retain(|_, v| !v.is_empty());
        attrs
    }
}

/// A transform-stage rejection of `user` (before duplicate detection).
fn reject(user: &User, (code, message): Reject) -> Prepared {
    Prepared::Rejected(Rejection {
        provenance: user.provenance.clone(),
        source_id: Some(user.source_id.clone()),
        reason: code.to_string(),
        message,
        stage: Stage::Transform,
    })
}

impl Joins {
    /// See [`Transformer::stage`].
    pub(crate) fn stage(&mut self, item: SourceResult) -> Option<Staged> {
        let passed = match item {
            Ok(SourceItem::User(mut user)) => {
                self.users_seen = true;
                if !self.index.is_empty() {
                    self.index.attach(&mut user);
                }
                return Some(Staged::User(user));
            }
            Ok(SourceItem::Membership(m)) => {
                self.memberships += 1;
                if self.users_seen {
                    self.memberships_after_users += 1;
                }
                self.index.add(m);
                return None;
            }
            Err(e) => Passed::Error(e),
            Ok(SourceItem::Role(role)) => Passed::Role(role),
            Ok(SourceItem::Group(group)) => Passed::Group(group),
            Ok(SourceItem::Merged {
                what,
                into,
                provenance,
            }) => Passed::Merged {
                what,
                into,
                provenance,
            },
        };
        Some(Staged::Other(passed))
    }
}

/// Split a full name: `"Last, First"` at the comma (directory style), otherwise the first
/// word is the first name and the rest the last name. Runs of whitespace count as one.
fn split_display_name(display: &str) -> (Option<String>, Option<String>) {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((last, first)) = display.split_once(',') {
        let (first, last) = (words(first), words(last));
        if !first.is_empty() && !last.is_empty() {
            return (Some(first), Some(last));
        }
    }
    let mut parts = display.split_whitespace();
    let first = parts.next().map(str::to_string);
    let rest: Vec<&str> = parts.collect();
    (first, (!rest.is_empty()).then(|| rest.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_split_by_comma_or_first_word() {
        let s = |d: &str| split_display_name(d);
        assert_eq!(
            s("Ada  King Lovelace"),
            (Some("Ada".into()), Some("King Lovelace".into()))
        );
        assert_eq!(
            s("Nguyen, Thi Mai"),
            (Some("Thi Mai".into()), Some("Nguyen".into()))
        );
        assert_eq!(s("Cher"), (Some("Cher".into()), None));
        assert_eq!(s("Prince,"), (Some("Prince,".into()), None));
        assert_eq!(s("   "), (None, None));
    }

    #[test]
    fn namespace_is_the_documented_derivation() {
        assert_eq!(
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"kc-migrate:user-id"),
            USER_ID_NAMESPACE
        );
    }
}
