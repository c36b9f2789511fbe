//! Export for `kc.sh import --dir`: users streamed into `<realm>-users-<N>.json` files of a
//! fixed number of users each, then `<realm>-realm.json` with the roles, clients and groups
//! those users refer to (keycloak-target.md §7).
//!
//! Keycloak's rules that shape the files: a users file must be exactly
//! `{"realm": "<realm>", "users": [...]}` (any other top-level key makes Keycloak stop reading
//! it and silently drop the remaining users); only files named `<realm>-realm.json` and
//! `<realm>-users-<N>.json` are read, in no guaranteed order; every group a user belongs to
//! and every client named in its `clientRoles` must exist in the realm file; usernames
//! starting with `service-account-` are skipped by the import.
//!
//! Import on the Keycloak host, with the server stopped:
//!
//! ```text
//! bin/kc.sh import --dir <export dir>                   # --override true is the default:
//!                                                       # an existing realm of that name is
//!                                                       # DELETED with all its users, then re-created
//! bin/kc.sh import --dir <export dir> --override false  # an existing realm is left alone
//!                                                       # (and its users files are skipped)
//! ```
//!
//! `kc.sh import` is therefore for a new (or disposable) realm; to add users to a live realm
//! use the Keycloak sink instead.

mod realm;

use std::fs;
use std::path::{Path, PathBuf};

use kcm_keycloak_types::UserRepresentation;

pub use realm::{
    is_builtin_client, is_builtin_realm_role, RealmContents, RealmSettings, BUILTIN_CLIENTS,
    BUILTIN_REALM_ROLES,
};

use crate::error::ReportError;
use crate::files::{ensure_dir, PrivateFile};
use crate::groups;

/// Users per users file (Keycloak's own `--users-per-file` default).
pub const DEFAULT_USERS_PER_FILE: usize = 50;
/// Keycloak's file import skips users whose username starts with this.
pub const SERVICE_ACCOUNT_PREFIX: &str = "service-account-";

/// What [`ExportWriter::finish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPaths {
    pub realm_file: PathBuf,
    /// In order `<realm>-users-0.json`, `-1`, ...
    pub users_files: Vec<PathBuf>,
    pub users: u64,
}

/// Streams users into an export directory.
pub struct ExportWriter {
    dir: PathBuf,
    realm: String,
    users_per_file: usize,
    current: Option<PrivateFile>,
    in_current: usize,
    users_files: Vec<PathBuf>,
    users: u64,
    /// Roles, clients and groups the written users refer to: the realm file must define them.
    referenced: RealmContents,
}

impl std::fmt::Debug for ExportWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportWriter")
            .field("dir", &self.dir)
            .field("realm", &self.realm)
            .field("users_per_file", &self.users_per_file)
            .field("users", &self.users)
            .finish_non_exhaustive()
    }
}

impl ExportWriter {
    /// Creates `dir` (and parents). Fails when the realm name cannot be a file-name prefix,
    /// when `users_per_file` is 0, or when `dir` already holds a realm export (`kc.sh import
    /// --dir` would import its leftover files too).
    pub fn create(dir: &Path, realm: &str, users_per_file: usize) -> Result<Self, ReportError> {
        check_realm_name(realm)?;
        if users_per_file == 0 {
            return Err(ReportError::InvalidUsersPerFile);
        }
        ensure_dir(dir)?;
        refuse_stale_exports(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            realm: realm.to_string(),
            users_per_file,
            current: None,
            in_current: 0,
            users_files: Vec::new(),
            users: 0,
            referenced: RealmContents::default(),
        })
    }

    /// Appends one user, starting a new users file (mode 0600 on unix) every
    /// `users_per_file` users. Users Keycloak's import would skip or fail on (no username, a
    /// `service-account-` username, a malformed group path) are refused and nothing is written.
    pub fn add_user(&mut self, user: &UserRepresentation) -> Result<(), ReportError> {
        check_user(user)?;
        let file = match &mut self.current {
            Some(file) => {
                file.write_all(b",\n")?;
                file
            }
            None => {
                let path = self.dir.join(format!(
                    "{}-users-{}.json",
                    self.realm,
                    self.users_files.len()
                ));
                let mut file = PrivateFile::create(path)?;
                file.write_all(b"{\"realm\":")?;
                file.write_json("the realm name", &self.realm)?;
                file.write_all(b",\"users\":[\n")?;
                self.users_files.push(file.path().to_path_buf());
                self.in_current = 0;
                self.current.insert(file)
            }
        };
        file.write_json("a user", user)?;
        self.in_current += 1;
        self.users += 1;
        self.referenced.add_user_references(user);
        if self.in_current >= self.users_per_file {
            self.close_current()?;
        }
        Ok(())
    }

    /// Closes the last users file and writes `<realm>-realm.json` (mode 0600 on unix) with
    /// everything in `contents` plus every role, client and group the users refer to.
    pub fn finish(mut self, mut contents: RealmContents) -> Result<ExportPaths, ReportError> {
        self.close_current()?;
        contents.merge(std::mem::take(&mut self.referenced));
        let realm_file = contents.to_realm_file(&self.realm);
        let path = self.dir.join(format!("{}-realm.json", self.realm));
        let mut json =
            serde_json::to_vec_pretty(&realm_file).map_err(|source| ReportError::Serialize {
                what: "the realm",
                path: path.clone(),
                source,
            })?;
        json.push(b'\n');
        let realm_file = crate::files::write_private(path, &json)?;
        Ok(ExportPaths {
            realm_file,
            users_files: self.users_files,
            users: self.users,
        })
    }

    fn close_current(&mut self) -> Result<(), ReportError> {
        if let Some(mut file) = self.current.take() {
            file.write_all(b"\n]}\n")?;
            file.finish()?;
        }
        Ok(())
    }
}

