//! `threecx export n8n`: the description of the n8n node `n8n-nodes-threecx` (its resources,
//! operations and fields), exactly as the package that n8n installs carries it: both come from
//! the same generated file (codegen, from `schemas/`).

use std::io::Write;

use serde_json::{json, Value};

use crate::cli::{ExportArgs, ExportCommand};
use crate::exit::{CliError, CliResult};
use crate::output::write_json;

/// The node's generated properties (`"@generated"`, version, spec hash and `properties`).
const PROPERTIES: &str =
    include_str!("../../../../integrations/n8n-nodes-threecx/generated/properties.json");

pub fn run(command: &ExportCommand) -> CliResult {
    match command {
        ExportCommand::N8n(args) => n8n(args),
    }
}

/// `{"package", "threecx_version", "spec_sha256", "counts": {"resources", "operations"},
/// "properties": [...]}`.
fn description() -> Value {
    let generated: Value =
        serde_json::from_str(PROPERTIES).expect("the generated n8n properties are JSON");
    let properties = generated["properties"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let options = |p: &Value| p["options"].as_array().map_or(0, Vec::len);
    let resources = properties
        .iter()
        .find(|p| p["name"] == "resource")
        .map_or(0, options);
    let operations: usize = properties
        .iter()
        .filter(|p| p["name"] == "operation")
        .map(options)
        .sum();
    json!({
        "package": "n8n-nodes-threecx",
        "node": "n8n-nodes-threecx.threeCx",
        "threecx_version": generated["threecx_version"],
        "spec_sha256": generated["spec_sha256"],
        "counts": {"resources": resources, "operations": operations},
        "properties": properties,
    })
}

fn n8n(args: &ExportArgs) -> CliResult {
    let description = description();
    match &args.out {
        None => {
            let mut out = std::io::stdout().lock();
            write_json(&mut out, &description)?;
            out.flush()?;
        }
        Some(path) => {
            let mut text = serde_json::to_vec_pretty(&description)
                .map_err(|e| CliError::local(format!("cannot encode the export: {e}")))?;
            text.push(b'\n');
            std::fs::write(path, text)
                .map_err(|e| CliError::local(format!("cannot write {}: {e}", path.display())))?;
        }
    }
    Ok(())
}
