//! The guard in front of destructive actions (deletes, purges, restores...).

use std::io::IsTerminal;

use threecx_ops::registry_api::PreparedCall;

use crate::exit::{CliError, CliResult};

/// Lets a destructive call through only when confirmed: by `--yes`, or by answering the
/// question on a terminal (default no). Without a terminal to ask on, it is refused: nothing is
/// sent.
pub fn confirm_destructive(call: PreparedCall<'_>, yes: bool) -> CliResult<PreparedCall<'_>> {
    let call = call.confirm(yes);
    let Err(not_confirmed) = call.check_confirmed() else {
        return Ok(call);
    };
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(CliError::from(not_confirmed)
            .hint("add --yes to confirm it (no terminal to ask on: stdin or stderr is not one)"));
    }
    let asked = dialoguer::Confirm::new()
        .with_prompt(format!("{} is destructive. Send it?", call.meta().label()))
        .default(false)
        .interact();
    match asked {
        Ok(true) => Ok(call.confirm(true)),
        Ok(false) | Err(_) => {
            Err(CliError::from(not_confirmed).hint("add --yes to confirm it without being asked"))
        }
    }
}
