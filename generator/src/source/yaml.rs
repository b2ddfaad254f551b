//! The one place that parses YAML, so the YAML crate can be swapped in one line.

use super::fast_yaml;
use crate::diagnostics::Diagnostic;

/// Parses a YAML document into JSON values, keeping key order; `file` labels errors.
///
/// Keys such as `200:` become the strings JSON needs.
///
/// The specifications' block style is read by [`fast_yaml`]; whatever it leaves (other
/// YAML, and every error) goes to the general parser.
pub fn parse(text: &str, file: &str) -> Result<serde_json::Value, Diagnostic> {
    if let Some(value) = fast_yaml::parse(text) {
        return Ok(value);
    }
    general(text, file)
}

/// The general YAML parser, whose errors say the line and column.
fn general(text: &str, file: &str) -> Result<serde_json::Value, Diagnostic> {
    yaml_serde::from_str::<serde_json::Value>(text).map_err(|e| {
        let at = e.location().map(|l| format!(" (line {}, column {})", l.line(), l.column())).unwrap_or_default();
        Diagnostic::new(file, "", format!("invalid YAML{at}: {e}"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn numeric_keys_become_strings_and_order_is_kept() {
        let v = super::parse("responses:\n  200:\n    description: ok\n  404: {description: no}\nb: 1\na: 2\n", "t.yaml").unwrap();
        assert_eq!(v["responses"]["200"]["description"], "ok");
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["responses", "b", "a"]);
    }

    use std::path::{Path, PathBuf};

    /// The fast reader reads exactly what the general parser reads (keys in order, numbers
    /// of the same kind), or leaves it to it.
    fn same_as_general(text: &str, what: &str) -> bool {
        let general = super::general(text, what).map(|v| serde_json::to_string(&v).unwrap());
        match super::fast_yaml::parse(text) {
            Some(fast) => {
                assert_eq!(Ok(serde_json::to_string(&fast).unwrap()), general, "{what}");
                true
            }
            None => false,
        }
    }

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }

    /// Every upstream specification is read by the fast reader (else the load is slow
    /// again, silently), the same as by the general parser.
    #[test]
    fn fast_reader_reads_every_upstream_file_as_the_general_parser() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let dir = std::env::var_os("MOBY_API_SPEC_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("../shared/docker-api"));
        let mut files = Vec::new();
        match dir.is_dir() {
            true => yaml_files(&dir, &mut files),
            false if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!("{} is missing", dir.display()),
            false => eprintln!("skipping the upstream files: {} is missing", dir.display()),
        }
        assert!(files.is_empty() || files.len() > 30, "{files:?}");
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(same_as_general(&text, &path.display().to_string()), "{} is left to the general parser", path.display());
        }
        // The project's own YAML: whatever the fast reader takes, it reads right.
        let mut files = Vec::new();
        yaml_files(&root.join("spec"), &mut files);
        for path in files {
            same_as_general(&std::fs::read_to_string(&path).unwrap(), &path.display().to_string());
        }
    }

    #[test]
    fn fast_reader_constructs() {
        let cases = [
            "a: 1\nb: -2\nc: 1.5\nd: 1e3\ne: 007\nf: true\ng: ~\nh:\ni: '1'\nj: \"x\\ty\\u00e9\"\nk: 18446744073709551615\n",
            "a:\n  - 1\n  - x: 1\n    y: [1, 'two', {z: 3}]\n  -\n    nested: yes\nb:\n- same\n- indent\nc: 2\n",
            "a: |\n  line one\n\n    more indented\n  last\n\nb: |-\n  stripped\nc: >\n  folded\n  text\n\n  para\nd: >-\n  x\ne: |\n\n  leading empty\n",
            "a: plain text\n  continued here\n\n  and a paragraph\nb: \"double\n  quoted\n\n  folded\"\nc: 'single ''quote''\n  folded'\nd: \"kept\\ \n  \\\n  joined\"\n",
            "# comment\na: x # trailing\n\"200\": {description: ok}\n'k:y': \"http://a/b#c\"\nl: {a: , b: [1, -2, 3.0]}\nm: [\n  1,\n  2\n]\n",
            "- a\n- b: 1\n  c: 2\n- [x]\n",
        ];
        for (i, text) in cases.iter().enumerate() {
            assert!(same_as_general(text, &format!("case {i}")), "case {i} is left to the general parser");
        }
        // Left to the general parser: anchors, tags, tabs, hexadecimal, duplicate keys, errors.
        for text in ["a: &x 1\nb: *x\n", "a: !!str 1\n", "a:\t1\n", "a: 0x1F\n", "a: 1\na: 2\n", "a: [1, 2\n", "a: b: c\n", "a: .inf\n"] {
            assert!(super::fast_yaml::parse(text).is_none(), "{text:?}");
        }
    }

    /// Random edits of YAML in the specifications' style (characters that matter to YAML
    /// inserted or deleted, lines re-indented or repeated): whatever the fast reader still
    /// takes, the general parser reads the same; the rest is its to read or reject.
    #[test]
    fn fast_reader_agrees_on_mutated_yaml() {
        const ROUNDS: usize = 5000;
        let base = "swagger: \"2.0\"\ninfo:\n  title: \"Docker\"\n  version: '1.41'\npaths:\n  /containers/{id}/json:\n    get:\n      description: |\n        Returns `container`.\n\n        More: see below.\n      parameters:\n        - name: \"id\"\n          in: \"path\"\n          required: true\n          type: integer\n          default: 10\n        - {name: size, in: query, type: boolean, default: false}\n      responses:\n        200:\n          description: no error\n            continued # comment\n          schema:\n            type: array\n            items: [1, -2.5, \"x\", {a: b}]\n        404: {description: \"no such\\n\n   container\"}\n      tags: [\"Container\"]\n      summary: >-\n        folded\n        text\n";
        let pieces =
            [" ", ":", "-", "#", "'", "\"", "[", "]", "{", "}", ",", "|", ">", "\n", "a", "0", "\\", "  ", ": ", "- ", "?", "&", "*"];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut taken = 0;
        for _ in 0..ROUNDS {
            let mut text = base.to_owned();
            for _ in 0..1 + next(3) {
                let at = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).nth(next(text.len() + 1)).unwrap_or(0);
                match next(4) {
                    0 => text.insert_str(at, pieces[next(pieces.len())]),
                    1 if at < text.len() => {
                        text.remove(at);
                    }
                    2 => {
                        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                        text.insert_str(start, ["  ", " "][next(2)]);
                    }
                    _ => {
                        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                        let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
                        let line = text[start..end].to_owned();
                        text.insert_str(end, &line);
                    }
                }
            }
            taken += usize::from(same_as_general(&text, &format!("{text:?}")));
        }
        assert!(taken > ROUNDS / 10, "the fast reader took only {taken} of {ROUNDS}");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = super::parse("a: [1, 2\n", "bad.yaml").unwrap_err();
        assert_eq!(e.file, "bad.yaml");
        assert!(e.message.contains("line"), "{}", e.message);
    }
}
