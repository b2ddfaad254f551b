//! The intermediate representation: one [`ApiSpec`] per version, built from OpenAPI 3.0
//! ([`build`]), its descriptions' in-page links made absolute ([`links`]), named
//! ([`naming`]), then related across versions ([`history`]).

pub mod build;
pub mod history;
pub mod links;
pub mod model;
pub mod naming;

pub use history::History;
pub use model::*;

use crate::diagnostics::Diagnostics;
use crate::version::ApiVersion;

/// Builds and names the IR of one version.
pub fn build_version(api: &openapiv3::OpenAPI, version: ApiVersion, source: &str) -> Result<ApiSpec, Diagnostics> {
    let mut spec = build::build(api, version, source)?;
    links::resolve(&mut spec);
    naming::assign_names(&mut spec)?;
    Ok(spec)
}
