//! Requested counts, file shapes and the Auth0 record size band.

mod common;

use std::collections::{HashMap, HashSet};

use common::{csv_rows, firebase_users, gen, ndjson, read_string, ALL};
use kcm_gen::{names::POOL, Provider};

#[test]
fn files_are_named_like_the_real_exports() {
    let names = |p, gz| {
        let (_d, r) = gen(p, 5, 1, gz);
        r.files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(Provider::Auth0, true),
        ["users.ndjson.gz", "password-hashes.ndjson", "roles.json"]
    );
    assert_eq!(
        names(Provider::Auth0, false),
        ["users.ndjson", "password-hashes.ndjson", "roles.json"]
    );
    assert_eq!(
        names(Provider::Okta, false),
        ["users.csv", "group-memberships.csv"]
    );
    assert_eq!(names(Provider::Firebase, false), ["users.json"]);
}

#[test]
fn report_counts_bytes_on_disk() {
    for provider in ALL {
        let (_d, r) = gen(provider, 50, 3, true);
        for f in &r.files {
            assert_eq!(f.bytes, std::fs::metadata(&f.path).unwrap().len());
        }
        assert_eq!(
            r.total_bytes(),
            r.files.iter().map(|f| f.bytes).sum::<u64>()
        );
        let line = r.summary_line();
        assert!(line.starts_with("kcm-gen: 50 users ("), "{line}");
        assert!(
            line.contains(&format!("{} bytes", r.total_bytes())),
            "{line}"
        );
    }
}

#[test]
fn requested_user_counts_are_written() {
    for n in [0u64, 1, 257] {
        let (_d, r) = gen(Provider::Auth0, n, 4, false);
        assert_eq!(ndjson(&r.files[0].path).len() as u64, n);
        let (_d, r) = gen(Provider::Okta, n, 4, false);
        assert_eq!(csv_rows(&r.files[0].path).len() as u64, n);
        let (_d, r) = gen(Provider::Firebase, n, 4, false);
        assert_eq!(firebase_users(&r.files[0].path).len() as u64, n);
    }
}

