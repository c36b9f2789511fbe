//! Helpers shared by the integration tests: temp inputs, gzip, running `read`, picking items.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use kcm_model::{Membership, RecordError, Role, SourceItem, SourceResult, User};
use kcm_source_io::{ReadOptions, SourceInputs};

pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

pub fn gz(bytes: impl AsRef<[u8]>) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes.as_ref()).unwrap();
    enc.finish().unwrap()
}

pub fn inputs(users: &[&Path]) -> SourceInputs {
    SourceInputs {
        users: users.iter().map(|p| p.to_path_buf()).collect(),
        ..SourceInputs::default()
    }
}

pub fn run(inputs: &SourceInputs) -> Vec<SourceResult> {
    run_with(inputs, &ReadOptions::default())
}

pub fn run_with(inputs: &SourceInputs, opts: &ReadOptions) -> Vec<SourceResult> {
    match kcm_source_auth0::read(inputs, opts) {
        Ok(stream) => stream.collect(),
        Err(e) => panic!("read failed: {e}"),
    }
}

/// Read one users file given as text.
pub fn users_from(name: &str, text: impl AsRef<[u8]>) -> Vec<SourceResult> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, text);
    run(&inputs(&[&path]))
}

pub fn users(items: &[SourceResult]) -> Vec<&User> {
    items
        .iter()
        .filter_map(|i| match i {
            Ok(SourceItem::User(u)) => Some(&**u),
            _ => None,
        })
        .collect()
}

pub fn user<'a>(items: &'a [SourceResult], id: &str) -> &'a User {
    users(items)
        .into_iter()
        .find(|u| u.source_id == id)
        .unwrap_or_else(|| panic!("no user {id}"))
}

pub fn errors(items: &[SourceResult]) -> Vec<&RecordError> {
    items.iter().filter_map(|i| i.as_ref().err()).collect()
}

pub fn roles(items: &[SourceResult]) -> Vec<&Role> {
    items
        .iter()
        .filter_map(|i| match i {
            Ok(SourceItem::Role(r)) => Some(r),
            _ => None,
        })
        .collect()
}

pub fn memberships(items: &[SourceResult]) -> Vec<&Membership> {
    items
        .iter()
        .filter_map(|i| match i {
            Ok(SourceItem::Membership(m)) => Some(m),
            _ => None,
        })
        .collect()
}

/// `(what, into, line)` of every merged secondary record.
pub fn merged(items: &[SourceResult]) -> Vec<(String, String, u64)> {
    items
        .iter()
        .filter_map(|i| match i {
            Ok(SourceItem::Merged {
                what,
                into,
                provenance,
            }) => Some((what.clone(), into.clone(), provenance.line)),
            _ => None,
        })
        .collect()
}

/// A one-letter trace of the stream: R role, M membership, G group, U user, H merged, E error.
pub fn shape(items: &[SourceResult]) -> String {
    items
        .iter()
        .map(|i| match i {
            Ok(SourceItem::Role(_)) => 'R',
            Ok(SourceItem::Membership(_)) => 'M',
            Ok(SourceItem::Group(_)) => 'G',
            Ok(SourceItem::User(_)) => 'U',
            Ok(SourceItem::Merged { .. }) => 'H',
            Err(_) => 'E',
        })
        .collect()
}

/// `<CARGO_MANIFEST_DIR>/../../../shared`, or `None` (with a printed note) when absent.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared not found ({})", dir.display());
        None
    }
}

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/auth0")
}

pub const BCRYPT_HELLO: &str = "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K";
