//! Shared test fixtures: a hand-built plan (outcomes and the matching summary) and the schema
//! harness.

#![allow(dead_code)]

pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kcm_keycloak_types::{
    CredentialRepresentation, FederatedIdentityRepresentation, UserRepresentation,
};
use kcm_model::Provenance;
use kcm_transform::{
    DuplicateExample, Outcome, PasswordOutcome, PlanSummary, PlannedUser, Rejection, SideKind,
    Stage, UnusableReason,
};

/// A password hash planted in a credential and in a rejection message: it must never come out.
pub const CANARY_HASH: &str = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
/// A secretData value planted in a planned user's credential.
pub const CANARY_SECRET_DATA: &str =
    r#"{"value":"CanarySecretValue0123456789abcdefXYZ=","salt":"c2FsdHNhbHQ="}"#;
/// Fixed time for deterministic output.
pub const GENERATED_AT: &str = "2026-01-02T03:04:05Z";

/// `<CARGO_MANIFEST_DIR>/../../../shared`, or `None` (with the skip line printed).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared not found");
        None
    }
}

fn prov(file: &str, line: u64, record: u64) -> Provenance {
    Provenance::new(Arc::from(file), line, record)
}

fn strings(items: &[&str]) -> Option<Vec<String>> {
    (!items.is_empty()).then(|| items.iter().map(|s| s.to_string()).collect())
}

pub struct UserSpec<'a> {
    pub line: u64,
    pub source_id: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub first: Option<&'a str>,
    pub last: Option<&'a str>,
    pub enabled: bool,
    pub password: PasswordOutcome,
    pub actions: &'a [&'a str],
    pub realm_roles: &'a [&'a str],
    pub client_roles: &'a [(&'a str, &'a str)],
    pub groups: &'a [&'a str],
    pub identity: Option<(&'a str, &'a str)>,
}

pub fn planned(spec: UserSpec<'_>) -> Outcome {
    let credentials = match &spec.password {
        PasswordOutcome::Carried { provider } => Some(vec![CredentialRepresentation {
            type_: Some("password".into()),
            created_date: Some(1_700_000_000_000),
            secret_data: Some(CANARY_SECRET_DATA.into()),
            credential_data: Some(format!(
                r#"{{"hashIterations":10,"algorithm":"{provider}","additionalParameters":{{}}}}"#
            )),
            ..CredentialRepresentation::default()
        }]),
        _ => None,
    };
    let mut client_roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (client, role) in spec.client_roles {
        client_roles
            .entry(client.to_string())
            .or_default()
            .push(role.to_string());
    }
    let user = UserRepresentation {
        id: Some(format!("00000000-0000-5000-8000-{:012}", spec.line)),
        username: Some(spec.username.into()),
        first_name: spec.first.map(str::to_string),
        last_name: spec.last.map(str::to_string),
        email: spec.email.map(str::to_string),
        email_verified: spec.email.map(|_| true),
        enabled: Some(spec.enabled),
        created_timestamp: Some(1_600_000_000_000),
        attributes: Some(BTreeMap::from([(
            "legacy_id".to_string(),
            vec![spec.source_id.to_string()],
        )])),
        credentials,
        required_actions: strings(spec.actions),
        federated_identities: spec.identity.map(|(alias, id)| {
            vec![FederatedIdentityRepresentation {
                identity_provider: Some(alias.into()),
                user_id: Some(id.into()),
                user_name: Some(spec.username.into()),
            }]
        }),
        realm_roles: strings(spec.realm_roles),
        client_roles: (!client_roles.is_empty()).then_some(client_roles),
        groups: strings(spec.groups),
        ..UserRepresentation::default()
    };
    Outcome::Planned(Box::new(PlannedUser {
        source_id: spec.source_id.into(),
        provenance: prov("users.json", spec.line, spec.line),
        user,
        password: spec.password,
        diagnostics: Vec::new(),
    }))
}

fn carried(provider: &str) -> PasswordOutcome {
    PasswordOutcome::Carried {
        provider: provider.into(),
    }
}

fn reset(reason: UnusableReason) -> PasswordOutcome {
    PasswordOutcome::Reset {
        reason,
        message: reason.describe().into(),
    }
}