#[test]
fn auth0_hash_rows_match_database_users() {
    let (_d, r) = gen(Provider::Auth0, 2_000, 11, false);
    let users = ndjson(&r.files[0].path);
    let hashes = ndjson(&r.files[1].path);
    let db_ids: HashSet<String> = users
        .iter()
        .filter(|u| u["identities"][0]["provider"] == "auth0")
        .map(|u| u["user_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(hashes.len(), db_ids.len());
    let mut alt = 0;
    for row in &hashes {
        let oid = row["_id"]["$oid"].as_str().unwrap();
        assert_eq!(oid.len(), 24);
        let id = match row.get("alt_id") {
            Some(a) => {
                alt += 1;
                format!("auth0|{}", a.as_str().unwrap())
            }
            None => format!("auth0|{oid}"),
        };
        assert!(db_ids.contains(&id), "hash row for unknown user {id}");
        let hash = row["passwordHash"].as_str().unwrap();
        assert!(hash.starts_with("$2b$10$") && hash.len() == 60, "{hash}");
        assert!(row["password_set_date"]["$date"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
        assert_eq!(row["identifiers"][0]["type"], "email");
        assert_eq!(row["connection"], "Username-Password-Authentication");
    }
    assert!(alt > 0, "some rows use alt_id");
}

#[test]
fn auth0_roles_file_lists_each_user_one_to_three_times() {
    let (_d, r) = gen(Provider::Auth0, 3_000, 12, false);
    let users = ndjson(&r.files[0].path);
    let roles: serde_json::Value = serde_json::from_str(&read_string(&r.files[2].path)).unwrap();
    let roles = roles["roles"].as_array().unwrap();
    assert_eq!(roles.len(), POOL.len());
    let mut per_user: HashMap<String, usize> = HashMap::new();
    for role in roles {
        assert!(role["id"].as_str().unwrap().starts_with("rol_"));
        assert!(role["description"].is_string());
        for member in role["users"].as_array().unwrap() {
            *per_user
                .entry(member.as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    assert_eq!(per_user.len(), users.len(), "every user holds a role");
    for u in &users {
        let n = per_user[u["user_id"].as_str().unwrap()];
        assert!((1..=3).contains(&n), "{n} roles");
    }
}

#[test]
fn auth0_records_are_600_to_900_bytes() {
    let (_d, r) = gen(Provider::Auth0, 10_000, 13, false);
    let text = read_string(&r.files[0].path);
    let mut sizes: Vec<usize> = text.lines().map(str::len).collect();
    sizes.sort_unstable();
    let in_band = sizes.iter().filter(|s| (600..=900).contains(*s)).count();
    let median = sizes[sizes.len() / 2];
    let mean = sizes.iter().sum::<usize>() / sizes.len();
    // Linked accounts (two identities, ~4%) run a little larger, as they do for real.
    assert!(
        in_band * 100 >= sizes.len() * 95,
        "{in_band} of {} in band",
        sizes.len()
    );
    assert!((700..=850).contains(&median), "median {median}");
    assert!((650..=900).contains(&mean), "mean {mean}");
    assert!(
        sizes[sizes.len() - 1] < 1_200,
        "max {}",
        sizes[sizes.len() - 1]
    );
}

#[test]
fn okta_csv_has_api_header_and_memberships_name_known_logins() {
    let (_d, r) = gen(Provider::Okta, 1_500, 14, false);
    let text = read_string(&r.files[0].path);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("id,status,created,"));
    for col in ["login", "email", "firstName", "lastName", "department"] {
        assert!(header.split(',').any(|h| h == col), "{col} in {header}");
    }
    let users = csv_rows(&r.files[0].path);
    let logins: HashSet<&str> = users.iter().map(|u| u["login"].as_str()).collect();
    assert_eq!(logins.len(), users.len(), "logins are unique");
    for u in &users {
        assert_eq!(u["id"].len(), 20);
        assert!(u["id"].starts_with("00u"));
    }
    let memberships = read_string(&r.files[1].path);
    assert!(memberships.starts_with("group,login\n"));
    let groups: HashSet<&str> = POOL.iter().map(|p| p.group).collect();
    let rows = csv_rows(&r.files[1].path);
    assert!(rows.len() >= users.len());
    for row in &rows {
        assert!(groups.contains(row["group"].as_str()));
        assert!(logins.contains(row["login"].as_str()));
    }
    // Deactivated users are not in the group-membership report.
    let deprovisioned: HashSet<&str> = users
        .iter()
        .filter(|u| u["status"] == "DEPROVISIONED")
        .map(|u| u["login"].as_str())
        .collect();
    assert!(!deprovisioned.is_empty());
    assert!(rows
        .iter()
        .all(|r| !deprovisioned.contains(r["login"].as_str())));
}

#[test]
fn firebase_export_has_cli_framing_and_field_types() {
    let (_d, r) = gen(Provider::Firebase, 500, 15, false);
    let text = read_string(&r.files[0].path);
    assert!(text.starts_with("{\"users\": [\n{\n  \"localId\": "));
    assert!(text.ends_with("}]}"), "no trailing newline, like the CLI");
    assert!(text.contains("},\n{\n"));
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    for u in firebase_users(&r.files[0].path) {
        assert_eq!(u["localId"].as_str().unwrap().len(), 28);
        assert!(u["createdAt"].as_str().unwrap().parse::<i64>().is_ok());
        let attrs: serde_json::Value =
            serde_json::from_str(u["customAttributes"].as_str().unwrap()).unwrap();
        assert!(!attrs["roles"].as_array().unwrap().is_empty());
        match (u.get("passwordHash"), u.get("salt")) {
            (Some(h), Some(s)) => {
                assert_eq!(b64.decode(h.as_str().unwrap()).unwrap().len(), 64);
                assert_eq!(b64.decode(s.as_str().unwrap()).unwrap().len(), 10);
            }
            (None, None) => assert!(!u["providerUserInfo"].as_array().unwrap().is_empty()),
            other => panic!("hash without salt or the reverse: {other:?}"),
        }
    }
}

#[test]
fn an_unwritable_output_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let err = kcm_gen::generate(&kcm_gen::GenOptions {
        provider: Provider::Okta,
        users: 10,
        seed: 1,
        out_dir: blocker.join("out"),
        gzip: false,
    })
    .unwrap_err();
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}
