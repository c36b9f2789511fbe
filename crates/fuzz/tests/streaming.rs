//! Memory stays bounded by the record size limit, whatever the input: a quote or string
//! that never closes must not make a source hold the rest of a big file. Measured with the
//! process's peak resident size (`VmHWM`, reset through `/proc/self/clear_refs`), so the
//! checks run one at a time and are skipped where `/proc` does not allow it.

use std::io::Write as _;
use std::sync::Mutex;

use kcm_source_io::{ReadOptions, SourceError, SourceInputs, SourceStream};

/// Size of the never-closed field: far above the limit, small enough for a quick debug run.
const BIG_FIELD_BYTES: usize = 16 << 20;
/// Record size limit the sources are given.
const MAX_RECORD_BYTES: usize = 64 * 1024;
/// Allowed growth of the peak resident size while reading (buffers, one record, the model).
const MAX_GROWTH_KIB: u64 = 6 * 1024;

/// The measurements share one process-wide counter.
static SERIAL: Mutex<()> = Mutex::new(());

type ReadFn = fn(&SourceInputs, &ReadOptions) -> Result<SourceStream, SourceError>;

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// How much the peak resident size grows while `read` drains a file made of `head`, a
/// 16 MiB run of `x` and a few more lines; `None` when it cannot be measured here.
fn peak_growth_kib(read: ReadFn, name: &str, head: &str) -> Option<u64> {
    let path = kcm_fuzz::scratch::file(name, head.as_bytes());
    {
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).ok()?;
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..BIG_FIELD_BYTES / chunk.len() {
            file.write_all(&chunk).ok()?;
        }
        file.write_all(b"\nmore,rows\n{\"more\":1}\n").ok()?;
    }
    // Writing 5 resets the peak to the current size (Linux 4.0 and later).
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let base = status_kib("VmHWM:")?;
    let inputs = SourceInputs {
        users: vec![path],
        ..SourceInputs::default()
    };
    let opts = ReadOptions {
        max_record_bytes: MAX_RECORD_BYTES,
    };
    let items = read(&inputs, &opts).map_or(0, |s| s.count());
    assert!(items >= 1, "{name}: nothing reported");
    Some(status_kib("VmHWM:")?.saturating_sub(base))
}

fn check(read: ReadFn, name: &str, head: &str) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    match peak_growth_kib(read, name, head) {
        None => println!("skipped: {name}: peak memory cannot be measured here"),
        Some(kib) => assert!(
            kib <= MAX_GROWTH_KIB,
            "{name}: reading grew the peak resident size by {kib} KiB (limit {MAX_GROWTH_KIB} KiB): the never-closed field was held in memory"
        ),
    }
}

#[test]
fn unclosed_fields_are_not_held_in_memory() {
    check(
        kcm_source_okta::read,
        "stream-okta.csv",
        "id,login\n00u1,\"abc",
    );
    check(
        kcm_source_okta::read,
        "stream-okta.json",
        "{\"id\":\"00u1\",\"profile\":{\"login\":\"",
    );
    check(
        kcm_source_firebase::read,
        "stream-firebase.csv",
        "u1,a@x.io,true,,,\"Name",
    );
    check(
        kcm_source_firebase::read,
        "stream-firebase.json",
        "{\"users\":[{\"localId\":\"",
    );
    check(
        kcm_source_auth0::read,
        "stream-auth0.json",
        "{\"user_id\":\"auth0|1\",\"a\":\"",
    );
}

#[test]
fn auth0_csv_unclosed_quote_is_not_held_in_memory() {
    check(
        kcm_source_auth0::read,
        "stream-auth0.csv",
        "user_id,email\n\"auth0|1,",
    );
}
