//! `cargo xtask diff A B [--json]`: what changed between two API versions.

use moby_api_codegen::pipeline::{self, Inputs, Timings};
use moby_api_codegen::{diff, ApiVersion};

pub fn run(inputs: &Inputs, from: &str, to: &str, json: bool) -> Result<(), String> {
    let history = pipeline::load_history(inputs, &mut Timings::default()).map_err(|e| e.to_string())?;
    let spec = |text: &str| {
        ApiVersion::parse(text).and_then(|v| history.spec(v)).ok_or_else(|| {
            let all: Vec<String> = history.versions().map(|v| v.to_string()).collect();
            format!("`{text}` is not a version of spec/manifest.yaml; the versions are {}", all.join(", "))
        })
    };
    let d = diff::diff(spec(from)?, spec(to)?);
    if json {
        println!("{}", serde_json::to_string_pretty(&d).map_err(|e| e.to_string())?);
    } else {
        print!("{}", d.to_markdown());
    }
    Ok(())
}
