//! `spec_import FILE [RUNS]`: imports an OpenAPI document at run time RUNS times (default 5)
//! and prints each import's wall time, then the registry build of the last one. Run it under
//! `/usr/bin/time -v` for the peak memory of one import (RUNS=1).

use std::time::Instant;

use threecx_ops::registry_api::Registry;
use threecx_spec::{FromSpec, SpecSet};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: spec_import FILE [RUNS]");
    let runs: usize = args
        .next()
        .map_or(5, |r| r.parse().expect("RUNS is a number"));
    let bytes = std::fs::read(&path).expect("read the spec");
    let name = std::path::Path::new(&path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut set = None;
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        set = Some(SpecSet::import(bytes.clone(), &name, None).expect("import"));
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let set = set.expect("at least one run");
    let start = Instant::now();
    let registry = Registry::from_spec(&set).expect("registry");
    let build = start.elapsed().as_secs_f64() * 1000.0;
    let start = Instant::now();
    let cached = serde_json::to_vec(&set).expect("encode");
    let decoded: SpecSet = serde_json::from_slice(&cached).expect("decode");
    let decode = start.elapsed().as_secs_f64() * 1000.0;
    times.sort_by(f64::total_cmp);
    println!(
        "import of {name} ({} bytes): median {:.1} ms, min {:.1} ms over {runs} runs",
        bytes.len(),
        times[times.len() / 2],
        times[0]
    );
    println!(
        "registry build: {build:.1} ms for {} actions; cached set {} bytes, encode+decode {decode:.1} ms ({} actions)",
        registry.len(),
        cached.len(),
        decoded.actions.len()
    );
}
