//! `.dockerignore` patterns, read and matched as the docker CLI does (moby `ignorefile`
//! for reading, `moby/patternmatcher` for matching).
//!
//! Reading: a UTF-8 BOM is dropped; a line starting with `#` is a comment (before any
//! trimming); lines are trimmed; `!` marks an exception; each pattern is cleaned like Go's
//! `filepath.Clean` and loses one leading `/`.
//!
//! Matching follows patternmatcher's compiled forms exactly, quirks included, because the
//! daemon receives whatever the CLI would have sent: a pattern without wildcards is an
//! exact comparison, `abc**` a prefix test, `**abc` a suffix test (so `**foo` matches
//! `xfoo`), anything else the regular expression patternmatcher builds (`*` and `?` stay
//! inside one path element, `**` crosses them, a `^` outside brackets is an anchor).
//! A pattern applies to a path when it matches the path or one of its parent
//! directories, and the last pattern that applies wins. Two details follow Go's
//! `filepath.Match` instead of the regular expression, whose translation garbles them:
//! `*` and `?` inside brackets are literal, and `\x` is always the literal `x`.

use std::fmt;

/// Compiled `.dockerignore` patterns.
///
/// ```
/// use moby_api_runtime::client::DockerIgnore;
///
/// let ignore = DockerIgnore::parse("# build output\ntarget\n*.log\n!keep.log\n");
/// assert!(ignore.is_excluded("target/debug/app"));
/// assert!(ignore.is_excluded("error.log"));
/// assert!(!ignore.is_excluded("keep.log"));
/// assert!(!ignore.is_excluded("logs/error.log"));
/// ```
#[derive(Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
    /// What the CLI would refuse, one message per bad pattern; such patterns match nothing.
    errors: Vec<String>,
    /// The patterns as given to the matcher, for adding exceptions later.
    sources: Vec<String>,
}

#[derive(Clone, Debug)]
pub(super) struct Pattern {
    /// Cleaned, without the `!`.
    text: String,
    exclusion: bool,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Exact,
    /// The pattern without its trailing `**`.
    Prefix(String),
    /// The pattern without its leading `**`.
    Suffix(String),
    Regex(Vec<Token>),
}

/// One piece of patternmatcher's regular expression.
#[derive(Clone, Debug)]
enum Token {
    Literal(char),
    /// `*`: `[^/]*`.
    Star,
    /// `?`: `[^/]`.
    Question,
    /// `**` at the end: `.*` (a regex `.` does not match `\n`).
    Rest,
    /// `**` elsewhere: `(.*/)?`.
    Dirs,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `^` outside brackets: matches only at the start.
    Start,
}

impl DockerIgnore {
    /// Reads the text of a `.dockerignore` file. Never fails: patterns the CLI would
    /// refuse are listed by [`errors`](Self::errors) and match nothing.
    pub fn parse(text: &str) -> DockerIgnore {
        DockerIgnore::from_patterns(read_patterns(text))
    }

    /// Compiles patterns that are already read (as patternmatcher's `New`): each is trimmed
    /// and cleaned, `!` marks an exception, empty ones are skipped.
    pub fn from_patterns<I, S>(patterns: I) -> DockerIgnore
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut ignore = DockerIgnore::default();
        for source in patterns {
            ignore.push(source.as_ref());
        }
        ignore
    }

    fn push(&mut self, source: &str) {
        let trimmed = source.trim();
        if trimmed.is_empty() {
            return;
        }
        self.sources.push(trimmed.to_owned());
        let cleaned = clean(trimmed);
        let (exclusion, text) = match cleaned.strip_prefix('!') {
            Some("") => {
                self.errors.push("illegal exclusion pattern: \"!\"".to_owned());
                return;
            }
            Some(rest) => (true, rest.to_owned()),
            None => (false, cleaned),
        };
        match compile(&text) {
            Ok(kind) => self.patterns.push(Pattern { text, exclusion, kind }),
            Err(reason) => self.errors.push(format!("pattern `{source}`: {reason}")),
        }
    }

    /// The same patterns followed by `pattern` (how the CLI keeps the Dockerfile).
    pub(super) fn with_pattern(mut self, pattern: &str) -> DockerIgnore {
        self.push(pattern);
        self
    }

    /// Why patterns were refused (a lone `!`, an unclosed `[`, a trailing `\` …); the
    /// docker CLI fails the build on any of them.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Whether any pattern is an exception (`!…`).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// The patterns as given (trimmed), in order.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(String::as_str)
    }

    /// Whether `relative_path` (relative to the context root, `/`-separated, as the CLI
    /// walks it: `dir/file`, no `./`) is excluded: the last pattern that matches it or one
    /// of its parent directories decides (patternmatcher's `MatchesOrParentMatches`).
    pub fn is_excluded(&self, relative_path: &str) -> bool {
        self.matches(relative_path, None).0
    }

    /// patternmatcher's `MatchesUsingParentResults`: with `parent` (the result for the
    /// path's directory) parent directories are not matched again, only remembered per
    /// pattern. This is what the CLI's walk uses, and it can differ from
    /// [`is_excluded`](Self::is_excluded): a pattern skipped for the parent because it
    /// could not change the outcome there is not carried to the children.
    pub(super) fn matches(&self, path: &str, parent: Option<&[bool]>) -> (bool, Vec<bool>) {
        let parent = parent.filter(|p| p.len() == self.patterns.len() && !p.is_empty());
        let mut matched = false;
        let mut matched_here = vec![false; self.patterns.len()];
        let parent_dirs = if parent.is_none() { parent_dirs(path) } else { Vec::new() };
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut hit = parent.is_some_and(|p| p[i]);
            if !hit {
                // An inclusion cannot change a path already excluded, nor an exception one
                // that is not: patternmatcher does not even evaluate them.
                if pattern.exclusion != matched {
                    continue;
                }
                hit = pattern.matches(path) || parent_dirs.iter().any(|dir| pattern.matches(dir));
            }
            matched_here[i] = hit;
            if hit {
                matched = !pattern.exclusion;
            }
        }
        (matched, matched_here)
    }

    /// Whether a skipped directory must still be walked because an exception names
    /// something under it (the literal prefix test of moby's `TarWithOptions`).
    pub(super) fn exception_inside(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns.iter().filter(|p| p.exclusion).any(|p| format!("{}/", p.text).starts_with(&dir_slash))
    }
}

