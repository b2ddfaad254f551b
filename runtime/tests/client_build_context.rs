//! `.dockerignore` matching (patternmatcher's own test table and the CLI's reading rules)
//! and build context tars: what goes in, in which order, with which metadata, streamed in
//! bounded chunks, with errors up front.

use std::fs;
use std::io::Read as _;
use std::path::Path;

use bytes::Bytes;
use futures::StreamExt as _;
use moby_api_runtime::client::{BuildContext, DockerIgnore, Error};

// --- the matcher -----------------------------------------------------------------------------

/// moby/patternmatcher `TestMatches`, through `MatchesOrParentMatches`.
#[test]
fn patternmatcher_single_pattern_table() {
    let table: &[(&str, &str, bool)] = &[
        ("**", "file", true),
        ("**", "file/", true),
        ("**/", "file", true),
        ("**/", "file/", true),
        ("**", "/", true),
        ("**/", "/", true),
        ("**", "dir/file", true),
        ("**/", "dir/file", true),
        ("**", "dir/file/", true),
        ("**/", "dir/file/", true),
        ("**/**", "dir/file", true),
        ("**/**", "dir/file/", true),
        ("dir/**", "dir/file", true),
        ("dir/**", "dir/file/", true),
        ("dir/**", "dir/dir2/file", true),
        ("dir/**", "dir/dir2/file/", true),
        ("**/dir", "dir", true),
        ("**/dir", "dir/file", true),
        ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/*", "dir/dir2/file/", true),
        ("**/dir2/**", "dir/dir2/dir3/file", true),
        ("**/dir2/**", "dir/dir2/dir3/file/", true),
        ("**file", "file", true),
        ("**file", "dir/file", true),
        ("**/file", "dir/file", true),
        ("**file", "dir/dir/file", true),
        ("**/file", "dir/dir/file", true),
        ("**/file*", "dir/dir/file", true),
        ("**/file*", "dir/dir/file.txt", true),
        ("**/file*txt", "dir/dir/file.txt", true),
        ("**/file*.txt", "dir/dir/file.txt", true),
        ("**/file*.txt*", "dir/dir/file.txt", true),
        ("**/**/*.txt", "dir/dir/file.txt", true),
        ("**/**/*.txt2", "dir/dir/file.txt", false),
        ("**/*.txt", "file.txt", true),
        ("**/**/*.txt", "file.txt", true),
        ("a**/*.txt", "a/file.txt", true),
        ("a**/*.txt", "a/dir/file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true),
        ("a/*.txt", "a/dir/file.txt", false),
        ("a/*.txt", "a/file.txt", true),
        ("a/*.txt**", "a/file.txt", true),
        ("a[b-d]e", "ae", false),
        ("a[b-d]e", "ace", true),
        ("a[b-d]e", "aae", false),
        ("a[^b-d]e", "aze", true),
        (".*", ".foo", true),
        (".*", "foo", false),
        ("abc.def", "abcdef", false),
        ("abc.def", "abc.def", true),
        ("abc.def", "abcZdef", false),
        ("abc?def", "abcZdef", true),
        ("abc?def", "abcdef", false),
        ("a\\\\", "a\\", true),
        ("**/foo/bar", "foo/bar", true),
        ("**/foo/bar", "dir/foo/bar", true),
        ("**/foo/bar", "dir/dir2/foo/bar", true),
        ("abc/**", "abc", false),
        ("abc/**", "abc/def", true),
        ("abc/**", "abc/def/ghi", true),
        ("**/.foo", ".foo", true),
        ("**/.foo", "bar.foo", false),
        ("a(b)c/def", "a(b)c/def", true),
        ("a(b)c/def", "a(b)c/xyz", false),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
        ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
    ];
    for &(pattern, path, want) in table {
        let ignore = DockerIgnore::from_patterns([pattern]);
        assert!(ignore.errors().is_empty(), "{pattern}: {:?}", ignore.errors());
        assert_eq!(ignore.is_excluded(path), want, "pattern {pattern:?} path {path:?}");
    }
}

/// moby/patternmatcher `TestMatches`, the multi-pattern part.
#[test]
fn patternmatcher_multi_pattern_table() {
    let whl = "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl";
    let table: &[(&[&str], &str, bool)] = &[
        (&["**", "!util/docker/web"], "util/docker/web/foo", false),
        (&["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true),
        (&["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"], whl, false),
        (&["**", "!dist/*.whl"], whl, false),
    ];
    for &(patterns, path, want) in table {
        assert_eq!(DockerIgnore::from_patterns(patterns).is_excluded(path), want, "{patterns:?} {path:?}");
    }
}

#[test]
fn wildcards_stay_within_one_element_and_the_last_match_wins() {
    let ignore = DockerIgnore::parse("*.log\n!keep.log\ntemp?\nbuild/\n/abs\n**/cache\nsub/*/deep\n");
    for (path, want) in [
        ("a.log", true),
        ("keep.log", false),
        ("dir/a.log", false),
        ("temp1", true),
        ("temp12", false),
        ("temp/", false),
        ("build", true),
        ("build/out/x", true),
        ("abs", true),
        ("x/abs", false),
        ("cache", true),
        ("a/b/cache/file", true),
        ("sub/one/deep", true),
        ("sub/one/two/deep", false),
        ("sub/one/deep/inner", true),
    ] {
        assert_eq!(ignore.is_excluded(path), want, "{path}");
    }
    // The exception only wins when it comes last.
    assert!(DockerIgnore::parse("!keep.log\n*.log\n").is_excluded("keep.log"));
}

#[test]
fn brackets_escapes_and_anchors() {
    let cases: &[(&str, &str, bool)] = &[
        ("[abc].txt", "b.txt", true),
        ("[abc].txt", "d.txt", false),
        ("[^abc].txt", "d.txt", true),
        ("[!a].txt", "!.txt", true),
        ("[a-c][0-9]", "b7", true),
        ("[\\]]x", "]x", true),
        ("[*]", "*", true),
        ("[*]", "a", false),
        ("\\*", "*", true),
        ("\\*", "a", false),
        ("[^x]", "/", true),
        ("^foo*", "foobar", true),
        ("a^b*", "a^bc", false),
        ("a^b", "a^b", true),
        ("a]b*", "a]bc", true),
        // Only the regex forms inherit `.`'s refusal of newlines.
        ("a*/**", "ab/x\ny", false),
        ("a*/**", "ab/xy", true),
        ("*/**/c", "a/x\ny/c", false),
        ("*/**/c", "a/x/y/c", true),
        ("**/c.go", "a/\nb/c.go", true),
        ("x/**", "x/a\nb", true),
        ("ö*", "öl", true),
        ("?", "ö", true),
    ];
    for &(pattern, path, want) in cases {
        let ignore = DockerIgnore::from_patterns([pattern]);
        assert!(ignore.errors().is_empty(), "{pattern}: {:?}", ignore.errors());
        assert_eq!(ignore.is_excluded(path), want, "pattern {pattern:?} path {path:?}");
    }
}

#[test]
fn patterns_the_cli_refuses_are_reported_and_match_nothing() {
    for bad in ["[", "[]", "[]a]", "[a-]", "[-a]", "a\\", "[a\\", "[z-a]", "!", "!/"] {
        let ignore = DockerIgnore::parse(bad);
        assert_eq!(ignore.errors().len(), 1, "{bad:?}: {ignore:?}");
        assert!(!ignore.is_excluded("a") && !ignore.is_excluded("["), "{bad:?}");
    }
    let ignore = DockerIgnore::parse("ok\n[bad\n");
    assert!(ignore.is_excluded("ok"));
    assert_eq!(ignore.patterns().collect::<Vec<_>>(), ["ok", "[bad"]);
}

#[test]
fn reading_strips_comments_bom_whitespace_and_leading_slashes() {
    let ignore = DockerIgnore::parse("\u{feff}#comment\r\n  \t\n  ./dir/../x  \r\n/y/\n! /y/keep\n # spaced\n");
    assert_eq!(ignore.patterns().collect::<Vec<_>>(), ["x", "y", "!y/keep", "# spaced"]);
    assert!(ignore.is_excluded("x") && ignore.is_excluded("y/other") && !ignore.is_excluded("y/keep"));
    assert!(ignore.is_excluded("# spaced") && !ignore.is_excluded("#comment"));
    assert!(ignore.has_exceptions() && !DockerIgnore::parse("a\n").has_exceptions());
}

// --- build contexts --------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
struct Item {
    name: String,
    kind: char,
    mode: u32,
    link: Option<String>,
    data: Vec<u8>,
}

async fn collect(context: BuildContext) -> (Vec<Bytes>, Result<(), std::io::Error>) {
    let mut chunks = Vec::new();
    let mut stream = context;
    let collect = async {
        while let Some(chunk) = stream.next().await {
            chunks.push(chunk?);
        }
        Ok(())
    };
    let result = tokio::time::timeout(std::time::Duration::from_secs(30), collect).await.expect("the context stream hung");
    (chunks, result)
}

fn read_tar(bytes: &[u8]) -> Vec<Item> {
    let mut archive = tar::Archive::new(bytes);
    let mut items = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
        assert!(header.mtime().unwrap() > 1_000_000_000);
        let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let link = entry.link_name_bytes().map(|l| String::from_utf8(l.into_owned()).unwrap());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        items.push(Item { name, kind: char::from(header.entry_type().as_byte()), mode: header.mode().unwrap(), link, data });
    }
    items
}

fn write(root: &Path, relative: &str, contents: &[u8]) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

#[cfg(unix)]
fn chmod(root: &Path, relative: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(root.join(relative), fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_is_what_the_cli_would_send() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let long = format!("{}/{}", "d".repeat(80), "f".repeat(80));
    write(
        root,
        ".dockerignore",
        b"# what stays home\n*.log\n!keep.log\ntarget\n/node_modules\ndocs\n!docs/README.md\nDockerfile\n.dockerignore\n",
    );
    write(root, "Dockerfile", b"FROM scratch\n");
    write(root, "a.txt", b"alpha");
    write(root, "b.log", b"ignored");
    write(root, "keep.log", b"kept");
    write(root, "sub/y.log", b"only root-level logs are ignored");
    write(root, "sub/run.sh", b"#!/bin/sh\n");
    chmod(root, "sub/run.sh", 0o4755);
    write(root, "target/bin", b"ignored");
    write(root, "node_modules/m/index.js", b"ignored");
    write(root, "docs/README.md", b"readme");
    write(root, "docs/other.md", b"ignored");
    write(root, &long, b"long");
    std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
    std::os::unix::fs::symlink("/nowhere/at/all", root.join("dangling")).unwrap();
    fs::hard_link(root.join("a.txt"), root.join("hard")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();

    let context = BuildContext::new(root).await.unwrap();
    let names = context.names().to_vec();
    let d = "d".repeat(80);
    let expected_names = [
        ".dockerignore".to_owned(),
        "Dockerfile".into(),
        "a.txt".into(),
        "dangling".into(),
        format!("{d}/"),
        long.clone(),
        "docs/README.md".into(),
        "hard".into(),
        "keep.log".into(),
        "link".into(),
        "sub/".into(),
        "sub/run.sh".into(),
        "sub/y.log".into(),
    ];
    assert_eq!(names, expected_names);

    let (chunks, result) = collect(context).await;
    result.unwrap();
    let tar: Vec<u8> = chunks.concat();
    let items = read_tar(&tar);
    assert_eq!(items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), expected_names.iter().map(String::as_str).collect::<Vec<_>>());
    let get = |name: &str| items.iter().find(|i| i.name == name).unwrap();
    assert_eq!((get("a.txt").kind, get("a.txt").data.as_slice()), ('0', b"alpha".as_slice()));
    assert_eq!((get("link").kind, get("link").link.as_deref()), ('2', Some("a.txt")));
    assert_eq!(get("dangling").link.as_deref(), Some("/nowhere/at/all"));
    assert_eq!((get("hard").kind, get("hard").link.as_deref(), get("hard").data.len()), ('1', Some("a.txt"), 0));
    assert_eq!((get("sub/").kind, get("sub/").mode & 0o777), ('5', 0o755));
    assert_eq!((get("sub/run.sh").mode, get("sub/run.sh").data.as_slice()), (0o4755, b"#!/bin/sh\n".as_slice()));
    assert_eq!(get(&long).data, b"long");
    assert_eq!(get("docs/README.md").data, b"readme");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walk_carries_pattern_results_like_moby() {
    // With the parent's results carried down, the second `a` was never evaluated for `a`
    // itself (it could not change the outcome there), so it does not reach `a/b`: the CLI
    // sends `a/b` although the patterns, read on their own, exclude it.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".dockerignore", b"a\n!a/b\na\n");
    write(dir.path(), "a/b", b"kept by the walk");
    write(dir.path(), "a/c", b"excluded");
    let context = BuildContext::new(dir.path()).await.unwrap();
    assert_eq!(context.names(), [".dockerignore", "a/b"]);
    assert!(DockerIgnore::parse("a\n!a/b\na\n").is_excluded("a/b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dockerfile_is_kept_under_any_name() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".dockerignore", b"build\n*.dockerfile\n");
    write(dir.path(), "build/Dockerfile.dev", b"FROM scratch\n");
    write(dir.path(), "build/other", b"excluded");
    write(dir.path(), "x.dockerfile", b"excluded");
    let context = BuildContext::with_dockerfile(dir.path(), "./build/Dockerfile.dev").await.unwrap();
    assert_eq!(context.names(), [".dockerignore", "build/Dockerfile.dev"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_stream_in_bounded_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<u8> = (0..=255u8).cycle().take(5 * 1024 * 1024 + 7).collect();
    write(dir.path(), "big.bin", &big);
    let (chunks, result) = collect(BuildContext::new(dir.path()).await.unwrap()).await;
    result.unwrap();
    assert!(chunks.len() > 50, "{} chunks", chunks.len());
    let largest = chunks.iter().map(Bytes::len).max().unwrap_or(0);
    assert!(largest <= 128 * 1024, "a chunk of {largest} bytes");
    let items = read_tar(&chunks.concat());
    assert_eq!(items.len(), 1);
    assert!(items[0].data == big);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_come_up_front_or_end_the_stream() {
    let missing = BuildContext::new("/no/such/context/dir").await.unwrap_err();
    assert!(matches!(&missing, Error::Io { path, .. } if path.ends_with("dir")), "{missing:?}");

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "file", b"x");
    let not_dir = BuildContext::new(dir.path().join("file")).await.unwrap_err();
    assert!(matches!(not_dir, Error::Config(_)), "{not_dir:?}");

    write(dir.path(), ".dockerignore", b"ok\n[broken\n");
    let bad = BuildContext::new(dir.path()).await.unwrap_err();
    assert!(matches!(&bad, Error::Config(m) if m.contains("[broken")), "{bad:?}");
    fs::remove_file(dir.path().join(".dockerignore")).unwrap();

    // A file that disappears between the walk and the upload cuts the stream with an error.
    write(dir.path(), "gone", b"soon");
    let context = BuildContext::new(dir.path()).await.unwrap();
    fs::remove_file(dir.path().join("gone")).unwrap();
    let (_, result) = collect(context).await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("gone"), "{err}");

    #[cfg(unix)]
    {
        // Unreadable files fail the walk, unless this runs as root (which reads anything).
        write(dir.path(), "secret", b"x");
        chmod(dir.path(), "secret", 0o000);
        if fs::File::open(dir.path().join("secret")).is_err() {
            let err = BuildContext::new(dir.path()).await.unwrap_err();
            assert!(matches!(&err, Error::Io { path, .. } if path.ends_with("secret")), "{err:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_dropped_half_read_stops_its_writer() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "big.bin", &vec![7u8; 4 * 1024 * 1024]);
    let mut context = BuildContext::new(dir.path()).await.unwrap();
    assert!(context.next().await.is_some_and(|c| c.is_ok()));
    drop(context);
    // The writer notices at its next chunk; a later context still works.
    let (_, result) = collect(BuildContext::new(dir.path()).await.unwrap()).await;
    result.unwrap();
}
