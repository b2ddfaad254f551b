//! Links inside the spec's descriptions, made to work outside the upstream page.
//!
//! The descriptions are written for the rendered reference of one version (Redoc), so
//! they link to its anchors: `[the inspect endpoint](#operation/ContainerInspect)`,
//! `[authentication](#section/Authentication)`. In rustdoc, a README or an editor's hover
//! those fragments lead nowhere; they become links to the same anchor on that version's
//! page of the Docker documentation, with the tag Redoc puts in an operation's anchor.

use super::model::{ApiSpec, TypeKind};
use crate::version::ApiVersion;

/// The Docker documentation's reference page of `version`.
pub fn reference_page(version: ApiVersion) -> String {
    format!("https://docs.docker.com/reference/api/engine/version/v{version}/")
}

/// Rewrites every in-page link of every description of `spec`.
pub fn resolve(spec: &mut ApiSpec) {
    let page = reference_page(spec.version);
    let tags: Vec<(String, Option<String>)> = spec.operations.iter().map(|op| (op.id.clone(), op.tag.clone())).collect();
    let rewrite = |text: &mut Option<String>| {
        if let Some(t) = text.as_mut().filter(|t| t.contains("](#")) {
            *t = absolute_links(t, &page, |id| tags.iter().find(|(op, _)| op == id).and_then(|(_, tag)| tag.clone()));
        }
    };
    for ty in &mut spec.types {
        rewrite(&mut ty.description);
        if let TypeKind::Struct { fields, .. } = &mut ty.kind {
            fields.iter_mut().for_each(|f| rewrite(&mut f.description));
        }
    }
    for op in &mut spec.operations {
        rewrite(&mut op.summary);
        rewrite(&mut op.description);
        op.parameters.iter_mut().for_each(|p| rewrite(&mut p.description));
        if let Some(body) = &mut op.request_body {
            rewrite(&mut body.description);
        }
        for response in &mut op.responses {
            rewrite(&mut response.description);
            response.headers.iter_mut().for_each(|h| rewrite(&mut h.description));
        }
    }
}

/// `text` with each `](#fragment)` pointing into `page`; `#operation/Id` gains its tag
/// (`#tag/Container/operation/ContainerInspect`) when `tag_of` knows it.
fn absolute_links(text: &str, page: &str, tag_of: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(at) = rest.find("](#") {
        out.push_str(&rest[..at + 2]);
        let target = &rest[at + 2..];
        let end = target.find(')').unwrap_or(target.len());
        let fragment = &target[1..end];
        out.push_str(page);
        match fragment.strip_prefix("operation/").and_then(|id| Some((id, tag_of(id)?))) {
            Some((id, tag)) => out.push_str(&format!("#tag/{tag}/operation/{id}")),
            None => {
                out.push('#');
                out.push_str(fragment);
            }
        }
        rest = &target[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_point_into_the_versions_page() {
        let tag_of = |id: &str| (id == "ContainerInspect").then(|| "Container".to_string());
        let page = reference_page(ApiVersion::parse("1.41").unwrap());
        assert_eq!(page, "https://docs.docker.com/reference/api/engine/version/v1.41/");
        assert_eq!(
            absolute_links("see [the inspect endpoint](#operation/ContainerInspect).", &page, tag_of),
            "see [the inspect endpoint](https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerInspect)."
        );
        assert_eq!(
            absolute_links("[auth](#section/Authentication) and [x](#operation/Gone)", &page, tag_of),
            "[auth](https://docs.docker.com/reference/api/engine/version/v1.41/#section/Authentication) and \
             [x](https://docs.docker.com/reference/api/engine/version/v1.41/#operation/Gone)"
        );
        // Other links are kept; an unclosed one still points into the page.
        assert_eq!(absolute_links("[a](https://x/#y) [b](#c", &page, tag_of), format!("[a](https://x/#y) [b]({page}#c"));
        assert_eq!(absolute_links("no links", &page, tag_of), "no links");
    }
}
