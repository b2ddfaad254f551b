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
    // Content indent of the list item being continued, so continuation lines line up with it
    // (rustdoc and clippy read under- and over-indented continuations differently).
    let mut list_indent: Option<usize> = None;
    let mut out = Vec::new();
    let trimmed = text.trim_matches('\n').trim_end();
    // An indented (4-space) code block, which rustdoc would compile as Rust: fenced as text.
    let mut in_indented = false;
    let mut previous_blank = true;
    for line in trimmed.lines() {
        // Swagger UI paragraph breaks; rustdoc reads them as unclosed `<p>` tags.
        let line = line.replace("<p><br /><p>", "").replace("<p><br/><p>", "");
        let line = line.trim_end();
        let indented = line.starts_with("    ") && !line.trim_start().is_empty();
        if !in_fence && indented && (in_indented || (previous_blank && list_indent.is_none())) {
            if !in_indented {
                out.push(" ```text".to_string());
                in_indented = true;
            }
            out.push(format!(" {}", &line[4..]));
            continue;
        }
        if in_indented && !line.is_empty() {
            out.push(" ```".to_string());
            in_indented = false;
        }
        previous_blank = line.is_empty();
        let t = line.trim_start();
        let line = if let Some(lang) = t.strip_prefix("```") {
            let opening = !in_fence;
            in_fence = !in_fence;
            if opening && lang.trim().is_empty() {
                line.replacen("```", "```text", 1)
            } else {
                line.to_string()
            }
        } else if in_fence {
            line.to_string()
        } else {
            let line = continue_list_item(line, &mut list_indent);
            outside_code(&line, escape_prose)
        };
        out.push(if line.is_empty() { String::new() } else { format!(" {line}") });
    }
    if in_fence || in_indented {
        out.push(" ```".to_string());
    }
    out
}

/// Re-indents a continuation line of a Markdown list item to the item's content column.
fn continue_list_item(line: &str, list_indent: &mut Option<usize>) -> String {
    let body = line.trim_start();
    let indent = line.len() - body.len();
    if body.is_empty() {
        *list_indent = None;
        return String::new();
    }
    let marker = if body.starts_with("- ") || body.starts_with("* ") || body.starts_with("+ ") {
        Some(2)
    } else {
        let digits = body.chars().take_while(char::is_ascii_digit).count();
        (digits > 0 && body[digits..].starts_with(". ")).then_some(digits + 2)
    };
    match (marker, *list_indent) {
        (Some(m), _) => {
            *list_indent = Some(indent + m);
            line.to_string()
        }
        (None, Some(content)) if indent != content => format!("{}{body}", " ".repeat(content)),
        _ => line.to_string(),
    }
}

/// Applies `f` to the parts of a line that are not inside backtick code spans.
fn outside_code(line: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, part) in line.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 0 {
            out.push_str(&f(part));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Makes Swagger-flavoured prose safe for rustdoc: bare URLs become autolinks, and
/// `[Word]` that is not a Markdown link is escaped so rustdoc does not resolve it as an
/// intra-doc link.
fn escape_prose(text: &str) -> String {
    let text = escape_unknown_tags(text);
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let url_at = rest.find("http://").into_iter().chain(rest.find("https://")).min();
        let bracket_at = rest.find('[');
        match (url_at, bracket_at) {
            (Some(u), b) if b.is_none_or(|b| u < b) => {
                let before = &rest[..u];
                let end = rest[u..].find(|c: char| c.is_whitespace() || c == ')' || c == '>' || c == '"').map_or(rest.len(), |e| u + e);
                let mut url = &rest[u..end];
                let trailing = url.len() - url.trim_end_matches(['.', ',', ';', ':']).len();
                url = &url[..url.len() - trailing];
                out.push_str(before);
                if before.ends_with('(') || before.ends_with('<') || before.ends_with("](") {
                    out.push_str(url);
                } else {
                    out.push('<');
                    out.push_str(url);
                    out.push('>');
                }
                rest = &rest[u + url.len()..];
            }
            (_, Some(b)) => {
                out.push_str(&rest[..b]);
                let close = rest[b..].find(']').map(|c| b + c);
                match close {
                    Some(c)
                        if !out.ends_with(']')
                            && !matches!(rest[c + 1..].chars().next(), Some('(' | '[' | ':'))
                            && rest[b + 1..c].chars().all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '.')
                            && c > b + 1 =>
                    {
                        out.push_str("\\[");
                        out.push_str(&rest[b + 1..c]);
                        out.push_str("\\]");
                        rest = &rest[c + 1..];
                    }
                    _ => {
                        out.push('[');
                        rest = &rest[b + 1..];
                    }
                }
            }
            _ => {
                out.push_str(rest);
                break;
            }
        }
    }
    out
}

/// `<string>`, `<port>`, `<name|id>` are placeholders in Docker's prose, not HTML: escape
/// them so rustdoc shows them instead of warning about unclosed tags.
fn escape_unknown_tags(text: &str) -> String {
    const HTML: &[&str] =
        &["br", "p", "sup", "sub", "b", "i", "em", "strong", "code", "pre", "a", "ul", "ol", "li", "table", "tr", "td", "th"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let name: String = after.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let is_url = after.starts_with("http://") || after.starts_with("https://");
        if is_url || (!name.is_empty() && HTML.contains(&name.to_ascii_lowercase().as_str())) {
            out.push('<');
        } else {
            out.push_str("&lt;");
        }
        rest = after;
    }
    out.push_str(rest);
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
        assert_eq!(super::doc_lines("a\n<p><br /><p>\nb"), [" a", "", " b"]);
    }

    #[test]
    fn indented_blocks_become_text_fences_and_placeholders_are_escaped() {
        assert_eq!(super::doc_lines("see:\n\n    a [b]\n    c\n\nafter"), [" see:", "", " ```text", " a [b]", " c", "", " ```", " after"]);
        assert_eq!(super::escape_prose("`x`=<string> and <br /> and <https://a.b>"), "`x`=&lt;string> and <br /> and <https://a.b>");
    }

    #[test]
    fn list_continuations_line_up() {
        let lines = super::doc_lines("- `a` one\n   two\nthree\n\nafter\n1. x\n y");
        assert_eq!(lines, [" - `a` one", "   two", "   three", "", " after", " 1. x", "    y"]);
    }

    #[test]
    fn prose_is_made_safe_for_rustdoc() {
        let e = super::escape_prose;
        assert_eq!(e("see http://man7.org/hosts.5.html."), "see <http://man7.org/hosts.5.html>.");
        assert_eq!(e("[docs](https://docs.docker.com/x) and <https://a.b>"), "[docs](https://docs.docker.com/x) and <https://a.b>");
        assert_eq!(e("the sum of [Content] size"), "the sum of \\[Content\\] size");
        assert_eq!(e("a [link][ref] and [ref]: x and [a b]"), "a [link][ref] and [ref]: x and [a b]");
        assert_eq!(super::outside_code("`[x]` and [y]", super::escape_prose), "`[x]` and \\[y\\]");
    }
}