fn check_realm_name(realm: &str) -> Result<(), ReportError> {
    let why = if realm.trim().is_empty() {
        Some("it is empty")
    } else if realm == "." || realm == ".." {
        Some("it is a relative directory name")
    } else if realm
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        Some("it contains a path separator or a control character")
    } else {
        None
    };
    match why {
        Some(why) => Err(ReportError::InvalidRealm {
            realm: realm.to_string(),
            why,
        }),
        None => Ok(()),
    }
}

fn check_user(user: &UserRepresentation) -> Result<(), ReportError> {
    let username = user.username.as_deref().unwrap_or_default();
    if username.trim().is_empty() {
        return Err(ReportError::InvalidUser {
            why: "it has no username",
        });
    }
    if username.starts_with(SERVICE_ACCOUNT_PREFIX) {
        return Err(ReportError::InvalidUser {
            why: "Keycloak's file import silently skips usernames starting with `service-account-`",
        });
    }
    for path in user.groups.iter().flatten() {
        if groups::normalize(path).as_deref() != Some(path.as_str()) {
            return Err(ReportError::InvalidUser {
                why: "a group path is not of the form `/parent/child`",
            });
        }
    }
    Ok(())
}

/// Whether `name` is a file `kc.sh import --dir` reads: `<realm>-realm.json`,
/// `<realm>-users-<N>.json` or `<realm>-federated-users-<N>.json`, for any realm.
fn is_import_file(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".json") else {
        return false;
    };
    if stem.ends_with("-realm") {
        return true;
    }
    match stem.rsplit_once("-users-") {
        Some((_, n)) => !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

fn refuse_stale_exports(dir: &Path) -> Result<(), ReportError> {
    let inspect = |source| ReportError::Inspect {
        path: dir.to_path_buf(),
        source,
    };
    let mut stale: Vec<PathBuf> = Vec::new();
    for entry in fs::read_dir(dir).map_err(inspect)? {
        let entry = entry.map_err(inspect)?;
        if entry.file_name().to_str().is_some_and(is_import_file) {
            stale.push(entry.path());
        }
    }
    stale.sort();
    match stale.into_iter().next() {
        Some(path) => Err(ReportError::StaleExport { path }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_file_names() {
        assert!(is_import_file("acme-realm.json"));
        assert!(is_import_file("acme-users-12.json"));
        assert!(is_import_file("acme-federated-users-0.json"));
        assert!(!is_import_file("acme-users-x.json"));
        assert!(!is_import_file("report.json"));
        assert!(!is_import_file("acme-realm.json.bak"));
    }

    #[test]
    fn realm_names_must_be_file_safe() {
        assert!(check_realm_name("acme corp").is_ok());
        for bad in ["", " ", "..", "a/b", "a\\b", "a\nb"] {
            assert!(check_realm_name(bad).is_err(), "{bad:?}");
        }
    }
}
