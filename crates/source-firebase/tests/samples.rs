//! The samples in samples/firebase parse with exactly the counts they were designed with
//! (see samples/firebase/README.md).

mod common;

use std::collections::BTreeMap;

use common::{read_files, samples_dir, Run};

fn sample(name: &str) -> Run {
    let run = read_files(&[samples_dir().join(name)]);
    assert!(run.errors.is_empty(), "{name}: {:?}", run.errors);
    run
}

fn count<'a>(items: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i.to_string()).or_insert(0) += 1;
    }
    m
}

fn providers(run: &Run) -> BTreeMap<String, usize> {
    count(
        run.users
            .iter()
            .flat_map(|u| u.identities.iter().map(|i| i.provider.as_str())),
    )
}

fn summary(run: &Run) -> [usize; 6] {
    let n = |f: &dyn Fn(&kcm_model::User) -> bool| run.users.iter().filter(|u| f(u)).count();
    [
        run.users.len(),
        n(&|u| u.password_hash.is_some()),
        n(&|u| !u.enabled),
        n(&|u| u.email.is_none()),
        n(&|u| u.metadata.contains_key("customAttributes")),
        n(&|u| u.last_login_at.is_none()),
    ]
}

#[test]
fn users_json_has_the_designed_users() {
    let run = sample("users.json");
    // users, hashes, disabled, no e-mail, with claims, never signed in
    assert_eq!(summary(&run), [20, 11, 2, 2, 5, 1]);
    assert_eq!(
        providers(&run),
        BTreeMap::from([
            ("apple.com".to_string(), 1),
            ("github.com".to_string(), 2),
            ("google.com".to_string(), 4),
            ("microsoft.com".to_string(), 1)
        ])
    );
    assert_eq!(run.codes(), vec!["hash_redacted"]);
    assert_eq!(run.users.iter().filter(|u| u.is_social_only()).count(), 6);
    let alice = count(run.users.iter().filter_map(|u| u.email.as_deref()));
    assert_eq!(alice["alice.martin@example.com"], 2);
    assert!(run
        .users
        .iter()
        .any(|u| u.display_name.as_deref() == Some("José  Álvarez")));
    assert!(run.users.iter().any(|u| u.metadata.contains_key("mfaInfo")));
    let claims: Vec<String> = run
        .users
        .iter()
        .filter_map(|u| u.metadata.get("customAttributes"))
        .map(|c| c.to_string())
        .collect();
    assert!(
        claims.contains(&r#"{"role":"admin"}"#.to_string())
            && claims.contains(&r#"{"roles":["editor","viewer"]}"#.to_string())
    );
    // CRLF throughout: each user starts two lines after the previous one ends.
    assert_eq!(
        (
            run.users[1].provenance.line,
            run.users[19].provenance.record
        ),
        (15, 20)
    );
}

#[test]
fn users_csv_has_the_designed_users() {
    let run = sample("users.csv");
    assert_eq!(summary(&run), [8, 4, 1, 1, 2, 1]);
    assert_eq!(
        providers(&run),
        BTreeMap::from([
            ("apple.com".to_string(), 1),
            ("google.com".to_string(), 1),
            ("microsoft.com".to_string(), 1)
        ])
    );
    let names: Vec<&str> = run
        .users
        .iter()
        .filter_map(|u| u.display_name.as_deref())
        .collect();
    assert!(
        names.contains(&"Nguyen, Thi Mai") && names.contains(&r#"Robert "Bobby" Tables"#),
        "{names:?}"
    );
    assert!(run.codes().is_empty());
}

#[test]
fn users_2019_csv_has_the_designed_users() {
    let run = sample("users-2019.csv");
    assert_eq!(summary(&run), [6, 5, 1, 0, 2, 0]);
    assert_eq!(
        providers(&run),
        BTreeMap::from([("google.com".to_string(), 1)])
    );
    assert_eq!(
        run.users[0].metadata["customAttributes"]["teams"],
        serde_json::json!(["red", "blue"])
    );
    assert_eq!(run.users[1].display_name.as_deref(), Some("Doe, Jane"));
    assert_eq!(
        run.users[2].display_name.as_deref(),
        Some(r#"Brown, Emmett "Doc""#)
    );
    assert_eq!(run.codes(), vec!["csv_columns_repaired"]);
    assert_eq!(
        run.users[5].metadata["customAttributes"]["nickname"],
        "The \"Boss\""
    );
}

#[test]
fn emulator_accounts_json_has_the_designed_users() {
    let run = sample("emulator-accounts.json");
    assert_eq!(summary(&run), [5, 0, 0, 2, 1, 0]);
    assert_eq!(
        providers(&run),
        BTreeMap::from([("google.com".to_string(), 1)])
    );
    assert_eq!(
        run.codes(),
        vec!["hash_fake_emulator", "hash_fake_emulator"]
    );
    assert!(run
        .users
        .iter()
        .all(|u| u.metadata.contains_key("validSince")));
}

#[test]
fn all_samples_together() {
    let dir = samples_dir();
    let paths: Vec<_> = [
        "users.json",
        "users.csv",
        "users-2019.csv",
        "emulator-accounts.json",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    let run = read_files(&paths);
    assert_eq!((run.users.len(), run.errors.len()), (39, 0));
}
