//! A directory as the build context tar the docker CLI would send for it (moby
//! `TarWithOptions` with the CLI's options), streamed as it is written.
//!
//! The directory is walked up front, so that unreadable files and bad `.dockerignore`
//! patterns fail the call instead of cutting the upload; the tar itself is written on a
//! blocking thread, started when the body is first polled, into a small bounded queue, so
//! memory stays at a few chunks whatever the context's size.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use reqwest::Body;
use tokio::sync::mpsc;

use super::dockerignore::{clean, DockerIgnore};
use super::Error;

/// The size of the pieces the tar is sent in.
const CHUNK: usize = 64 * 1024;
/// How many pieces may wait for the connection: the writer blocks beyond.
const QUEUE: usize = 4;

/// A build context from [`build_context`] or [`BuildContext::new`]: the tar of a directory
/// as a stream of chunks, for `POST /build` with `Content-Type: application/x-tar`.
///
/// What goes in, as the docker CLI's classic builder path does it:
/// - `.dockerignore` at the root decides what is left out ([`DockerIgnore`]); the
///   Dockerfile and `.dockerignore` are sent even when a pattern matches them;
/// - entries in lexical byte order, each directory before its contents;
/// - symlinks as symlinks (their targets unchanged), hard links to a file already sent as
///   hard links, FIFOs and devices as such, sockets left out;
/// - permission bits kept (with setuid, setgid, sticky), modification times in seconds,
///   owner and group 0 and no names.
pub struct BuildContext {
    names: Vec<String>,
    state: State,
}

enum State {
    Idle(Vec<Entry>),
    Running(mpsc::Receiver<Msg>),
    Done,
}

enum Msg {
    Data(Bytes),
    Failed(io::Error),
    Finished,
}

#[derive(Debug)]
struct Entry {
    /// Relative to the context root, as it goes in the tar.
    relative: PathBuf,
    absolute: PathBuf,
    kind: Kind,
    mode: u32,
    mtime: u64,
}

#[derive(Debug)]
enum Kind {
    Dir,
    File,
    Symlink(PathBuf),
    /// To the relative path of the first name of the same file.
    HardLink(PathBuf),
    Fifo,
    CharDevice(u32, u32),
    BlockDevice(u32, u32),
}

/// The tar of `dir` as the docker CLI would send it as a build context with the
/// Dockerfile named `Dockerfile` (see [`BuildContext`]); errors reading the directory
/// come back here, before anything is sent.
pub async fn build_context(dir: impl AsRef<Path>) -> Result<Body, Error> {
    Ok(BuildContext::new(dir).await?.into_body())
}

impl BuildContext {
    /// Walks `dir` with the Dockerfile named `Dockerfile`.
    pub async fn new(dir: impl AsRef<Path>) -> Result<BuildContext, Error> {
        BuildContext::with_dockerfile(dir, "Dockerfile").await
    }

    /// Walks `dir`, keeping `dockerfile` (relative to `dir`, `/`-separated, as sent in the
    /// build's `dockerfile` parameter) even if `.dockerignore` matches it.
    pub async fn with_dockerfile(dir: impl AsRef<Path>, dockerfile: &str) -> Result<BuildContext, Error> {
        let dir = dir.as_ref().to_path_buf();
        let dockerfile = dockerfile.to_owned();
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| Error::Config("a build context needs a tokio runtime".to_owned()))?;
        let entries = runtime
            .spawn_blocking(move || walk(&dir, &dockerfile))
            .await
            .map_err(|e| Error::Config(format!("walking the build context failed: {e}")))??;
        let names = entries.iter().map(|e| entry_name(e).to_string_lossy().into_owned()).collect();
        Ok(BuildContext { names, state: State::Idle(entries) })
    }

    /// The names of the entries, in the order they will be sent (directories end with `/`).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The request body: [`body_from_stream`](super::body_from_stream) of this stream.
    pub fn into_body(self) -> Body {
        Body::wrap_stream(self)
    }
}

