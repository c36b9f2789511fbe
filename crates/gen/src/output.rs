//! Output files: buffered, optionally gzip-compressed writers that report their final size.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;

/// Write buffer per file; large enough that syscalls don't dominate, small enough that
/// several open files stay far below a megabyte.
const BUFFER_BYTES: usize = 128 * 1024;

/// A file written by the generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub path: PathBuf,
    /// Size on disk (compressed size for gzip files).
    pub bytes: u64,
}

enum Sink {
    Plain(BufWriter<fs_err::File>),
    // flate2 writes a zero mtime and no file name in the header, so gzip output is as
    // deterministic as the plain text.
    Gzip(Box<GzEncoder<BufWriter<fs_err::File>>>),
}

/// One output file being written.
pub struct Output {
    path: PathBuf,
    sink: Sink,
}

impl Output {
    pub fn create(path: &Path, gzip: bool) -> io::Result<Self> {
        let file = BufWriter::with_capacity(BUFFER_BYTES, fs_err::File::create(path)?);
        let sink = if gzip {
            Sink::Gzip(Box::new(GzEncoder::new(file, Compression::fast())))
        } else {
            Sink::Plain(file)
        };
        Ok(Self {
            path: path.to_path_buf(),
            sink,
        })
    }

    /// Flush everything (and the gzip trailer) and report the size on disk.
    pub fn finish(self) -> io::Result<WrittenFile> {
        let file = match self.sink {
            Sink::Plain(w) => w,
            Sink::Gzip(gz) => gz.finish()?,
        };
        let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        let bytes = file.metadata()?.len();
        Ok(WrittenFile {
            path: self.path,
            bytes,
        })
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Gzip(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}
