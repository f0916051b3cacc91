//! The guard in front of destructive actions (deletes, purges, restores...).

use std::io::IsTerminal;

use threecx_ops::registry_api::{check_confirmed, Operation};

use crate::exit::{CliError, CliResult};

/// Lets a destructive `op` through only when confirmed: by `--yes`, or by answering the question
/// on a terminal (default no). Without a terminal to ask on, it is refused: nothing is sent.
pub fn confirm_destructive(op: &dyn Operation, yes: bool) -> CliResult {
    let Err(not_confirmed) = check_confirmed(op, yes) else {
        return Ok(());
    };
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(CliError::from(not_confirmed)
            .hint("add --yes to confirm it (no terminal to ask on: stdin or stderr is not one)"));
    }
    let meta = op.meta();
    let name = format!("{} / {}", meta.resource_display, meta.action_display);
    let asked = dialoguer::Confirm::new()
        .with_prompt(format!("{name} is destructive. Send it?"))
        .default(false)
        .interact();
    match asked {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => {
            Err(CliError::from(not_confirmed).hint("add --yes to confirm it without being asked"))
        }
    }
}
