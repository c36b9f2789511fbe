//! `Transformer::run` on worker threads gives exactly what `push`, item by item, gives: the
//! same outcomes in the same order and the same summary, on a long mixed stream (duplicates,
//! rejections, filtered users, memberships before and after the users, side records).

mod common;

use std::sync::Arc;

use common::*;
use kcm_model::{
    Group, MemberRef, Membership, MembershipKind, Provenance, Reason, RecordError, Role,
    SourceItem, SourceResult,
};
use kcm_transform::{Mapping, Outcome, PlanSummary, TransformOptions, Transformer};

const MAPPING: &str = r#"
[username]
from = ["username", "email"]

[email]
duplicates = "drop-email"
invalid_email = "reject"

[roles]
unmapped = "create"

[groups]
unmapped = "create"

[[groups.rules]]
source = "Eng*"
groups = ["/departments/engineering"]
realm_roles = ["developer"]

[attributes]
legacy_id = "legacy_id"

[[filters]]
name = "suspended"
exclude = { field = "status", equals = "suspended" }
"#;

fn prov(file: &str, line: u64) -> Provenance {
    Provenance::new(Arc::from(file), line, line)
}

fn membership(name: &str, member: MemberRef, line: u64) -> SourceResult {
    Ok(SourceItem::Membership(Membership {
        kind: MembershipKind::Group,
        name: name.into(),
        member,
        provenance: prov("members.csv", line),
    }))
}

/// A deterministic stream of `users` users with every kind of record mixed in.
fn stream(users: u64) -> Vec<SourceResult> {
    let mut items = vec![Ok(SourceItem::Role(Role {
        source_id: None,
        name: "admin".into(),
        description: None,
        provenance: prov("roles.json", 1),
    }))];
    for i in (0..users).step_by(3) {
        let group = ["Engineering", "Sales", "Eng Ops"][(i % 7 % 3) as usize];
        items.push(membership(group, MemberRef::Id(format!("u{i}")), i + 2));
    }
    items.push(membership("Ghosts", MemberRef::Any("nobody".into()), 1));
    for i in 0..users {
        let mut u = user(&format!("u{i}"), i + 2);
        match i % 11 {
            // The same username as an earlier user: rejected as a duplicate.
            1 if i > 23 => u.username = Some(format!("u{}@example.com", i - 23)),
            // The same e-mail as an earlier user (held through that user's username, which
            // is its e-mail): kept without it.
            2 if i > 20 => {
                u.username = Some(format!("dup.{i}"));
                u.email = Some(format!("U{}@example.com", i - 13));
            }
            3 => u.email = Some("not-an-address".into()),
            4 => u.status = "suspended".into(),
            5 => u.username = Some(format!("name.{i}")),
            _ => {}
        }
        items.push(item(u));
        if i % 97 == 0 {
            items.push(Err(RecordError::new(
                prov(USERS_FILE, i + 2),
                Reason::Malformed,
                "expected `,`",
            )));
        }
        if i % 5 == 0 {
            items.push(Ok(SourceItem::Merged {
                what: "password_hash".into(),
                into: format!("u{i}"),
                provenance: prov("hashes.ndjson", i + 1),
            }));
        }
        if i % 400 == 0 {
            // Memberships after some users: for a later user and for nobody.
            items.push(membership("Late", MemberRef::Id(format!("u{}", i + 1)), i));
            items.push(membership("Late", MemberRef::Id(format!("x{i}")), i));
        }
    }
    items.push(Ok(SourceItem::Group(Group {
        source_id: None,
        name: "Engineering".into(),
        parent: None,
        description: None,
        provenance: prov("groups.json", 1),
    })));
    items
}

fn mapping() -> Mapping {
    mapping_for("okta", MAPPING)
}

/// Every outcome as text (credentials are redacted by `Debug`), and the summary as JSON.
fn collect(workers: Option<usize>, items: Vec<SourceResult>) -> (Vec<String>, String) {
    let mut t = Transformer::new(mapping(), TransformOptions::default());
    let mut out = Vec::new();
    let summary: PlanSummary = match workers {
        None => {
            for i in items {
                out.extend(t.push(i).iter().map(|o| format!("{o:?}")));
            }
            let (rest, summary) = t.finish();
            out.extend(rest.iter().map(|o| format!("{o:?}")));
            summary
        }
        Some(n) => t
            .run(items.into_iter(), n, |o: &Outcome| {
                out.push(format!("{o:?}"));
                Ok::<(), ()>(())
            })
            .expect("no error"),
    };
    assert!(summary.is_balanced(), "{summary:?}");
    (out, serde_json::to_string(&summary).unwrap())
}

#[test]
fn workers_give_exactly_the_outcomes_of_push() {
    let users = 5_000;
    let (expected, expected_summary) = collect(None, stream(users));
    let summary: serde_json::Value = serde_json::from_str(&expected_summary).unwrap();
    // The stream really exercises what it should.
    for (path, at_least) in [
        ("/users_planned", 3_000),
        ("/filtered/total", 400),
        ("/duplicates/usernames_rejected", 400),
        ("/duplicates/emails_dropped", 400),
        ("/rejected/by_reason/invalid_email", 400),
        ("/rejected/by_reason/malformed", 50),
        ("/side_records/memberships_after_users", 20),
        ("/side_records/memberships_unmatched", 10),
        ("/merged", 1_000),
    ] {
        let n = summary.pointer(path).and_then(|v| v.as_u64()).unwrap_or(0);
        assert!(n >= at_least, "{path} = {n}, expected at least {at_least}");
    }
    for workers in [0, 1, 2, 5] {
        let (out, summary) = collect(Some(workers), stream(users));
        assert_eq!(out.len(), expected.len(), "{workers} worker(s)");
        if let Some(i) = (0..out.len()).find(|&i| out[i] != expected[i]) {
            panic!(
                "{workers} worker(s): outcome {i} differs:\n{}\nvs\n{}",
                out[i], expected[i]
            );
        }
        assert_eq!(summary, expected_summary, "{workers} worker(s)");
    }
}

#[test]
fn an_error_from_each_stops_the_run_and_every_thread() {
    for workers in [0, 1, 3] {
        let t = Transformer::new(mapping(), TransformOptions::default());
        let mut seen = 0;
        let result = t.run(stream(3_000).into_iter(), workers, |_| {
            seen += 1;
            if seen == 700 {
                Err(format!("disk full after {seen}"))
            } else {
                Ok(())
            }
        });
        assert_eq!(result.unwrap_err(), "disk full after 700");
        assert_eq!(seen, 700, "{workers} worker(s)");
    }
}

#[test]
fn an_empty_stream_and_a_stream_of_memberships_only_finish() {
    for workers in [0, 2] {
        let (out, summary) = collect(Some(workers), Vec::new());
        assert!(out.is_empty());
        assert!(summary.contains("\"records_read\":0"), "{summary}");
        let only = vec![membership("Late", MemberRef::Id("u1".into()), 1)];
        let (out, _) = collect(Some(workers), only);
        assert_eq!(out.len(), 1, "the unmatched membership: {out:?}");
    }
}
