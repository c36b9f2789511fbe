//! Writing the files a run leaves behind. Reports and journals name users and may hold
//! personal data, so they are owner-only (0600) and new output directories are 0700.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// Create `dir` (and parents); directories created here are owner-only on Unix.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Write `contents` to `path`, replacing it, readable and writable by the owner only.
pub fn write_private(path: &Path, contents: impl AsRef<str>) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // An existing file keeps its old mode on open: tighten it too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    file.write_all(contents.as_ref().as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
