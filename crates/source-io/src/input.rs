//! Opening an input file: gzip by magic bytes, UTF-8 BOM skipped, UTF-16 refused.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: [u8; 3] = [0xef, 0xbb, 0xbf];
const READ_BUFFER: usize = 256 * 1024;

/// A file that could not be opened or is not in a readable encoding. Fatal for that input.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
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
            OpenError::Io { source, .. } => source,
            other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
        })
    }
}

/// Open `path` for streaming. Gzip is detected by its magic bytes, not the file name.
pub fn open_input(path: &Path) -> Result<Input, OpenError> {
    let shown = path.display().to_string();
    let io_err = |source: io::Error| OpenError::Io {
        path: shown.clone(),
        source,
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
        source,
    };
    let mut outer = BufReader::with_capacity(READ_BUFFER, raw);
    let gzipped = peek(&mut outer).map_err(io_err)?.starts_with(&GZIP_MAGIC);
    let mut reader: Box<dyn BufRead + Send> = if gzipped {
        Box::new(BufReader::with_capacity(
            READ_BUFFER,
            MultiGzDecoder::new(outer),
        ))
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
    fn first_significant_byte_does_not_consume() {
        let mut input = Input::from_reader("a", &b"  \n [1]"[..]).unwrap();
        assert_eq!(input.first_significant_byte().unwrap(), Some(b'['));
        assert_eq!(read_all(input), "  \n [1]");
    }
}
