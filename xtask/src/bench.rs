//! `cargo xtask bench`: stage timings of the generator (and compile times on request).

use moby_api_codegen::pipeline::{self, Inputs, Timings};

use crate::root;

pub fn run(inputs: &Inputs, runs: usize, _compile: bool) -> Result<(), String> {
    let runs = runs.max(1);
    let mut all: Vec<Timings> = Vec::new();
    for _ in 0..runs {
        let (_, _, t) = pipeline::generate(inputs, &root().join("templates")).map_err(|e| e.to_string())?;
        all.push(t);
    }
    let median = |f: fn(&Timings) -> std::time::Duration| {
        let mut v: Vec<_> = all.iter().map(f).collect();
        v.sort();
        v[v.len() / 2]
    };
    println!("| stage | median of {runs} |\n|---|---|");
    println!("| load (read, verify, YAML, overlays, upgrade, openapiv3) | {:.0?} |", median(|t| t.load));
    println!("| IR (build, naming, history, sharing) | {:.0?} |", median(|t| t.ir));
    println!("| emit (tokens) | {:.0?} |", median(|t| t.emit));
    println!("| format (syn + prettyplease) | {:.0?} |", median(|t| t.format));
    println!("| total, all 26 versions | {:.0?} |", median(|t| t.total()));
    Ok(())
}
