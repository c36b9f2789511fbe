//! Helpers shared by the generator's integration tests.
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;

use kcm_gen::{generate, GenOptions, GenReport, Provider};
use tempfile::TempDir;

pub const ALL: [Provider; 3] = [Provider::Auth0, Provider::Okta, Provider::Firebase];

/// Generate into a fresh temp dir.
pub fn gen(provider: Provider, users: u64, seed: u64, gzip: bool) -> (TempDir, GenReport) {
    let dir = tempfile::tempdir().unwrap();
    let report = generate(&GenOptions {
        provider,
        users,
        seed,
        out_dir: dir.path().to_path_buf(),
        gzip,
    })
    .unwrap();
    (dir, report)
}

/// A file's bytes, gunzipped when its name ends in `.gz`.
pub fn read(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

pub fn read_string(path: &Path) -> String {
    String::from_utf8(read(path)).unwrap()
}

/// Parse every line of an NDJSON file.
pub fn ndjson(path: &Path) -> Vec<serde_json::Value> {
    read_string(path)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Rows of a CSV file as header-keyed maps.
pub fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let bytes = read(path);
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The user objects of a Firebase export.
pub fn firebase_users(path: &Path) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&read(path)).unwrap();
    v["users"].as_array().unwrap().clone()
}

pub fn has_non_ascii(s: &str) -> bool {
    !s.is_ascii()
}
