//! Scratch files for targets whose parser takes paths: one temporary folder per thread
//! (property tests run in parallel threads), created on first use and reused, so a fuzz loop
//! does not create and delete a folder per input.

use std::cell::RefCell;
use std::path::PathBuf;

thread_local! {
    static DIR: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

/// Write `data` to the scratch file `name` (overwriting it) and return its path.
///
/// Panics when the temporary folder cannot be written: that is a broken machine, not an
/// input problem, and the fuzz driver reports it like any other failure.
pub fn file(name: &str, data: &[u8]) -> PathBuf {
    DIR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let dir = slot.get_or_insert_with(|| {
            tempfile::Builder::new()
                .prefix("kcm-fuzz-")
                .tempdir()
                .expect("create the fuzz scratch folder")
        });
        let path = dir.path().join(name);
        std::fs::write(&path, data).expect("write a fuzz scratch file");
        path
    })
}
