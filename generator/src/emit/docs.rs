//! Rustdoc from the spec's descriptions (Markdown written for Swagger UI).

use proc_macro2::TokenStream;
use quote::quote;

/// `#[doc]` attributes for `text`; fenced blocks without a language become `text` blocks so
/// rustdoc does not read the spec's JSON and shell examples as Rust.
pub fn outer(text: &str) -> TokenStream {
    let lines = doc_lines(text);
    quote! { #( #[doc = #lines] )* }
}

/// Inner (`//!`) doc attributes.
pub fn inner(text: &str) -> TokenStream {
    let lines = doc_lines(text);
    quote! { #( #![doc = #lines] )* }
}

fn doc_lines(text: &str) -> Vec<String> {
    let mut in_fence = false;
    let mut out = Vec::new();
    let trimmed = text.trim_matches('\n').trim_end();
    for line in trimmed.lines() {
        let line = line.trim_end();
        let t = line.trim_start();
        let line = if let Some(lang) = t.strip_prefix("```") {
            let opening = !in_fence;
            in_fence = !in_fence;
            if opening && lang.trim().is_empty() {
                line.replacen("```", "```text", 1)
            } else {
                line.to_string()
            }
        } else {
            line.to_string()
        };
        out.push(if line.is_empty() { String::new() } else { format!(" {line}") });
    }
    if in_fence {
        out.push(" ```".to_string());
    }
    out
}

/// Joins paragraphs, skipping empty ones.
pub fn paragraphs<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> String {
    parts.into_iter().flatten().map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("\n\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn fences_get_a_language() {
        assert_eq!(
            super::doc_lines("a\n```\n{}\n```\n\n```json\n{}\n```"),
            [" a", " ```text", " {}", " ```", "", " ```json", " {}", " ```"]
        );
        assert_eq!(super::doc_lines("```\nopen"), [" ```text", " open", " ```"]);
    }
}
