//! Route templates (`/images/{name}/json`) compiled once and matched like the daemon's
//! `{name:.*}` routes: every parameter is greedy and may span `/`, so `registry:5000/team/app:1.2` is one image name.

use std::cmp::Ordering;

use super::query::percent_decode;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Param(String),
}

/// Path parameters by name, percent-decoded, in template order.
pub type Params = Vec<(String, String)>;

/// A compiled route template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    template: String,
    parts: Vec<Part>,
}

impl Pattern {
    /// Compiles `/images/{name}/json`. A `{` without its `}` (or an empty `{}`) is literal text.
    pub fn new(template: &str) -> Pattern {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) if close > 0 => {
                    literal.push_str(&rest[..open]);
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Param(after[..close].to_owned()));
                    rest = &after[close + 1..];
                }
                _ => {
                    literal.push_str(&rest[..=open]);
                    rest = after;
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Pattern { template: template.to_owned(), parts }
    }

    pub fn template(&self) -> &str {
        &self.template
    }

    /// How many `{param}`s the template has.
    pub fn param_count(&self) -> usize {
        self.parts.iter().filter(|p| matches!(p, Part::Param(_))).count()
    }

    /// How much literal text the template has.
    pub fn literal_len(&self) -> usize {
        self.parts.iter().map(|p| if let Part::Literal(l) = p { l.len() } else { 0 }).sum()
    }

    /// The order routes are tried in: fewer parameters first, then more literal text, so that
    /// `/images/json` wins over `/images/{name}` and `/plugins/{name}/json` over `/plugins/{name}`.
    pub fn precedence(&self, other: &Pattern) -> Ordering {
        self.param_count().cmp(&other.param_count()).then_with(|| other.literal_len().cmp(&self.literal_len()))
    }

    /// Matches a request path (still percent-encoded). On success, the parameters by name,
    /// percent-decoded, in template order. Each parameter takes one or more characters, the
    /// leftmost as many as it can (a regex `(.+)`).
    pub fn matches(&self, path: &str) -> Option<Params> {
        self.matches_with(path, |raw| percent_decode(raw, false))
    }

    /// Matches a path that is already percent-decoded, as the daemon's router sees it (Go's
    /// `URL.Path`): the parameters are taken as they stand, not decoded again.
    pub fn matches_decoded(&self, path: &str) -> Option<Params> {
        self.matches_with(path, str::to_owned)
    }

    fn matches_with(&self, path: &str, value: impl Fn(&str) -> String) -> Option<Params> {
        let mut spans = Vec::new();
        if !match_from(&self.parts, path, 0, &mut spans) {
            return None;
        }
        let params = self
            .parts
            .iter()
            .filter_map(|p| if let Part::Param(name) = p { Some(name) } else { None })
            .zip(spans)
            .map(|(name, (start, end))| (name.clone(), value(&path[start..end])))
            .collect();
        Some(params)
    }
}

/// Backtracking match of `parts` against `path[pos..]`, recording each parameter's span.
/// Templates have at most a couple of parameters, so the search stays small.
fn match_from(parts: &[Part], path: &str, pos: usize, spans: &mut Vec<(usize, usize)>) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return pos == path.len();
    };
    let remaining = &path[pos..];
    match first {
        Part::Literal(lit) => remaining.starts_with(lit.as_str()) && match_from(rest, path, pos + lit.len(), spans),
        Part::Param(_) => {
            // Greedy: the longest candidate first. When a literal follows, only the places
            // where it occurs can end the parameter.
            let next_literal = match rest.first() {
                Some(Part::Literal(lit)) => Some(lit.as_str()),
                _ => None,
            };
            let mut end = path.len();
            while end > pos {
                if path.is_char_boundary(end) && next_literal.is_none_or(|lit| path[end..].starts_with(lit)) {
                    spans.push((pos, end));
                    if match_from(rest, path, end, spans) {
                        return true;
                    }
                    spans.pop();
                }
                end -= 1;
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(template: &str, path: &str) -> Option<Params> {
        Pattern::new(template).matches(path)
    }

    fn one(template: &str, path: &str) -> Option<String> {
        params(template, path).map(|mut p| p.remove(0).1)
    }

    #[test]
    fn literal_routes() {
        assert_eq!(params("/containers/json", "/containers/json"), Some(vec![]));
        assert_eq!(params("/containers/json", "/containers/json/"), None);
        assert_eq!(params("/containers/json", "/containers/jso"), None);
        assert_eq!(params("/_ping", "/_ping"), Some(vec![]));
    }

    #[test]
    fn greedy_names() {
        assert_eq!(one("/images/{name}/json", "/images/registry:5000/team/app:1.2/json").as_deref(), Some("registry:5000/team/app:1.2"));
        assert_eq!(one("/images/{name}/json", "/images/a/json/json").as_deref(), Some("a/json"));
        assert_eq!(one("/images/{name}", "/images/a/b:c").as_deref(), Some("a/b:c"));
        assert_eq!(one("/images/{name}", "/images/"), None);
        assert_eq!(one("/images/{name}/json", "/images//json"), None);
        assert_eq!(one("/images/{name}/json", "/images/json"), None);
        assert_eq!(one("/plugins/{name}/enable", "/plugins/vieux/sshfs:latest/enable").as_deref(), Some("vieux/sshfs:latest"));
        assert_eq!(one("/images/{name}/push", "/images/a/tag/push").as_deref(), Some("a/tag"));
        assert_eq!(one("/images/{name}/tag", "/images/a/tag/push"), None);
        assert_eq!(one("/images/{name}/json", "/images/sha256%3Aabc%2Fx/json").as_deref(), Some("sha256:abc/x"));
        assert_eq!(one("/images/{name}/json", "/images/%zz/json").as_deref(), Some("%zz"));
        let decoded = Pattern::new("/images/{name}/json").matches_decoded("/images/a%2Fb/json").unwrap();
        assert_eq!(decoded, [("name".to_owned(), "a%2Fb".to_owned())]);
    }

    #[test]
    fn several_params_and_odd_templates() {
        let p = params("/a/{x}/b/{y}", "/a/1/b/2/b/3").unwrap();
        assert_eq!(p, [("x".to_owned(), "1/b/2".to_owned()), ("y".to_owned(), "3".to_owned())]);
        let p = params("/{x}{y}", "/abc").unwrap();
        assert_eq!(p, [("x".to_owned(), "ab".to_owned()), ("y".to_owned(), "c".to_owned())]);
        assert_eq!(params("/{x}{y}", "/a"), None);
        assert_eq!(Pattern::new("/a/{oops").param_count(), 0);
        assert_eq!(params("/a/{oops", "/a/{oops"), Some(vec![]));
        assert_eq!(params("/a/{}", "/a/{}"), Some(vec![]));
        assert_eq!(one("/é/{x}", "/é/ü").as_deref(), Some("ü"));
    }

    #[test]
    fn precedence() {
        let mut patterns: Vec<Pattern> = ["/images/{name}", "/images/{name}/json", "/images/json", "/a/{x}/b/{y}", "/images/search"]
            .into_iter()
            .map(Pattern::new)
            .collect();
        patterns.sort_by(Pattern::precedence);
        let order: Vec<&str> = patterns.iter().map(Pattern::template).collect();
        assert_eq!(order, ["/images/search", "/images/json", "/images/{name}/json", "/images/{name}", "/a/{x}/b/{y}"]);
    }
}