impl fmt::Debug for DockerIgnore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DockerIgnore").field("patterns", &self.sources).field("errors", &self.errors).finish()
    }
}

/// moby `ignorefile.ReadAll`.
pub(super) fn read_patterns(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = if n == 0 { line.strip_prefix('\u{feff}').unwrap_or(line) } else { line };
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut cleaned = String::new();
        if !pattern.is_empty() {
            cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
        }
        out.push(if invert { format!("!{cleaned}") } else { cleaned });
    }
    out
}

/// Go's `filepath.Clean` on Unix.
pub(super) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// The parent directories patternmatcher tries, outermost first: `a`, `a/b` for `a/b/c`.
fn parent_dirs(path: &str) -> Vec<String> {
    let dir = match path.rfind('/') {
        Some(i) => clean(&path[..=i]),
        None => ".".to_owned(),
    };
    if dir == "." {
        return Vec::new();
    }
    let parts: Vec<&str> = dir.split('/').collect();
    (1..=parts.len()).map(|n| parts[..n].join("/")).collect()
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Kind::Suffix(suffix) => path.ends_with(suffix.as_str()) || suffix.strip_prefix('/').is_some_and(|s| path == s),
            Kind::Regex(tokens) => regex_match(tokens, path),
        }
    }
}

/// patternmatcher's `compile`, after `filepath.Match`'s syntax check.
fn compile(pattern: &str) -> Result<Kind, String> {
    check_syntax(pattern)?;
    let chars: Vec<char> = pattern.chars().collect();
    #[derive(PartialEq)]
    enum Form {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut form = Form::Exact;
    let mut tokens = Vec::new();
    let mut pos = 0;
    let mut first = true;
    while pos < chars.len() {
        let ch = chars[pos];
        pos += 1;
        match ch {
            '*' if chars.get(pos) == Some(&'*') => {
                pos += 1;
                if chars.get(pos) == Some(&'/') {
                    pos += 1;
                }
                if pos == chars.len() {
                    if form == Form::Exact {
                        form = Form::Prefix;
                    } else {
                        tokens.push(Token::Rest);
                        form = Form::Regex;
                    }
                } else {
                    tokens.push(Token::Dirs);
                    form = if first { Form::Suffix } else { Form::Regex };
                }
                if first {
                    form = Form::Suffix;
                }
            }
            '*' => {
                tokens.push(Token::Star);
                form = Form::Regex;
            }
            '?' => {
                tokens.push(Token::Question);
                form = Form::Regex;
            }
            '\\' => {
                // check_syntax saw to it that something follows.
                if let Some(&next) = chars.get(pos) {
                    pos += 1;
                    tokens.push(Token::Literal(next));
                    form = Form::Regex;
                }
            }
            '[' => {
                let (token, next) = parse_class(&chars, pos)?;
                tokens.push(token);
                pos = next;
                form = Form::Regex;
            }
            ']' => {
                tokens.push(Token::Literal(']'));
                form = Form::Regex;
            }
            '^' => tokens.push(Token::Start),
            other => tokens.push(Token::Literal(other)),
        }
        first = false;
    }
    Ok(match form {
        Form::Exact => Kind::Exact,
        // Only reachable without escapes or brackets, which make it a regex.
        Form::Prefix => Kind::Prefix(pattern[..pattern.len() - 2].to_owned()),
        Form::Suffix => Kind::Suffix(pattern[2..].to_owned()),
        Form::Regex => Kind::Regex(tokens),
    })
}

/// Go's `filepath.Match` refuses the pattern (`ErrBadPattern`), or its regex would not
/// compile (a reversed range).
fn check_syntax(pattern: &str) -> Result<(), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut pos = 0;
    while pos < chars.len() {
        match chars[pos] {
            '\\' if pos + 1 == chars.len() => return Err("syntax error in pattern (trailing `\\`)".to_owned()),
            '\\' => pos += 2,
            '[' => pos = parse_class(&chars, pos + 1)?.1,
            _ => pos += 1,
        }
    }
    Ok(())
}

