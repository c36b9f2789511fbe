//! Test helpers: write inputs to a temporary folder, run the Okta source, split the results.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use kcm_model::{Group, Membership, RecordError, SourceItem, SourceResult, User};
use kcm_source_io::{ReadOptions, SourceError, SourceInputs};

/// A temporary folder holding test inputs.
pub struct Dir(pub tempfile::TempDir);

impl Dir {
    pub fn new() -> Self {
        Dir(tempfile::tempdir().expect("temp dir"))
    }

    pub fn file(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, content).expect("write test input");
        path
    }
}

/// What one run produced, in stream order.
#[derive(Debug, Default)]
pub struct Run {
    pub results: Vec<SourceResult>,
}

impl Run {
    pub fn users(&self) -> Vec<&User> {
        self.results
            .iter()
            .filter_map(|r| match r {
                Ok(SourceItem::User(u)) => Some(u.as_ref()),
                _ => None,
            })
            .collect()
    }

    pub fn user(&self, login: &str) -> &User {
        self.users()
            .into_iter()
            .find(|u| u.username.as_deref() == Some(login))
            .unwrap_or_else(|| panic!("no user {login}: {:#?}", self.results))
    }

    pub fn errors(&self) -> Vec<&RecordError> {
        self.results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .collect()
    }

    pub fn groups(&self) -> Vec<&Group> {
        self.results
            .iter()
            .filter_map(|r| match r {
                Ok(SourceItem::Group(g)) => Some(g),
                _ => None,
            })
            .collect()
    }

    pub fn memberships(&self) -> Vec<&Membership> {
        self.results
            .iter()
            .filter_map(|r| match r {
                Ok(SourceItem::Membership(m)) => Some(m),
                _ => None,
            })
            .collect()
    }
}

pub fn run(inputs: &SourceInputs) -> Result<Run, SourceError> {
    let stream = kcm_source_okta::read(inputs, &ReadOptions::default())?;
    Ok(Run {
        results: stream.collect(),
    })
}

pub fn run_users(files: &[&Path]) -> Run {
    let inputs = SourceInputs {
        users: files.iter().map(|p| p.to_path_buf()).collect(),
        ..SourceInputs::default()
    };
    run(&inputs).expect("inputs open")
}

/// Read a single user file given as text.
pub fn users_from(name: &str, content: &str) -> Run {
    let dir = Dir::new();
    let path = dir.file(name, content);
    run_users(&[&path])
}

pub fn memberships_from(name: &str, content: &str) -> Run {
    let dir = Dir::new();
    let path = dir.file(name, content);
    run(&SourceInputs {
        memberships: Some(path),
        ..SourceInputs::default()
    })
    .expect("membership file opens")
}

/// The fatal error for a user file given as bytes.
pub fn fatal_for(name: &str, content: &[u8]) -> String {
    let dir = Dir::new();
    let path = dir.file(name, content);
    match run(&SourceInputs {
        users: vec![path],
        ..SourceInputs::default()
    }) {
        Ok(run) => panic!("expected a fatal error, got {:#?}", run.results),
        Err(e) => e.to_string(),
    }
}

/// `<CARGO_MANIFEST_DIR>/../../../shared`, or `None` (after saying so) when it is absent.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared not found");
        None
    }
}

/// The repository's `samples/okta` folder.
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/okta")
}

pub fn attr<'a>(user: &'a User, name: &str) -> Option<&'a [String]> {
    user.attributes.get(name).map(Vec::as_slice)
}
