//! Shared helpers for the transform's integration tests: hand-built users, mappings from
//! snippets, and running a stream through a transformer.

#![allow(dead_code)]

use std::sync::Arc;

use kcm_model::{LinkedIdentity, Provenance, SourceItem, SourceResult, User};
use kcm_transform::{
    Mapping, Outcome, PlanSummary, PlannedUser, Rejection, TransformOptions, Transformer,
};

pub const USERS_FILE: &str = "users.ndjson";

/// A mapping for `source` with `body` appended after `source`/`realm`.
pub fn mapping_for(source: &str, body: &str) -> Mapping {
    let text = format!("source = \"{source}\"\nrealm = \"acme\"\n{body}");
    Mapping::from_str(&text, "test.toml")
        .unwrap_or_else(|e| panic!("mapping does not compile: {e}\n{text}"))
}

pub fn mapping(body: &str) -> Mapping {
    mapping_for("auth0", body)
}

/// `id` with every character an e-mail local part may not hold replaced by `-`.
pub fn mailbox(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// An active user with an e-mail, at line `line` of the users file.
pub fn user(id: &str, line: u64) -> User {
    User {
        source_id: id.to_string(),
        email: Some(format!("{}@example.com", mailbox(id))),
        email_verified: Some(true),
        enabled: true,
        status: "active".into(),
        provenance: Provenance::new(Arc::from(USERS_FILE), line, line),
        ..User::default()
    }
}

pub fn identity(provider: &str, user_id: &str) -> LinkedIdentity {
    LinkedIdentity {
        provider: provider.into(),
        user_id: user_id.into(),
        connection: None,
        username: None,
        email: None,
        primary: true,
    }
}

pub fn item(u: User) -> SourceResult {
    Ok(SourceItem::User(Box::new(u)))
}

/// Run `items` through a fresh transformer; returns every outcome (push, then finish).
pub fn run_with(
    mapping: Mapping,
    opts: TransformOptions,
    items: Vec<SourceResult>,
) -> (Vec<Outcome>, PlanSummary) {
    let mut t = Transformer::new(mapping, opts);
    let mut out = Vec::new();
    for i in items {
        out.extend(t.push(i));
    }
    let (rest, summary) = t.finish();
    out.extend(rest);
    assert!(
        summary.is_balanced(),
        "accounting identity broken: read {} vs accounted {}: {summary:#?}",
        summary.records_read,
        summary.accounted()
    );
    (out, summary)
}

pub fn run(mapping: Mapping, users: Vec<User>) -> (Vec<Outcome>, PlanSummary) {
    run_with(
        mapping,
        TransformOptions::default(),
        users.into_iter().map(item).collect(),
    )
}

/// Transform one user and return its single outcome.
pub fn one(mapping: Mapping, u: User) -> Outcome {
    let (mut out, _) = run(mapping, vec![u]);
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0)
}

pub fn planned(o: &Outcome) -> &PlannedUser {
    match o {
        Outcome::Planned(p) => p,
        other => panic!("expected a planned user, got {other:?}"),
    }
}

pub fn rejected(o: &Outcome) -> &Rejection {
    match o {
        Outcome::Rejected(r) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

pub fn plan_one(mapping: Mapping, u: User) -> PlannedUser {
    planned(&one(mapping, u)).clone()
}

/// The required actions of a planned user (empty when none).
pub fn actions(p: &PlannedUser) -> Vec<String> {
    p.user.required_actions.clone().unwrap_or_default()
}

pub fn attr(p: &PlannedUser, name: &str) -> Option<Vec<String>> {
    p.user
        .attributes
        .as_ref()
        .and_then(|a| a.get(name).cloned())
}