/// A bracket expression starting after its `[`, as `filepath.Match` reads it: `^` negates,
/// `\` escapes, `a-z` is a range, and it may not be empty or start with `]` or `-`.
/// Returns the token and the position after the `]`.
fn parse_class(chars: &[char], mut pos: usize) -> Result<(Token, usize), String> {
    let bad = || "syntax error in pattern (bracket expression)".to_owned();
    let mut negated = false;
    if chars.get(pos) == Some(&'^') {
        negated = true;
        pos += 1;
    }
    let mut ranges = Vec::new();
    loop {
        if chars.get(pos) == Some(&']') && !ranges.is_empty() {
            return Ok((Token::Class { negated, ranges }, pos + 1));
        }
        let (lo, next) = class_char(chars, pos).ok_or_else(bad)?;
        pos = next;
        let mut hi = lo;
        if chars.get(pos) == Some(&'-') {
            let (h, next) = class_char(chars, pos + 1).ok_or_else(bad)?;
            hi = h;
            pos = next;
        }
        if hi < lo {
            return Err("invalid character class range".to_owned());
        }
        ranges.push((lo, hi));
    }
}

/// Go's `getEsc`: one possibly escaped character of a bracket expression.
fn class_char(chars: &[char], pos: usize) -> Option<(char, usize)> {
    match chars.get(pos)? {
        '-' | ']' => None,
        '\\' => chars.get(pos + 1).map(|&c| (c, pos + 2)),
        &c => Some((c, pos + 1)),
    }
}

/// Whether the anchored expression matches all of `path`: the set of positions reachable
/// after each token, so any number of stars costs no backtracking.
fn regex_match(tokens: &[Token], path: &str) -> bool {
    let chars: Vec<char> = path.chars().collect();
    let n = chars.len();
    let mut at = vec![false; n + 1];
    at[0] = true;
    for token in tokens {
        let mut next = vec![false; n + 1];
        for p in (0..=n).filter(|&p| at[p]) {
            match token {
                Token::Literal(c) => {
                    if chars.get(p) == Some(c) {
                        next[p + 1] = true;
                    }
                }
                Token::Question => {
                    if chars.get(p).is_some_and(|&c| c != '/') {
                        next[p + 1] = true;
                    }
                }
                Token::Class { negated, ranges } => {
                    if let Some(&c) = chars.get(p) {
                        if ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated {
                            next[p + 1] = true;
                        }
                    }
                }
                Token::Star => {
                    next[p] = true;
                    for q in p..n {
                        if chars[q] == '/' {
                            break;
                        }
                        next[q + 1] = true;
                    }
                }
                Token::Rest => {
                    next[p] = true;
                    for q in p..n {
                        if chars[q] == '\n' {
                            break;
                        }
                        next[q + 1] = true;
                    }
                }
                Token::Dirs => {
                    next[p] = true;
                    for q in p..n {
                        if chars[q] == '\n' {
                            break;
                        }
                        if chars[q] == '/' {
                            next[q + 1] = true;
                        }
                    }
                }
                Token::Start => next[p] = p == 0 || next[p],
            }
        }
        at = next;
        if !at.contains(&true) {
            return false;
        }
    }
    at[n]
}

#[cfg(test)]
mod tests {
    use super::{clean, read_patterns, DockerIgnore};

    #[test]
    fn clean_is_go_filepath_clean() {
        for (input, want) in [
            ("", "."),
            (".", "."),
            ("a/./b/", "a/b"),
            ("a//b", "a/b"),
            ("a/../b", "b"),
            ("../a", "../a"),
            ("a/../../b", "../b"),
            ("/../a", "/a"),
            ("/", "/"),
            ("!/", "!"),
            ("./Dockerfile", "Dockerfile"),
        ] {
            assert_eq!(clean(input), want, "{input:?}");
        }
    }

    #[test]
    fn reading_follows_ignorefile() {
        let text = "\u{feff}# comment\n  # not a comment\n\n/abs/path\r\n! /neg/./x \n!\n  spaced  \n/\n";
        assert_eq!(read_patterns(text), ["# not a comment", "abs/path", "!neg/x", "!", "spaced", "/"]);
        let ignore = DockerIgnore::parse(text);
        assert_eq!(ignore.errors().len(), 1, "{ignore:?}");
        assert!(ignore.is_excluded("# not a comment"));
        assert!(ignore.is_excluded("abs/path/deeper"));
    }
}