impl Stream for BuildContext {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Idle(entries) => {
                    let entries = std::mem::take(entries);
                    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                        this.state = State::Done;
                        return Poll::Ready(Some(Err(io::Error::other("the build context is read outside a tokio runtime"))));
                    };
                    let (tx, rx) = mpsc::channel(QUEUE);
                    // Detached: it stops at its next chunk once the receiver is gone.
                    drop(runtime.spawn_blocking(move || write_tar(entries, tx)));
                    this.state = State::Running(rx);
                }
                State::Running(rx) => {
                    let msg = ready!(rx.poll_recv(cx));
                    let (state, item) = match msg {
                        Some(Msg::Data(bytes)) => return Poll::Ready(Some(Ok(bytes))),
                        Some(Msg::Failed(e)) => (State::Done, Some(Err(e))),
                        Some(Msg::Finished) => (State::Done, None),
                        // Without `Finished` the tar is incomplete: never let it pass as whole.
                        None => (State::Done, Some(Err(io::Error::other("the build context writer stopped early")))),
                    };
                    this.state = state;
                    return Poll::Ready(item);
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

impl fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Idle(_) => "idle",
            State::Running(_) => "running",
            State::Done => "done",
        };
        f.debug_struct("BuildContext").field("entries", &self.names.len()).field("state", &state).finish()
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_path_buf(), source }
}

/// The tar name: directories end with `/`, as Go's `archive/tar` writes them.
fn entry_name(entry: &Entry) -> PathBuf {
    match entry.kind {
        Kind::Dir => {
            let mut name = OsString::from(entry.relative.as_os_str());
            name.push("/");
            PathBuf::from(name)
        }
        _ => entry.relative.clone(),
    }
}

/// One directory being listed: its sorted names not yet visited.
struct Frame {
    absolute: PathBuf,
    relative: PathBuf,
    /// What the patterns said of this directory, for its children.
    matched: Option<Vec<bool>>,
    names: std::vec::IntoIter<OsString>,
}

impl Frame {
    fn open(absolute: PathBuf, relative: PathBuf, matched: Option<Vec<bool>>) -> Result<Frame, Error> {
        let mut names = fs::read_dir(&absolute)
            .and_then(|dir| dir.map(|e| e.map(|e| e.file_name())).collect::<io::Result<Vec<_>>>())
            .map_err(io_error(&absolute))?;
        // Go's filepath.Walk: byte order, whatever the locale.
        names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        Ok(Frame { absolute, relative, matched, names: names.into_iter() })
    }
}

/// The entries of the context, in order, with `.dockerignore` applied as moby's
/// `TarWithOptions` walk does (pattern results carried from each directory to its
/// children; an excluded directory still entered when an exception names a path under it).
fn walk(dir: &Path, dockerfile: &str) -> Result<Vec<Entry>, Error> {
    let root = fs::canonicalize(dir).map_err(io_error(dir))?;
    if !fs::metadata(&root).map_err(io_error(&root))?.is_dir() {
        return Err(Error::Config(format!("the build context {} is not a directory", dir.display())));
    }
    let ignore = read_ignore(&root, dockerfile)?;
    let has_exceptions = ignore.has_exceptions();
    let mut entries = Vec::new();
    let mut first_names: HashMap<(u64, u64), PathBuf> = HashMap::new();
    let mut stack = vec![Frame::open(root, PathBuf::new(), None)?];
    while let Some(frame) = stack.last_mut() {
        let Some(name) = frame.names.next() else {
            stack.pop();
            continue;
        };
        let absolute = frame.absolute.join(&name);
        let relative = frame.relative.join(&name);
        let text = relative.to_string_lossy().into_owned();
        let metadata = fs::symlink_metadata(&absolute).map_err(io_error(&absolute))?;
        let (excluded, matched) = ignore.matches(&text, frame.matched.as_deref());
        let is_dir = metadata.is_dir();
        if excluded {
            if is_dir && has_exceptions && ignore.exception_inside(&text) {
                stack.push(Frame::open(absolute, relative, Some(matched))?);
            }
            continue;
        }
        if let Some(entry) = entry(&absolute, &relative, &metadata, &mut first_names)? {
            entries.push(entry);
        }
        if is_dir {
            stack.push(Frame::open(absolute, relative, Some(matched))?);
        }
    }
    Ok(entries)
}

