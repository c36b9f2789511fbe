//! The bundled samples in samples/okta parse to exactly the designed counts.

mod common;

use std::collections::BTreeMap;

use common::{attr, run, samples_dir};
use kcm_model::{MemberRef, Reason};
use kcm_source_io::SourceInputs;
use serde_json::json;

fn all_samples() -> common::Run {
    let dir = samples_dir();
    run(&SourceInputs {
        users: vec![
            dir.join("users.csv"),
            dir.join("users-api-columns.csv"),
            dir.join("users.json"),
        ],
        memberships: Some(dir.join("group-memberships.csv")),
        ..SourceInputs::default()
    })
    .expect("samples open")
}

#[test]
fn samples_give_the_designed_totals() {
    let run = all_samples();
    assert_eq!(run.users().len(), 35);
    assert_eq!(run.groups().len(), 5);
    assert_eq!(run.memberships().len(), 16);
    assert_eq!(run.results.len(), 35 + 5 + 16 + 1);

    let errors = run.errors();
    assert_eq!(errors.len(), 1);
    let e = errors[0];
    assert!(e.provenance.file.ends_with("users.csv"));
    assert_eq!(
        (e.provenance.line, e.provenance.record, e.reason),
        (9, 8, Reason::Malformed)
    );

    let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
    for u in run.users() {
        *statuses.entry(u.status.as_str()).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("ACTIVATING", 1),
        ("ACTIVE", 11),
        ("DEPROVISIONED", 3),
        ("LOCKED_OUT", 3),
        ("PASSWORD_EXPIRED", 4),
        ("PROVISIONED", 4),
        ("RECOVERY", 3),
        ("STAGED", 3),
        ("SUSPENDED", 3),
    ]
    .into_iter()
    .collect();
    assert_eq!(statuses, expected);
    assert_eq!(run.users().iter().filter(|u| !u.enabled).count(), 6);
    assert!(run.users().iter().all(|u| u.password_hash.is_none()));

    let per_file = |name: &str| {
        run.users()
            .iter()
            .filter(|u| u.provenance.file.ends_with(name))
            .count()
    };
    assert_eq!(
        (
            per_file("users.csv"),
            per_file("users-api-columns.csv"),
            per_file("users.json")
        ),
        (13, 12, 10)
    );
}

#[test]
fn samples_memberships_come_first_with_each_member_kind() {
    let run = all_samples();
    let first_user = run
        .results
        .iter()
        .position(|r| matches!(r, Ok(kcm_model::SourceItem::User(_))))
        .unwrap();
    assert_eq!(first_user, 21, "5 groups and 16 memberships stream first");
    let groups: Vec<_> = run
        .groups()
        .iter()
        .map(|g| (g.name.clone(), g.source_id.clone()))
        .collect();
    assert_eq!(
        groups,
        [
            (
                "Engineering".to_string(),
                Some("00g1eng1neer1ngx7".to_string())
            ),
            ("Sales, EMEA".into(), Some("00g1s4l3s3m34x7".into())),
            ("Équipe Paris".into(), Some("00g1p4r1sx7".into())),
            ("Research".into(), Some("00g1r3s34rchx7".into())),
            ("IT Operations".into(), Some("00g1it0psx7".into())),
        ]
    );
    let memberships = run.memberships();
    let logins = memberships
        .iter()
        .filter(|m| matches!(m.member, MemberRef::Login(_)))
        .count();
    assert_eq!(logins, 14);
    assert_eq!(
        memberships[6].member,
        MemberRef::Email("chloe.dubois@corp.example".into())
    );
    assert_eq!(
        memberships[7].member,
        MemberRef::Id("00u2pr0v1s1onx7".into())
    );
}

#[test]
fn samples_rockstar_csv_traps() {
    let run = all_samples();
    let jose = run.user("jose.alvarez@ventas.example");
    assert_eq!(
        (jose.status.as_str(), jose.first_name.as_deref()),
        ("RECOVERY", Some("José"))
    );
    assert_eq!(
        attr(jose, "department"),
        Some(&["Ventas, Iberia".to_string()][..])
    );
    assert_eq!(
        run.user("alan.turing@bletchley.example").status,
        "PROVISIONED"
    );
    assert_eq!(
        run.user("taro.yamada@tokyo.example")
            .display_name
            .as_deref(),
        Some("山田 太郎")
    );
    let margaret = run.user("margaret.hamilton@apollo.example");
    assert_eq!(
        (margaret.status.as_str(), margaret.enabled),
        ("DEPROVISIONED", false)
    );
    assert_eq!(
        attr(run.user("rosalind.franklin@kings.example"), "title"),
        Some(&["Director of \"Special\" Projects".to_string()][..])
    );
    let mae = run.user("mae.jemison@endeavour.example");
    assert_eq!(
        attr(mae, "postalAddress"),
        Some(&["1 Launch Pad Road\nSuite 200\nHouston, TX 77058".to_string()][..])
    );
    assert_eq!(mae.provenance.line, 12);
    assert_eq!(run.user("kjohnson").provenance.line, 15);
    let grace = run.user("ghopper@corp.example");
    assert_eq!(grace.email.as_deref(), Some("grace.hopper@navy.example"));
    assert_eq!(grace.last_login_at, None);
    assert_eq!(
        run.user("dorothy.vaughan@langley.example").status,
        "PASSWORD_EXPIRED"
    );
}

