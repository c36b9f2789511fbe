//! Output files readable by their owner only: every file this crate writes may hold personal
//! data (user files also hold password hashes), so each is created with mode 0600 on unix,
//! including when an older file of the same name is overwritten.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::ReportError;

/// Permission bits of every written file (owner read/write).
#[cfg(unix)]
pub const FILE_MODE: u32 = 0o600;

pub(crate) fn ensure_dir(dir: &Path) -> Result<(), ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })
}

/// A buffered output file that remembers its path for error messages.
pub(crate) struct PrivateFile {
    path: PathBuf,
    out: BufWriter<File>,
}

impl PrivateFile {
    pub(crate) fn create(path: PathBuf) -> Result<Self, ReportError> {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(FILE_MODE);
        }
        let file = options.open(&path).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        // The creation mode does not apply to a file that already existed.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(FILE_MODE))
                .map_err(|source| ReportError::Write {
                    path: path.clone(),
                    source,
                })?;
        }
        Ok(Self {
            path,
            out: BufWriter::new(file),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<(), ReportError> {
        self.out
            .write_all(bytes)
            .map_err(|source| ReportError::Write {
                path: self.path.clone(),
                source,
            })
    }

    /// Writes `value` as compact JSON.
    pub(crate) fn write_json<T: serde::Serialize>(
        &mut self,
        what: &'static str,
        value: &T,
    ) -> Result<(), ReportError> {
        serde_json::to_writer(&mut self.out, value).map_err(|source| {
            if source.is_io() {
                ReportError::Write {
                    path: self.path.clone(),
                    source: source.into(),
                }
            } else {
                ReportError::Serialize {
                    what,
                    path: self.path.clone(),
                    source,
                }
            }
        })
    }

    /// Flushes and closes the file, returning its path.
    pub(crate) fn finish(mut self) -> Result<PathBuf, ReportError> {
        self.out.flush().map_err(|source| ReportError::Write {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.path)
    }
}

/// Writes a whole small file (a rendered report) with the private mode.
pub(crate) fn write_private(path: PathBuf, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    let mut file = PrivateFile::create(path)?;
    file.write_all(bytes)?;
    file.finish()
}
