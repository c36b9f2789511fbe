//! The accounting identity on a mixed stream: every record read ends as exactly one planned
//! user, filtered user, rejection, merged record or side record.

mod common;

use std::sync::Arc;

use common::*;
use kcm_model::{
    Group, MemberRef, Membership, MembershipKind, Provenance, Reason, RecordError, Role,
    SourceItem, SourceResult,
};
use kcm_transform::{reason, Outcome, TransformOptions, Transformer};

fn prov(file: &str, line: u64) -> Provenance {
    Provenance::new(Arc::from(file), line, line)
}

fn membership(kind: MembershipKind, name: &str, member: MemberRef, line: u64) -> SourceResult {
    Ok(SourceItem::Membership(Membership {
        kind,
        name: name.into(),
        member,
        provenance: prov("members.csv", line),
    }))
}

const MAPPING: &str = r#"
[roles]
unmapped = "create"

[groups]
unmapped = "create"

[[groups.rules]]
source = "Engineering"
groups = ["/departments/engineering"]

[[filters]]
name = "suspended"
exclude = { field = "status", equals = "SUSPENDED" }
"#;

fn stream() -> Vec<SourceResult> {
    let mut items = vec![
        Ok(SourceItem::Role(Role {
            source_id: Some("rol_1".into()),
            name: "admin".into(),
            description: None,
            provenance: prov("roles.json", 2),
        })),
        Ok(SourceItem::Group(Group {
            source_id: Some("00g1".into()),
            name: "Engineering".into(),
            parent: None,
            description: None,
            provenance: prov("members.csv", 1),
        })),
        membership(MembershipKind::Role, "admin", MemberRef::Id("u1".into()), 2),
        membership(
            MembershipKind::Group,
            "Engineering",
            MemberRef::Email("U2@example.com".into()),
            3,
        ),
        membership(
            MembershipKind::Group,
            "Engineering",
            MemberRef::Login("carol".into()),
            4,
        ),
        membership(
            MembershipKind::Group,
            "Ghosts",
            MemberRef::Any("nobody".into()),
            5,
        ),
        // A membership of a filtered user still attached (and is counted as such).
        membership(MembershipKind::Role, "admin", MemberRef::Id("u4".into()), 6),
    ];
    let u1 = user("u1", 1);
    let u2 = user("u2", 2);
    let mut u3 = user("u3", 3);
    u3.username = Some("carol".into());
    let mut u4 = user("u4", 4);
    u4.status = "SUSPENDED".into();
    let mut u5 = user("u5", 5);
    u5.email = Some("broken@".into());
    let mut u6 = user("u6", 6);
    u6.username = Some("frank".into());
    u6.email = Some("u1@example.com".into()); // duplicate e-mail of u1
    for u in [u1, u2, u3, u4, u5, u6] {
        items.push(item(u));
    }
    items.push(Err(RecordError::new(
        prov("users.ndjson", 7),
        Reason::Malformed,
        "expected `,`",
    )));
    items.push(Ok(SourceItem::Merged {
        what: "password_hash".into(),
        into: "u1".into(),
        provenance: prov("hashes.ndjson", 1),
    }));
    // Late memberships: one for a later user, one for nobody.
    items.push(membership(
        MembershipKind::Role,
        "late",
        MemberRef::Id("u7".into()),
        7,
    ));
    items.push(membership(
        MembershipKind::Role,
        "late",
        MemberRef::Id("u1".into()),
        8,
    ));
    items.push(item(user("u7", 8)));
    items
}