/// The planned users of the fixture plan.
pub fn planned_users() -> Vec<Outcome> {
    vec![
        planned(UserSpec {
            line: 1,
            source_id: "auth0|ada",
            username: "ada@example.com",
            email: Some("ada@example.com"),
            first: Some("Ada"),
            last: Some("Lovelace"),
            enabled: true,
            password: carried("bcrypt"),
            actions: &[],
            realm_roles: &["staff"],
            client_roles: &[("billing", "payer")],
            groups: &["/staff/eng"],
            identity: None,
        }),
        planned(UserSpec {
            line: 2,
            source_id: "auth0|bob",
            username: "bob.stone",
            email: Some("bob@example.com"),
            first: Some("Bob"),
            last: Some("Stone"),
            enabled: false,
            password: reset(UnusableReason::NoHash),
            actions: &["UPDATE_PASSWORD"],
            realm_roles: &["staff", "offline_access"],
            client_roles: &[("realm-management", "view-users")],
            groups: &["/staff"],
            identity: None,
        }),
        planned(UserSpec {
            line: 3,
            source_id: "auth0|mallory",
            username: "mallory",
            email: Some("mallory@evil.example"),
            first: Some("<script>alert(\"x\")</script>"),
            last: Some("Evil"),
            enabled: true,
            password: reset(UnusableReason::UnknownAlgorithm),
            actions: &["UPDATE_PASSWORD", "VERIFY_EMAIL"],
            realm_roles: &[],
            client_roles: &[],
            groups: &["/R\\/D"],
            identity: None,
        }),
        planned(UserSpec {
            line: 4,
            source_id: "google-oauth2|1234567890",
            username: "carol@gmail.example",
            email: Some("carol@gmail.example"),
            first: Some("Carol"),
            last: None,
            enabled: true,
            password: PasswordOutcome::NotNeeded,
            actions: &[],
            realm_roles: &[],
            client_roles: &[],
            groups: &[],
            identity: Some(("google", "1234567890")),
        }),
        planned(UserSpec {
            line: 5,
            source_id: "auth0|dave",
            username: "dave",
            email: None,
            first: None,
            last: None,
            enabled: true,
            password: carried("pbkdf2-sha256"),
            actions: &[],
            realm_roles: &[],
            client_roles: &[],
            groups: &["/ops/oncall/night"],
            identity: Some(("github", "77")),
        }),
        planned(UserSpec {
            line: 6,
            source_id: "auth0|eve",
            username: "eve",
            email: Some("eve@example.com"),
            first: Some("Eve"),
            last: Some("Adams"),
            enabled: true,
            password: carried("bcrypt"),
            actions: &[],
            realm_roles: &[],
            client_roles: &[],
            groups: &[],
            identity: None,
        }),
    ]
}

/// Every outcome of the fixture plan, in input order, including `Transformer::finish`'s.
pub fn outcomes() -> Vec<Outcome> {
    let mut all = vec![
        Outcome::Side {
            provenance: prov("roles.json", 1, 1),
            kind: SideKind::Role,
            name: "staff".into(),
        },
        Outcome::Side {
            provenance: prov("roles.json", 2, 2),
            kind: SideKind::Role,
            name: "legacy-admin".into(),
        },
        Outcome::Side {
            provenance: prov("groups.json", 1, 1),
            kind: SideKind::Group,
            name: "staff".into(),
        },
    ];
    let mut users = planned_users().into_iter();
    all.extend(users.by_ref().take(2));
    all.push(Outcome::Filtered {
        provenance: prov("users.json", 7, 7),
        source_id: "auth0|blocked".into(),
        rule: "blocked_users".into(),
    });
    all.push(Outcome::Rejected(Rejection {
        provenance: prov("users.json", 8, 8),
        source_id: None,
        reason: "malformed".into(),
        message: "expected `,` or `}` at column 17".into(),
        stage: Stage::Source,
    }));
    all.extend(users.by_ref().take(2));
    all.push(Outcome::Rejected(Rejection {
        provenance: prov("users.json", 9, 9),
        source_id: Some("auth0|ada2".into()),
        reason: "duplicate".into(),
        message: "e-mail `ada@example.com` is already used by the user at users.json:1".into(),
        stage: Stage::Transform,
    }));
    all.push(Outcome::Rejected(Rejection {
        provenance: prov("users.json", 10, 10),
        source_id: Some("auth0|oops".into()),
        reason: "invalid_email".into(),
        // Planted: no stage should ever put a hash in a message; the writer must not pass it on.
        message: format!("e-mail `oops@@example.com` is invalid: hash {CANARY_HASH} looked odd"),
        stage: Stage::Transform,
    }));
    all.extend(users);
    all.push(Outcome::Merged {
        provenance: prov("hashes.json", 1, 1),
        what: "password hash".into(),
        into: "auth0|ada".into(),
    });
    all.push(Outcome::Merged {
        provenance: prov("hashes.json", 2, 2),
        what: "password hash".into(),
        into: "auth0|dave".into(),
    });
    // From Transformer::finish.
    all.push(Outcome::Rejected(Rejection {
        provenance: prov("memberships.csv", 4, 3),
        source_id: None,
        reason: "unmatched".into(),
        message: "group membership `admins` for e-mail `zed@example.org` matched no user".into(),
        stage: Stage::Transform,
    }));
    all
}

