//! Generated files read back through each source crate's `read`: every user comes back,
//! nothing is rejected, hashes merge, roles and memberships resolve.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::gen;
use kcm_gen::{names::POOL, Provider};
use kcm_model::{SourceItem, SourceResult};
use kcm_source_io::{ReadOptions, SourceInputs, SourceStream};

#[derive(Debug, Default)]
struct Tally {
    users: u64,
    roles: u64,
    groups: u64,
    memberships: u64,
    merged: u64,
    rejected: BTreeMap<String, u64>,
    with_hash: u64,
    social_only: u64,
    disabled: u64,
}

fn tally(stream: SourceStream) -> Tally {
    let mut t = Tally::default();
    for item in stream {
        let item: SourceResult = item;
        match item {
            Ok(SourceItem::User(u)) => {
                t.users += 1;
                t.with_hash += u64::from(u.password_hash.is_some());
                t.social_only += u64::from(u.is_social_only());
                t.disabled += u64::from(!u.enabled);
            }
            Ok(SourceItem::Role(_)) => t.roles += 1,
            Ok(SourceItem::Group(_)) => t.groups += 1,
            Ok(SourceItem::Membership(_)) => t.memberships += 1,
            Ok(SourceItem::Merged { .. }) => t.merged += 1,
            Err(e) => {
                *t.rejected
                    .entry(format!("{}: {}", e.reason, e.message))
                    .or_default() += 1
            }
        }
    }
    t
}

fn inputs(dir: &Path, users: &str) -> SourceInputs {
    SourceInputs {
        users: vec![dir.join(users)],
        ..SourceInputs::default()
    }
}

const N: u64 = 3_000;

#[test]
fn auth0_files_read_back_cleanly() {
    let (dir, report) = gen(Provider::Auth0, N, 31, true);
    let hash_rows = common::ndjson(&report.files[1].path).len() as u64;
    let mut inp = inputs(dir.path(), "users.ndjson.gz");
    inp.hashes = Some(dir.path().join("password-hashes.ndjson"));
    inp.roles = Some(dir.path().join("roles.json"));
    let t = tally(kcm_source_auth0::read(&inp, &ReadOptions::default()).unwrap());
    assert!(t.rejected.is_empty(), "{:?}", t.rejected);
    assert_eq!(t.users, N);
    assert_eq!(t.merged, hash_rows);
    assert_eq!(t.with_hash, hash_rows);
    assert_eq!(t.roles, POOL.len() as u64);
    assert!(t.memberships >= N && t.memberships <= 3 * N);
    assert!(t.social_only > N / 5 && t.social_only < N * 3 / 10, "{t:?}");
    assert!(t.disabled > 0);
}

#[test]
fn okta_files_read_back_cleanly() {
    let (dir, report) = gen(Provider::Okta, N, 32, true);
    let rows = common::csv_rows(&report.files[1].path).len() as u64;
    let mut inp = inputs(dir.path(), "users.csv.gz");
    inp.memberships = Some(dir.path().join("group-memberships.csv"));
    let t = tally(kcm_source_okta::read(&inp, &ReadOptions::default()).unwrap());
    assert!(t.rejected.is_empty(), "{:?}", t.rejected);
    assert_eq!(t.users, N);
    assert_eq!(t.memberships, rows);
    assert_eq!(t.with_hash, 0, "Okta never exports hashes");
    assert!(t.disabled > 0);
}

#[test]
fn firebase_file_reads_back_cleanly() {
    let (dir, _report) = gen(Provider::Firebase, N, 33, false);
    let t = tally(
        kcm_source_firebase::read(&inputs(dir.path(), "users.json"), &ReadOptions::default())
            .unwrap(),
    );
    assert!(t.rejected.is_empty(), "{:?}", t.rejected);
    assert_eq!(t.users, N);
    assert!(t.with_hash > N * 7 / 10, "{t:?}");
    assert!(t.social_only > N / 5 && t.social_only < N * 3 / 10, "{t:?}");
    assert!(t.disabled > 0);
}
