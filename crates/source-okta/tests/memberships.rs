//! Group-membership files: every header variant, the file-stem rule, the API JSON body,
//! stream order.

mod common;

use common::{memberships_from, run, Dir};
use kcm_model::{MemberRef, MembershipKind, Reason, SourceItem};
use kcm_source_io::SourceInputs;

fn summary(run: &common::Run) -> Vec<String> {
    run.results
        .iter()
        .map(|r| match r {
            Ok(SourceItem::Group(g)) => format!("group {}", g.name),
            Ok(SourceItem::Membership(m)) => format!("{} <- {:?}", m.name, m.member),
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("error {} {}", e.provenance.line, e.reason),
        })
        .collect()
}

#[test]
fn each_group_header_variant_names_the_group() {
    for header in [
        "group",
        "Group",
        "group name",
        "Group Name",
        "groupName",
        "group_name",
    ] {
        let run = memberships_from("m.csv", &format!("{header},login\nEngineering,ada\n"));
        assert_eq!(
            summary(&run),
            ["group Engineering", "Engineering <- Login(\"ada\")"],
            "{header}"
        );
    }
}

#[test]
fn each_user_header_variant_gives_its_member_kind() {
    let cases = [
        ("login", MemberRef::Login("v".into())),
        ("username", MemberRef::Login("v".into())),
        ("Username", MemberRef::Login("v".into())),
        ("profile.login", MemberRef::Login("v".into())),
        ("email", MemberRef::Email("v".into())),
        ("Primary email", MemberRef::Email("v".into())),
        ("user id", MemberRef::Id("v".into())),
        ("userId", MemberRef::Id("v".into())),
        ("id", MemberRef::Id("v".into())),
        ("user", MemberRef::Any("v".into())),
    ];
    for (header, member) in cases {
        let run = memberships_from("m.csv", &format!("group,{header}\nOps,v\n"));
        let m = run.memberships();
        assert_eq!(m.len(), 1, "{header}");
        assert_eq!(m[0].member, member, "{header}");
        assert_eq!(m[0].kind, MembershipKind::Group);
    }
}

#[test]
fn group_id_column_is_the_group_source_id_or_its_name_when_alone() {
    let both = memberships_from(
        "m.csv",
        "group id,group name,group description,login\n00g1,Sales,\"Sales, worldwide\",ada\n",
    );
    let g = both.groups()[0];
    assert_eq!(
        (g.name.as_str(), g.source_id.as_deref()),
        ("Sales", Some("00g1"))
    );
    assert_eq!(g.description.as_deref(), Some("Sales, worldwide"));

    let id_only = memberships_from("m.csv", "groupId,login\n00g2,ada\n");
    assert_eq!(summary(&id_only), ["group 00g2", "00g2 <- Login(\"ada\")"]);
}

#[test]
fn login_is_preferred_over_email_over_id_per_row() {
    let run = memberships_from(
        "m.csv",
        "userId,email,login,group\n00u1,a@example.com,ada,G\n00u2,b@example.com,,G\n00u3,,,G\n,,,G\n",
    );
    let members: Vec<_> = run.memberships().iter().map(|m| m.member.clone()).collect();
    assert_eq!(
        members,
        [
            MemberRef::Login("ada".into()),
            MemberRef::Email("b@example.com".into()),
            MemberRef::Id("00u3".into()),
        ]
    );
    let e = run.errors()[0];
    assert_eq!((e.provenance.line, e.reason), (5, Reason::MissingField));
}

#[test]
fn each_group_is_announced_once_before_its_first_membership() {
    let run = memberships_from(
        "m.csv",
        "group,login\nEng,a\nOps,b\nEng,c\n\"Sales, EMEA\",d\nÉquipe Paris,e\n",
    );
    assert_eq!(
        summary(&run),
        [
            "group Eng",
            "Eng <- Login(\"a\")",
            "group Ops",
            "Ops <- Login(\"b\")",
            "Eng <- Login(\"c\")",
            "group Sales, EMEA",
            "Sales, EMEA <- Login(\"d\")",
            "group Équipe Paris",
            "Équipe Paris <- Login(\"e\")",
        ]
    );
    let lines: Vec<_> = run
        .memberships()
        .iter()
        .map(|m| m.provenance.line)
        .collect();
    assert_eq!(lines, [2, 3, 4, 5, 6]);
}

