//! Opening an input file: gzip by magic bytes, UTF-8 BOM skipped, UTF-16 refused.
//!
//! A gzip stream is inflated on a thread of its own, a few buffers ahead of the reader:
//! inflating a large export costs about as much as parsing it, and on two cores the two then
//! overlap instead of adding up.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: [u8; 3] = [0xef, 0xbb, 0xbf];
const READ_BUFFER: usize = 256 * 1024;
/// Inflated buffers the decompression thread may run ahead of the reader; bounds its memory
/// to this many `READ_BUFFER`s.
const INFLATE_AHEAD: usize = 4;

/// A file that could not be opened or is not in a readable encoding. Fatal for that input.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The cause is part of the message and deliberately not a `source()`: error chains
    /// printed with `{:#}` would otherwise show it twice.
    #[error("{path}: {error}")]
    Io { path: String, error: io::Error },
    #[error("{path}: is a directory, not a file")]
    Directory { path: String },
    #[error(
        "{path}: the file is UTF-16 encoded; convert it to UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)"
    )]
    Utf16 { path: String },
}

/// An opened input: a buffered reader over the (decompressed, BOM-less) content.
pub struct Input {
    /// The path as the user gave it; used in every message about this input.
    pub path: Arc<str>,
    /// Whether the file was gzip-compressed.
    pub gzipped: bool,
    pub reader: Box<dyn BufRead + Send>,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("path", &self.path)
            .field("gzipped", &self.gzipped)
            .finish_non_exhaustive()
    }
}

impl Input {
    /// The first byte that is not ASCII white space, without consuming anything (looks at
    /// most at the first buffer). `None` for an empty or all-blank start.
    pub fn first_significant_byte(&mut self) -> io::Result<Option<u8>> {
        let buf = self.reader.fill_buf()?;
        Ok(buf.iter().copied().find(|b| !b.is_ascii_whitespace()))
    }

    /// Wrap an in-memory or other reader (tests, stdin).
    pub fn from_reader(path: &str, reader: impl Read + Send + 'static) -> io::Result<Self> {
        prepare(Arc::from(path), Box::new(reader)).map_err(|e| match e {
            OpenError::Io { error, .. } => error,
            other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
        })
    }
}

/// Open `path` for streaming. Gzip is detected by its magic bytes, not the file name.
pub fn open_input(path: &Path) -> Result<Input, OpenError> {
    let shown = path.display().to_string();
    let io_err = |source: io::Error| OpenError::Io {
        path: shown.clone(),
        error: source,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return Err(OpenError::Directory { path: shown });
    }
    let file = std::fs::File::open(path).map_err(io_err)?;
    prepare(Arc::from(shown.as_str()), Box::new(file))
}

fn prepare(path: Arc<str>, raw: Box<dyn Read + Send>) -> Result<Input, OpenError> {
    let io_err = |source: io::Error| OpenError::Io {
        path: path.to_string(),
        error: source,
    };
    let mut outer = BufReader::with_capacity(READ_BUFFER, raw);
    let gzipped = peek(&mut outer).map_err(io_err)?.starts_with(&GZIP_MAGIC);
    let mut reader: Box<dyn BufRead + Send> = if gzipped {
        inflate_ahead(MultiGzDecoder::new(outer))
    } else {
        Box::new(outer)
    };
    let head = peek(&mut reader).map_err(io_err)?;
    if head.starts_with(&UTF8_BOM) {
        reader.consume(UTF8_BOM.len());
    } else if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Err(OpenError::Utf16 {
            path: path.to_string(),
        });
    }
    Ok(Input {
        path,
        gzipped,
        reader,
    })
}

/// Read `decoder` on a thread of its own, [`INFLATE_AHEAD`] buffers ahead. Falls back to
/// inflating inline when no thread can be started.
fn inflate_ahead<R: Read + Send + 'static>(decoder: R) -> Box<dyn BufRead + Send> {
    let (full_tx, full_rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(INFLATE_AHEAD);
    // One more spare than can be in flight, so the thread never waits for a buffer while
    // the reader holds one.
    let (spare_tx, spare_rx) = mpsc::sync_channel::<Vec<u8>>(INFLATE_AHEAD + 2);
    let spawned = crate::pipeline::spawn_with("kcm-inflate", decoder, move |decoder| {
        inflate_loop(decoder, &full_tx, &spare_rx);
    });
    if let Err(decoder) = spawned {
        return Box::new(BufReader::with_capacity(READ_BUFFER, decoder));
    }
    Box::new(AheadReader {
        full: full_rx,
        spare: spare_tx,
        current: Vec::new(),
        pos: 0,
        done: false,
    })
}

