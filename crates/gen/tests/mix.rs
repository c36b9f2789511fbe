//! The realistic mix holds at N = 10,000: ~25% social-only, ~3% disabled, ~1% duplicate
//! e-mails, non-ASCII names, one to three roles/groups, every Okta status.

mod common;

use std::collections::{HashMap, HashSet};

use common::{csv_rows, firebase_users, gen, has_non_ascii, ndjson};
use kcm_gen::Provider;

const N: usize = 10_000;

fn share(count: usize) -> f64 {
    count as f64 / N as f64
}

fn assert_between(what: &str, value: f64, lo: f64, hi: f64) {
    assert!(
        (lo..=hi).contains(&value),
        "{what}: {value:.4} not in {lo}..={hi}"
    );
}

fn duplicates<'a>(emails: impl Iterator<Item = &'a str>) -> usize {
    let mut seen = HashSet::new();
    emails.filter(|e| !seen.insert(e.to_lowercase())).count()
}

#[test]
fn auth0_mix() {
    let (_d, r) = gen(Provider::Auth0, N as u64, 21, true);
    let users = ndjson(&r.files[0].path);
    assert_eq!(users.len(), N);
    let social_only = users
        .iter()
        .filter(|u| u["identities"][0]["isSocial"] == true)
        .count();
    let linked = users
        .iter()
        .filter(|u| u["identities"].as_array().unwrap().len() == 2)
        .count();
    let blocked = users.iter().filter(|u| u["blocked"] == true).count();
    let non_ascii = users
        .iter()
        .filter(|u| has_non_ascii(u["name"].as_str().unwrap()))
        .count();
    let dups = duplicates(users.iter().map(|u| u["email"].as_str().unwrap()));
    assert_between("social-only", share(social_only), 0.22, 0.28);
    assert_between("linked", share(linked), 0.02, 0.06);
    assert_between("blocked", share(blocked), 0.02, 0.04);
    assert_between("duplicate e-mails", share(dups), 0.005, 0.015);
    assert_between("non-ASCII names", share(non_ascii), 0.25, 0.75);
    let providers: HashSet<&str> = users
        .iter()
        .filter_map(|u| u["user_id"].as_str()?.split('|').next())
        .collect();
    let expected: HashSet<&str> = ["auth0", "google-oauth2", "github", "apple"].into();
    assert_eq!(providers, expected);
    for name in ["é", "ß", "李", "ö"] {
        assert!(
            users
                .iter()
                .any(|u| u["name"].as_str().unwrap().contains(name)),
            "a name with {name}"
        );
    }
    let hashes = ndjson(&r.files[1].path);
    assert_between("users with a hash", share(hashes.len()), 0.72, 0.78);
}

#[test]
fn okta_mix() {
    let (_d, r) = gen(Provider::Okta, N as u64, 22, false);
    let users = csv_rows(&r.files[0].path);
    let mut statuses: HashMap<&str, usize> = HashMap::new();
    for u in &users {
        *statuses.entry(u["status"].as_str()).or_default() += 1;
    }
    for s in [
        "STAGED",
        "PROVISIONED",
        "ACTIVE",
        "RECOVERY",
        "PASSWORD_EXPIRED",
        "LOCKED_OUT",
        "SUSPENDED",
        "DEPROVISIONED",
    ] {
        assert!(
            statuses.get(s).copied().unwrap_or(0) > 0,
            "status {s} present"
        );
    }
    let disabled = statuses["SUSPENDED"] + statuses["DEPROVISIONED"];
    assert_between("suspended/deactivated", share(disabled), 0.02, 0.04);
    assert_between("active", share(statuses["ACTIVE"]), 0.85, 0.93);
    let dups = duplicates(users.iter().map(|u| u["email"].as_str()));
    assert_between("duplicate e-mails", share(dups), 0.005, 0.015);
    let non_ascii = users
        .iter()
        .filter(|u| has_non_ascii(&u["displayName"]))
        .count();
    assert_between("non-ASCII names", share(non_ascii), 0.25, 0.75);

    let mut groups_per_login: HashMap<String, usize> = HashMap::new();
    for row in csv_rows(&r.files[1].path) {
        *groups_per_login.entry(row["login"].clone()).or_default() += 1;
    }
    assert_eq!(groups_per_login.len(), N - statuses["DEPROVISIONED"]);
    assert!(groups_per_login.values().all(|n| (1..=3).contains(n)));
    let distinct: HashSet<usize> = groups_per_login.values().copied().collect();
    assert_eq!(distinct.len(), 3, "one, two and three groups all occur");
}

#[test]
fn firebase_mix() {
    let (_d, r) = gen(Provider::Firebase, N as u64, 23, false);
    let users = firebase_users(&r.files[0].path);
    let no_hash = users
        .iter()
        .filter(|u| u.get("passwordHash").is_none())
        .count();
    let disabled = users.iter().filter(|u| u["disabled"] == true).count();
    let dups = duplicates(users.iter().map(|u| u["email"].as_str().unwrap()));
    let non_ascii = users
        .iter()
        .filter(|u| has_non_ascii(u["displayName"].as_str().unwrap()))
        .count();
    assert_between("social-only", share(no_hash), 0.22, 0.28);
    assert_between("disabled", share(disabled), 0.02, 0.04);
    assert_between("duplicate e-mails", share(dups), 0.005, 0.015);
    assert_between("non-ASCII names", share(non_ascii), 0.25, 0.75);
    let providers: HashSet<&str> = users
        .iter()
        .flat_map(|u| u["providerUserInfo"].as_array().unwrap())
        .map(|p| p["providerId"].as_str().unwrap())
        .collect();
    let expected: HashSet<&str> = ["google.com", "github.com", "apple.com"].into();
    assert_eq!(providers, expected);
    let roles_counts: HashSet<usize> = users
        .iter()
        .map(|u| {
            let attrs: serde_json::Value =
                serde_json::from_str(u["customAttributes"].as_str().unwrap()).unwrap();
            attrs["roles"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(roles_counts, [1, 2, 3].into());
}
