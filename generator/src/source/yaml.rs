//! The one place that parses YAML, so the YAML crate can be swapped in one line.

use crate::diagnostics::Diagnostic;

/// Parses a YAML document into JSON values, keeping key order; `file` labels errors.
///
/// Keys such as `200:` become the strings JSON needs.
pub fn parse(text: &str, file: &str) -> Result<serde_json::Value, Diagnostic> {
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

    #[test]
    fn errors_name_file_and_line() {
        let e = super::parse("a: [1, 2\n", "bad.yaml").unwrap_err();
        assert_eq!(e.file, "bad.yaml");
        assert!(e.message.contains("line"), "{}", e.message);
    }
}
