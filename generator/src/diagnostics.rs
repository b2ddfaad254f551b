//! Located errors: every problem names the file and the JSON pointer it comes from.

use std::fmt;

/// One problem found in an input, with enough location to find it by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in (an upstream spec, an overlay, the manifest).
    pub file: String,
    /// RFC 6901 JSON pointer into that file's document ("" is the whole document).
    pub pointer: String,
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: impl Into<String>, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { file: file.into(), pointer: pointer.into(), message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}#{}: {}", self.file, self.pointer, self.message)
        }
    }
}

/// All problems of a run; generation reports them together instead of stopping at the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    /// The values of `results` in order when none failed, otherwise every failure's
    /// diagnostics: what runs over many inputs (files, versions) reports them all at once.
    pub fn collect<T, E: Into<Diagnostics>>(results: impl IntoIterator<Item = Result<T, E>>) -> Result<Vec<T>, Diagnostics> {
        let mut problems = Diagnostics::default();
        let mut values = Vec::new();
        for r in results {
            match r {
                Ok(value) => values.push(value),
                Err(e) => problems.extend(e.into()),
            }
        }
        problems.into_result(values)
    }

    /// `Ok(value)` when nothing was reported, otherwise all diagnostics.
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Appends one reference token to a JSON pointer, escaping `~` and `/` (RFC 6901).
pub fn pointer_push(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// Splits a JSON pointer into unescaped reference tokens.
pub fn pointer_tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(rest.split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_round_trip() {
        let p = pointer_push(&pointer_push("", "paths"), "/containers/{id}/json");
        assert_eq!(p, "/paths/~1containers~1{id}~1json");
        assert_eq!(pointer_tokens(&p).unwrap(), vec!["paths", "/containers/{id}/json"]);
        assert_eq!(pointer_tokens("no-slash"), None);
    }
}
