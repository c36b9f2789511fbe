//! Helpers shared by the integration tests: running the source over files or text and
//! locating the shared fixtures and the samples.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use kcm_model::{RecordError, SourceItem, User};
use kcm_source_io::{ReadOptions, SourceError, SourceInputs};

/// Everything one run yielded, split by kind, in order.
#[derive(Debug, Default)]
pub struct Run {
    pub users: Vec<User>,
    pub errors: Vec<RecordError>,
}

impl Run {
    pub fn user(&self, source_id: &str) -> &User {
        self.users
            .iter()
            .find(|u| u.source_id == source_id)
            .unwrap_or_else(|| panic!("no user {source_id} in {:?}", self.ids()))
    }

    pub fn ids(&self) -> Vec<&str> {
        self.users.iter().map(|u| u.source_id.as_str()).collect()
    }

    pub fn codes(&self) -> Vec<String> {
        self.users
            .iter()
            .flat_map(|u| u.diagnostics.iter().map(|d| d.code.clone()))
            .collect()
    }
}

pub fn try_read_files(paths: &[PathBuf], opts: &ReadOptions) -> Result<Run, SourceError> {
    let inputs = SourceInputs {
        users: paths.to_vec(),
        ..SourceInputs::default()
    };
    let stream = kcm_source_firebase::read(&inputs, opts)?;
    let mut run = Run::default();
    for item in stream {
        match item {
            Ok(SourceItem::User(u)) => run.users.push(*u),
            Ok(other) => panic!("a Firebase source yields only users, got {other:?}"),
            Err(e) => run.errors.push(e),
        }
    }
    Ok(run)
}

pub fn read_files(paths: &[PathBuf]) -> Run {
    try_read_files(paths, &ReadOptions::default()).expect("inputs open")
}

/// Write `content` to a file called `name` in a fresh temporary directory and read it.
pub fn read_bytes(name: &str, content: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    read_files(&[path])
}

pub fn read_text(name: &str, content: &str) -> Run {
    read_bytes(name, content.as_bytes())
}

/// `<CARGO_MANIFEST_DIR>/../../../shared`, or `None` (with the skip line printed).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared not found");
        None
    }
}

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/firebase")
}

/// A CSV line in the 52-column (v15.19+) layout: `set` gives (column, raw text) pairs; the
/// exporter's trailing comma is added.
pub fn line52(set: &[(usize, &str)]) -> String {
    line(52, set)
}

/// A CSV line of `columns` columns with the given raw cells and the trailing comma.
pub fn line(columns: usize, set: &[(usize, &str)]) -> String {
    let mut cells = vec![String::new(); columns];
    cells[2] = "false".into();
    for &(i, v) in set {
        cells[i] = v.to_string();
    }
    format!("{},\n", cells.join(","))
}
