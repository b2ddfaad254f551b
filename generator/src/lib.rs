//! The moby-api code generator: Docker Engine API specifications in, Rust code out.
//!
//! Data flow: [`source`] (verified upstream files + overlays, Swagger 2.0 → OpenAPI 3.0)
//! → [`ir`] (one model per version, named, related across versions) → [`emit`]
//! (token streams per file) → [`emit::format`] (prettyplease) → files under `generated/`.
//! See ARCHITECTURE.md at the repository root.

pub mod changelog;
pub mod diagnostics;
pub mod diff;
pub mod engines;
pub mod emit;
pub mod ir;
pub mod matrix;
pub mod output;
pub mod pipeline;
pub mod source;
pub mod summary;
pub mod version;

pub use diagnostics::{Diagnostic, Diagnostics};
pub use version::{ApiVersion, VersionSet};
