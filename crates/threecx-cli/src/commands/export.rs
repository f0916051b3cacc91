//! `threecx export n8n`: the n8n node description of every registered action.

use std::io::Write;

use crate::cli::{ExportArgs, ExportCommand};
use crate::exit::{CliError, CliResult};
use crate::output::write_json;

pub fn run(command: &ExportCommand) -> CliResult {
    match command {
        ExportCommand::N8n(args) => n8n(args),
    }
}

fn n8n(args: &ExportArgs) -> CliResult {
    let description = threecx_gateway::n8n::export(threecx_ops::registry());
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