#[test]
fn rockstar_group_member_export_takes_the_group_from_the_file_stem() {
    let dir = Dir::new();
    let path = dir.file(
        "Engineering.csv",
        "id,login,firstName,lastName,status\n\"00u1\",\"ada@example.com\",\"Ada\",\"Lovelace\",\"ACTIVE\"\n\"00u2\",\"alan\",\"Alan\",\"Turing\",\"PROVISIONED\"\n",
    );
    let run = run(&SourceInputs {
        memberships: Some(path),
        ..SourceInputs::default()
    })
    .unwrap();
    assert_eq!(
        summary(&run),
        [
            "group Engineering",
            "Engineering <- Login(\"ada@example.com\")",
            "Engineering <- Login(\"alan\")",
        ]
    );
}

#[test]
fn api_group_members_body_takes_the_group_from_the_file_stem() {
    let run = memberships_from(
        "Support Team.json",
        r#"[{"id":"00u1","status":"ACTIVE","profile":{"login":"ada","email":"ada@example.com"}},
            {"id":"00u2","status":"ACTIVE","profile":{"email":"bob@example.com"}},
            {"id":"00u3","status":"ACTIVE","profile":{}},
            {"status":"ACTIVE"}]"#,
    );
    assert_eq!(
        summary(&run),
        [
            "group Support Team",
            "Support Team <- Login(\"ada\")",
            "Support Team <- Email(\"bob@example.com\")",
            "Support Team <- Id(\"00u3\")",
            "error 4 missing_field",
        ]
    );
}

#[test]
fn api_group_objects_are_read_as_group_definitions() {
    let run = memberships_from(
        "groups.json",
        r#"[{"id":"00g1","type":"BUILT_IN","profile":{"name":"Everyone","description":"All users"}},
            {"id":"00g2","type":"OKTA_GROUP","profile":{"name":"Eng","description":""}}]"#,
    );
    let groups: Vec<_> = run
        .groups()
        .iter()
        .map(|g| (g.source_id.clone(), g.name.clone(), g.description.clone()))
        .collect();
    assert_eq!(
        groups,
        [
            (
                Some("00g1".into()),
                "Everyone".into(),
                Some("All users".into())
            ),
            (Some("00g2".into()), "Eng".into(), None),
        ]
    );
}

#[test]
fn memberships_stream_before_users() {
    let dir = Dir::new();
    let users = dir.file("users.csv", "id,login\n00u1,ada\n");
    let memberships = dir.file("m.csv", "group,login\nEng,ada\n");
    let run = run(&SourceInputs {
        users: vec![users],
        memberships: Some(memberships),
        ..SourceInputs::default()
    })
    .unwrap();
    let kinds: Vec<_> = run
        .results
        .iter()
        .map(|r| match r {
            Ok(SourceItem::Group(_)) => "group",
            Ok(SourceItem::Membership(_)) => "membership",
            Ok(SourceItem::User(_)) => "user",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["group", "membership", "user"]);
}

#[test]
fn a_membership_csv_without_a_user_column_is_fatal_and_lists_the_columns() {
    let dir = Dir::new();
    let path = dir.file("m.csv", "group,member\nEng,ada\n");
    let err = run(&SourceInputs {
        memberships: Some(path),
        ..SourceInputs::default()
    })
    .expect_err("fatal");
    let msg = err.to_string();
    assert!(
        msg.contains("m.csv")
            && msg.contains("no user column")
            && msg.contains("`group`, `member`"),
        "{msg}"
    );
}

#[test]
fn duplicate_membership_columns_are_fatal() {
    let dir = Dir::new();
    let path = dir.file("m.csv", "group,Group Name,login\nEng,Eng,ada\n");
    let err = run(&SourceInputs {
        memberships: Some(path),
        ..SourceInputs::default()
    })
    .expect_err("fatal");
    assert!(
        err.to_string()
            .contains("`group` (column 1) and `Group Name` (column 2)"),
        "{err}"
    );
}

#[test]
fn a_bad_membership_row_does_not_stop_the_rest() {
    let run = memberships_from("m.csv", "group,login\nEng,a\nEng,b,extra\n,c\nOps,d\n");
    assert_eq!(
        summary(&run),
        [
            "group Eng",
            "Eng <- Login(\"a\")",
            "error 3 malformed",
            "error 4 missing_field",
            "group Ops",
            "Ops <- Login(\"d\")",
        ]
    );
}