#[test]
fn samples_api_column_csv_traps() {
    let run = all_samples();
    let hire = run.user("new.hire@corp.example");
    assert_eq!(hire.status, "STAGED");
    assert!(
        !hire.attributes.contains_key("secondEmail"),
        "\"\" is empty"
    );
    assert_eq!(attr(hire, "badgeNumber"), Some(&["4711".to_string()][..]));
    assert!(hire
        .diagnostics
        .iter()
        .any(|d| d.code == "okta_imported_password_not_exported"));
    let jdoe = run.user("jdoe");
    assert_eq!(jdoe.email.as_deref(), Some("john.doe@corp.example"));
    assert_eq!(jdoe.display_name.as_deref(), Some("Johnny \"JD\" Doe"));
    assert_eq!(jdoe.phone.as_deref(), Some("+1 312 555 0199"));
    assert_eq!(
        jdoe.metadata["passwordChanged"],
        json!("2024-02-01T10:00:00.000Z")
    );
    assert_eq!(
        attr(run.user("omar.haddad@corp.example"), "preferredShift"),
        Some(&["early, late".to_string()][..])
    );
    assert_eq!(
        attr(run.user("former.employee@corp.example"), "employeeNumber"),
        Some(&["09999".to_string()][..])
    );
    assert_eq!(run.user("sam.okafor@corp.example").status, "ACTIVATING");
    assert_eq!(
        run.user("ansel.adams@corp.example").metadata["credentials"],
        json!({"provider": {"type": "ACTIVE_DIRECTORY"}})
    );
    // The same user exported in two files: both kept, the transform deals with duplicates.
    let hedy: Vec<_> = run
        .users()
        .into_iter()
        .filter(|u| u.username.as_deref() == Some("hedy.lamarr@films.example"))
        .collect();
    assert_eq!(hedy.len(), 2);
    assert_eq!(hedy[0].source_id, hedy[1].source_id);
    assert_ne!(hedy[0].provenance.file, hedy[1].provenance.file);
}

#[test]
fn samples_users_json_traps() {
    let run = all_samples();
    let soren = run.user("soren.kierkegaard@acme.example");
    assert_eq!(soren.email_verified, Some(true));
    assert_eq!(attr(soren, "clearanceLevel"), Some(&["3".to_string()][..]));
    assert_eq!(
        attr(soren, "projects"),
        Some(&["Either/Or".to_string(), "Fear and Trembling".to_string()][..])
    );
    let an = run.user("an.nguyen");
    assert_eq!(an.email_verified, Some(false));
    assert_eq!(an.display_name.as_deref(), Some("Nguyễn Văn An"));
    assert!(!an.attributes.contains_key("projects") && !an.attributes.contains_key("secondEmail"));
    let imani = run.user("imani.okoye@acme.example");
    assert!(
        !imani.attributes.contains_key("clearanceLevel"),
        "null is no value"
    );
    assert!(imani
        .diagnostics
        .iter()
        .any(|d| d.code == "okta_imported_password_not_exported"));
    assert_eq!(
        attr(run.user("chidi@acme.example"), "clearanceLevel"),
        Some(&["2.5".to_string()][..])
    );
    assert_eq!(
        run.user("chidi@acme.example").email.as_deref(),
        Some("chidi.anagonye@acme.example")
    );
    let pat = run.user("pat.leaver@acme.example");
    assert_eq!((pat.status.as_str(), pat.enabled), ("DEPROVISIONED", false));
    assert_eq!(
        run.user("ravi.shankar@acme.example").metadata["transitioningToStatus"],
        json!("ACTIVE")
    );
    assert_eq!(
        run.user("ingrid.bergman@acme.example").phone.as_deref(),
        Some("+46 8 000 000 00")
    );
}
