//! `cargo xtask diff A B [--json]`: what changed between two API versions.

use moby_api_codegen::pipeline::{self, Inputs, Timings};
use moby_api_codegen::{diff, ApiVersion};

pub fn run(inputs: &Inputs, from: &str, to: &str, json: bool) -> Result<(), String> {
    let (a, b) = (parse(from)?, parse(to)?);
    let history = pipeline::load_history(inputs, &mut Timings::default()).map_err(|e| e.to_string())?;
    let spec = |v: ApiVersion| history.spec(v).ok_or_else(|| format!("version {v} did not load"));
    let d = diff::diff(spec(a)?, spec(b)?);
    if json {
        println!("{}", serde_json::to_string_pretty(&d).map_err(|e| e.to_string())?);
    } else {
        print!("{}", d.to_markdown());
    }
    Ok(())
}

fn parse(text: &str) -> Result<ApiVersion, String> {
    ApiVersion::parse(text).ok_or_else(|| {
        let all: Vec<String> = ApiVersion::all().map(|v| v.to_string()).collect();
        format!("`{text}` is not a supported API version; supported: {}", all.join(", "))
    })
}