/// The decompression thread: fill buffers and pass them on until the input ends, reading
/// fails, or the reader is dropped (a send fails).
fn inflate_loop<R: Read>(
    mut decoder: R,
    full: &SyncSender<io::Result<Vec<u8>>>,
    spare: &Receiver<Vec<u8>>,
) {
    loop {
        let mut buf = spare.try_recv().unwrap_or_default();
        buf.resize(READ_BUFFER, 0);
        let mut filled = 0;
        while filled < buf.len() {
            match decoder.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if filled > 0 {
                        buf.truncate(filled);
                        if full.send(Ok(buf)).is_err() {
                            return;
                        }
                    }
                    let _ = full.send(Err(e));
                    return;
                }
            }
        }
        if filled == 0 {
            return;
        }
        buf.truncate(filled);
        if full.send(Ok(buf)).is_err() {
            return;
        }
    }
}

/// The reading end of [`inflate_ahead`]. The end of the input is the thread hanging up.
struct AheadReader {
    full: Receiver<io::Result<Vec<u8>>>,
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for AheadReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for AheadReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.current.len() && !self.done {
            match self.full.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.current, next);
                    self.pos = 0;
                    // The thread may already have stopped; the buffer is then just dropped.
                    let _ = self.spare.try_send(used);
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        Ok(self.current.get(self.pos..).unwrap_or_default())
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.current.len());
    }
}

/// The bytes buffered at the start of a reader. A `BufReader` fills from a single `read()`;
/// files and gzip decoders return far more than the 3 bytes the magic/BOM checks need.
fn peek<R: BufRead + ?Sized>(reader: &mut R) -> io::Result<&[u8]> {
    reader.fill_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn read_all(mut input: Input) -> String {
        let mut s = String::new();
        input.reader.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn plain_gzip_and_bom_are_read_the_same() {
        let plain = Input::from_reader("a", &b"{\"a\":1}\n"[..]).unwrap();
        assert!(!plain.gzipped);
        assert_eq!(read_all(plain), "{\"a\":1}\n");
        let bom = Input::from_reader("b", &b"\xef\xbb\xbf{\"a\":1}\n"[..]).unwrap();
        assert_eq!(read_all(bom), "{\"a\":1}\n");
        let zipped =
            Input::from_reader("c.json", std::io::Cursor::new(gz(b"\xef\xbb\xbfx,y\r\n"))).unwrap();
        assert!(zipped.gzipped);
        assert_eq!(read_all(zipped), "x,y\r\n");
    }

    #[test]
    fn utf16_and_directories_are_refused_with_the_path() {
        let err = Input::from_reader("u16.csv", &b"\xff\xfea\x00"[..]).unwrap_err();
        assert!(err.to_string().contains("UTF-16"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = open_input(dir.path()).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        let err = open_input(&dir.path().join("missing.json")).unwrap_err();
        assert!(err.to_string().contains("missing.json"), "{err}");
    }

    #[test]
    fn gzip_larger_than_the_read_ahead_reads_whole_and_can_be_dropped_early() {
        let mut plain = Vec::new();
        for i in 0..200_000u32 {
            plain.extend(format!("{{\"n\":{i}}}\n").as_bytes());
        }
        assert!(plain.len() > READ_BUFFER * (INFLATE_AHEAD + 2));
        let zipped = gz(&plain);
        let input = Input::from_reader("big.gz", std::io::Cursor::new(zipped.clone())).unwrap();
        let mut got = Vec::new();
        let mut reader = input.reader;
        reader.read_to_end(&mut got).unwrap();
        assert!(got == plain, "inflated bytes differ");
        // Reading a little and dropping the reader must not leave anything blocked.
        let mut input = Input::from_reader("big.gz", std::io::Cursor::new(zipped)).unwrap();
        let mut first = [0u8; 5];
        input.reader.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"{\"n\":");
    }

    #[test]
    fn first_significant_byte_does_not_consume() {
        let mut input = Input::from_reader("a", &b"  \n [1]"[..]).unwrap();
        assert_eq!(input.first_significant_byte().unwrap(), Some(b'['));
        assert_eq!(read_all(input), "  \n [1]");
    }
}