/// `.dockerignore` plus the CLI's exceptions for itself and the Dockerfile (moby
/// `TrimBuildFilesFromExcludes`); a pattern the CLI refuses is an error here too.
fn read_ignore(root: &Path, dockerfile: &str) -> Result<DockerIgnore, Error> {
    let path = root.join(".dockerignore");
    let text = match fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io_error(&path)(e)),
    };
    let mut ignore = DockerIgnore::parse(&text);
    if let Some(error) = ignore.errors().first() {
        return Err(Error::Config(format!("{}: {error}", path.display())));
    }
    if ignore.is_excluded(".dockerignore") {
        ignore = ignore.with_pattern("!.dockerignore");
    }
    let dockerfile = clean(dockerfile);
    if ignore.is_excluded(&dockerfile) {
        ignore = ignore.with_pattern(&format!("!{dockerfile}"));
    }
    Ok(ignore)
}

/// The entry for one path, or `None` for what a tar cannot hold (sockets). A regular file
/// is opened once here so that an unreadable one fails before the upload starts.
fn entry(
    absolute: &Path,
    relative: &Path,
    metadata: &fs::Metadata,
    first_names: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<Option<Entry>, Error> {
    let file_type = metadata.file_type();
    let mut kind = if file_type.is_dir() {
        Kind::Dir
    } else if file_type.is_symlink() {
        Kind::Symlink(fs::read_link(absolute).map_err(io_error(absolute))?)
    } else if file_type.is_file() {
        fs::File::open(absolute).map_err(io_error(absolute))?;
        Kind::File
    } else {
        match special_kind(metadata) {
            Some(kind) => kind,
            None => return Ok(None),
        }
    };
    if !file_type.is_dir() {
        if let Some(id) = hard_link_id(metadata) {
            match first_names.get(&id) {
                Some(first) => kind = Kind::HardLink(first.clone()),
                None => {
                    first_names.insert(id, relative.to_path_buf());
                }
            }
        }
    }
    let mtime = metadata.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
    Ok(Some(Entry { relative: relative.to_path_buf(), absolute: absolute.to_path_buf(), kind, mode: mode_bits(metadata), mtime }))
}

#[cfg(unix)]
fn mode_bits(metadata: &fs::Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt as _;
    metadata.mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_bits(metadata: &fs::Metadata) -> u32 {
    match (metadata.is_dir(), metadata.permissions().readonly()) {
        (true, _) => 0o755,
        (false, true) => 0o444,
        (false, false) => 0o644,
    }
}

/// Device and inode of a file with more than one name.
#[cfg(unix)]
fn hard_link_id(metadata: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    (metadata.nlink() > 1).then(|| (metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn hard_link_id(_: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(unix)]
fn special_kind(metadata: &fs::Metadata) -> Option<Kind> {
    use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
    let file_type = metadata.file_type();
    let rdev = metadata.rdev();
    // glibc's major()/minor() for Linux's 64-bit dev_t.
    let major = u32::try_from(((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff)).unwrap_or(0);
    let minor = u32::try_from((rdev & 0xff) | ((rdev >> 12) & !0xff)).unwrap_or(0);
    if file_type.is_fifo() {
        Some(Kind::Fifo)
    } else if file_type.is_char_device() {
        Some(Kind::CharDevice(major, minor))
    } else if file_type.is_block_device() {
        Some(Kind::BlockDevice(major, minor))
    } else {
        None
    }
}

#[cfg(not(unix))]
fn special_kind(_: &fs::Metadata) -> Option<Kind> {
    None
}

/// The blocking writer: every entry, then the end of the archive, then `Finished`.
fn write_tar(entries: Vec<Entry>, tx: mpsc::Sender<Msg>) {
    let mut builder = tar::Builder::new(QueueWriter { tx: tx.clone(), buf: BytesMut::new(), closed: false });
    let result = entries
        .iter()
        .try_for_each(|entry| append(&mut builder, entry))
        .and_then(|()| builder.finish())
        .and_then(|()| builder.get_mut().flush());
    let last = match result {
        Ok(()) => Msg::Finished,
        Err(e) => {
            // The builder writes its end blocks again when dropped; they must not follow.
            builder.get_mut().closed = true;
            Msg::Failed(e)
        }
    };
    // Fails only when the receiver is gone, and then nobody needs to know.
    let _ = tx.blocking_send(last);
}

fn append(builder: &mut tar::Builder<QueueWriter>, entry: &Entry) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mode(entry.mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(entry.mtime);
    header.set_size(0);
    let name = entry_name(entry);
    match &entry.kind {
        Kind::Dir => {
            header.set_entry_type(tar::EntryType::Directory);
            builder.append_data(&mut header, name, io::empty())
        }
        Kind::File => {
            let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", entry.absolute.display()));
            let file = fs::File::open(&entry.absolute).map_err(with_path)?;
            // The size of the file as opened: it may have changed since the walk.
            let size = file.metadata().map_err(with_path)?.len();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(size);
            builder.append_data(&mut header, name, Exactly { inner: file.take(size), left: size, path: &entry.absolute })
        }
        Kind::Symlink(target) => {
            header.set_entry_type(tar::EntryType::Symlink);
            builder.append_link(&mut header, name, target)
        }
        Kind::HardLink(first) => {
            header.set_entry_type(tar::EntryType::Link);
            builder.append_link(&mut header, name, first)
        }
        Kind::Fifo => {
            header.set_entry_type(tar::EntryType::Fifo);
            builder.append_data(&mut header, name, io::empty())
        }
        Kind::CharDevice(major, minor) | Kind::BlockDevice(major, minor) => {
            let char_device = matches!(entry.kind, Kind::CharDevice(..));
            header.set_entry_type(if char_device { tar::EntryType::Char } else { tar::EntryType::Block });
            header.set_device_major(*major)?;
            header.set_device_minor(*minor)?;
            builder.append_data(&mut header, name, io::empty())
        }
    }
}

/// A file's first `left` bytes, failing if it ends sooner: the tar header already promised
/// them, and tar-rs would otherwise write a short entry and a corrupt archive.
struct Exactly<'a> {
    inner: io::Take<fs::File>,
    left: u64,
    path: &'a Path,
}

impl Read for Exactly<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{} shrank while it was being sent", self.path.display())));
        }
        self.left = self.left.saturating_sub(u64::try_from(n).unwrap_or(u64::MAX));
        Ok(n)
    }
}

/// Gathers the tar into chunks for the queue; blocks while the queue is full.
struct QueueWriter {
    tx: mpsc::Sender<Msg>,
    buf: BytesMut,
    /// Set once the receiver is gone or the archive failed: writes go nowhere.
    closed: bool,
}

impl QueueWriter {
    fn send(&mut self) -> io::Result<()> {
        let chunk = self.buf.split().freeze();
        if self.tx.blocking_send(Msg::Data(chunk)).is_err() {
            self.closed = true;
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "nobody reads the build context any more"));
        }
        Ok(())
    }
}

impl Write for QueueWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(data.len());
        }
        if self.buf.is_empty() {
            self.buf.reserve(CHUNK);
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.closed && !self.buf.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}