#[test]
fn identity_holds_on_a_mixed_stream() {
    let (out, s) = run_with(
        mapping_for("okta", MAPPING),
        TransformOptions::default(),
        stream(),
    );
    assert_eq!(s.records_read, 18);
    assert_eq!(s.users_planned, 4, "u1, u2, u3, u7");
    assert_eq!(s.filtered.total, 1);
    assert_eq!(s.merged, 1);
    assert_eq!(s.side_records.roles, 1);
    assert_eq!(s.side_records.groups, 1);
    assert_eq!(s.side_records.memberships, 7);
    assert_eq!(s.side_records.memberships_attached, 5);
    assert_eq!(s.side_records.memberships_unmatched, 2);
    assert_eq!(s.side_records.memberships_after_users, 2);
    assert_eq!(s.side_records.total, 7);
    // u5 invalid e-mail, u6 duplicate, one malformed record, two unmatched memberships.
    assert_eq!(s.rejected.total, 5);
    assert_eq!(s.rejected.by_reason.get(reason::UNMATCHED), Some(&2));
    assert_eq!(s.rejected.by_reason.get("malformed"), Some(&1));
    assert_eq!(s.rejected.by_reason.get(reason::DUPLICATE), Some(&1));
    assert_eq!(s.rejected.by_reason.get(reason::INVALID_EMAIL), Some(&1));
    assert_eq!(s.rejected.by_stage.get("source"), Some(&1));
    assert_eq!(s.rejected.by_stage.get("transform"), Some(&4));
    assert!(s.is_balanced());
    assert_eq!(s.records_read, s.accounted());

    // Every outcome is accounted for: outcomes = records - membership rows that attached.
    assert_eq!(
        out.len() as u64,
        s.records_read - s.side_records.memberships_attached
    );

    // Memberships joined their users.
    let by_id = |id: &str| {
        out.iter()
            .find_map(|o| match o {
                Outcome::Planned(p) if p.source_id == id => Some(p.clone()),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(by_id("u1").user.realm_roles.clone().unwrap(), vec!["admin"]);
    assert_eq!(
        by_id("u2").user.groups.clone().unwrap(),
        vec!["/departments/engineering"]
    );
    assert_eq!(
        by_id("u3").user.groups.clone().unwrap(),
        vec!["/departments/engineering"]
    );
    assert_eq!(by_id("u7").user.realm_roles.clone().unwrap(), vec!["late"]);

    let unmatched: Vec<String> = out
        .iter()
        .filter_map(|o| match o {
            Outcome::Rejected(r) if r.reason == reason::UNMATCHED => Some(r.message.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(unmatched.len(), 2);
    assert!(
        unmatched[0].contains("Ghosts") && unmatched[0].contains("nobody"),
        "{unmatched:?}"
    );
    assert!(
        unmatched[1].contains("late") && unmatched[1].contains("u1"),
        "{unmatched:?}"
    );
}

#[test]
fn push_returns_one_outcome_per_record_except_memberships() {
    let mut t = Transformer::new(mapping_for("okta", MAPPING), TransformOptions::default());
    let mut counts = Vec::new();
    for i in stream() {
        counts.push(t.push(i).len());
    }
    assert_eq!(
        counts,
        vec![1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1]
    );
    let (rest, summary) = t.finish();
    assert_eq!(summary.records_read, 18);
    assert_eq!(rest.len(), 2);
    assert!(summary.is_balanced());
}

#[test]
fn summary_serialises_with_stable_field_names() {
    let (_, s) = run_with(
        mapping_for("okta", MAPPING),
        TransformOptions::default(),
        stream(),
    );
    let json = serde_json::to_value(&s).unwrap();
    for key in [
        "mapping",
        "source",
        "realm",
        "records_read",
        "users_planned",
        "filtered",
        "rejected",
        "merged",
        "side_records",
        "duplicates",
        "passwords",
        "enabled",
        "disabled",
        "required_actions",
        "realm_roles",
        "client_roles",
        "groups",
        "identities",
        "identities_dropped",
        "unmapped_roles",
        "unmapped_groups",
        "unknown_statuses",
        "diagnostics",
    ] {
        assert!(json.get(key).is_some(), "summary lacks `{key}`: {json}");
    }
    assert_eq!(json["mapping"], "test.toml");
    assert_eq!(json["source"], "okta");
    assert_eq!(json["filtered"]["by_rule"]["suspended"], 1);
    assert_eq!(json["side_records"]["memberships_unmatched"], 2);
    assert_eq!(json["passwords"]["reset"]["no_hash"], 4);
    assert_eq!(json["duplicates"]["emails_rejected"], 1);
    assert_eq!(json["duplicates"]["examples"][0]["first"], "users.ndjson:1");
    assert_eq!(json["unmapped_roles"]["admin"], 1);
}

#[test]
fn empty_input_balances() {
    let t = Transformer::new(mapping(""), TransformOptions::default());
    let (out, s) = t.finish();
    assert!(out.is_empty());
    assert_eq!((s.records_read, s.accounted()), (0, 0));
    assert_eq!(s.realm, "acme");
}

#[test]
fn many_users_with_deterministic_seeded_mix_balance() {
    // A larger stream mixing every kind of outcome, built from a fixed pattern.
    let mut items = Vec::new();
    for i in 0..2_000u64 {
        let mut u = user(&format!("u{i}"), i + 1);
        u.username = Some(format!("user{i}"));
        match i % 7 {
            0 => u.email = Some(format!("dup{}@example.com", i % 3)),
            1 => u.status = "SUSPENDED".into(),
            2 => u.email = Some("not an email".into()),
            3 => u.username = Some("x".into()),
            _ => {}
        }
        items.push(item(u));
        if i % 50 == 0 {
            items.push(Err(RecordError::new(
                prov("users.ndjson", i),
                Reason::Truncated,
                "cut",
            )));
        }
    }
    let (_, s) = run_with(
        mapping_for("okta", MAPPING),
        TransformOptions::default(),
        items,
    );
    assert_eq!(s.records_read, 2_040);
    assert!(s.is_balanced());
    assert_eq!(s.duplicates.emails_rejected, 286 - 3);
}