fn counts(items: &[(&str, u64)]) -> BTreeMap<String, u64> {
    items.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// The summary the transform would produce for [`outcomes`] (memberships: 3 read, 2
/// attached, 1 unmatched).
pub fn summary() -> PlanSummary {
    let mut s = PlanSummary {
        mapping: "auth0-default".into(),
        source: "auth0".into(),
        realm: "acme".into(),
        records_read: 18,
        users_planned: 6,
        merged: 2,
        enabled: 5,
        disabled: 1,
        ..PlanSummary::default()
    };
    s.filtered.total = 1;
    s.filtered.by_rule = counts(&[("blocked_users", 1)]);
    s.rejected.total = 4;
    s.rejected.by_reason = counts(&[
        ("duplicate", 1),
        ("invalid_email", 1),
        ("malformed", 1),
        ("unmatched", 1),
    ]);
    s.rejected.by_stage = counts(&[("source", 1), ("transform", 3)]);
    s.side_records.roles = 2;
    s.side_records.groups = 1;
    s.side_records.memberships = 3;
    s.side_records.memberships_attached = 2;
    s.side_records.memberships_unmatched = 1;
    s.side_records.total = 5;
    s.duplicates.emails_rejected = 1;
    s.duplicates.examples.push(DuplicateExample {
        kind: "email".into(),
        action: "rejected".into(),
        source_id: "auth0|ada2".into(),
        at: "users.json:9".into(),
        first: "users.json:1".into(),
    });
    s.passwords.carried = counts(&[("bcrypt", 2), ("pbkdf2-sha256", 1)]);
    s.passwords.reset = counts(&[("no_hash", 1), ("unknown_algorithm", 1)]);
    s.passwords.not_needed = 1;
    s.required_actions = counts(&[("UPDATE_PASSWORD", 2), ("VERIFY_EMAIL", 1)]);
    s.realm_roles = counts(&[("offline_access", 1), ("staff", 2)]);
    s.client_roles = BTreeMap::from([
        ("billing".to_string(), counts(&[("payer", 1)])),
        ("realm-management".to_string(), counts(&[("view-users", 1)])),
    ]);
    s.groups = counts(&[
        ("/R\\/D", 1),
        ("/ops/oncall/night", 1),
        ("/staff", 1),
        ("/staff/eng", 1),
    ]);
    s.identities = counts(&[("github", 1), ("google", 1)]);
    s.identities_dropped = counts(&[("samlp", 1)]);
    s.unmapped_roles = counts(&[("legacy-admin", 1)]);
    s.diagnostics = counts(&[("name_dropped", 1)]);
    s
}

/// The personal data present in the fixture, which masked output must not contain.
pub const PERSONAL: &[&str] = &[
    "ada@example.com",
    "Lovelace",
    "bob@example.com",
    "bob.stone",
    "mallory@evil.example",
    "zed@example.org",
    "oops@@example.com",
];

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}
