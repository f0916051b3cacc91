//! Exit codes and the one error type of the command line.
//!
//! Every failure ends as `error: <message>` on stderr (plus optional hint lines) and one of the
//! exit codes below, so scripts can tell a typo from a wrong password from a PBX that is down.

use std::fmt;
use std::process::ExitCode;

use threecx_ops::core::Error;

/// Success.
pub const OK: u8 = 0;
/// A local failure: the output file or stdout could not be written (or a sandbox could not save
/// its data).
pub const LOCAL: u8 = 1;
/// Usage or invalid input: bad flags, unknown resource or action, input that does not fit the
/// action's schema, missing settings, a destructive action not confirmed. Nothing was sent.
pub const USAGE: u8 = 2;
/// Authentication failed (client ID, secret, URL, the API client's role).
pub const AUTH: u8 = 3;
/// The 3CX API answered with an error; its message is shown.
pub const API: u8 = 4;
/// Network failure, timeout, or an answer that could not be decoded.
pub const NETWORK: u8 = 5;

/// The exit code table shown at the end of `--help`.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  local failure: the --out file or stdout could not be written (or the sandbox's data file)
  2  usage error or invalid input: bad flags, unknown resource or action (the closest names are
     shown), input that does not fit the action's schema, missing connection settings, or a
     destructive action not confirmed; nothing was sent (also: the sandbox's port is taken or
     its data file unreadable)
  3  authentication failed: check the client ID and secret, the PBX URL and the API client's role
  4  the 3CX API answered with an error (its message is shown)
  5  network error or timeout, or an answer that could not be decoded";

/// A failure of a command: what to print and which code to exit with.
#[derive(Debug)]
pub struct CliError {
    code: u8,
    message: String,
    hints: Vec<String>,
}

impl CliError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    /// Exit code 2: the command line or the input is wrong; nothing was sent.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }

    /// Exit code 1: something local failed (writing a file or stdout).
    pub fn local(message: impl Into<String>) -> Self {
        Self::new(LOCAL, message)
    }

    /// A reader closed stdout early (`threecx ... | head`): not an error, exit quietly.
    pub fn broken_pipe() -> Self {
        Self::new(OK, String::new())
    }

    /// Adds a line printed after the message as `hint: ...`.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn code(&self) -> u8 {
        self.code
    }

    /// Prints the error to stderr (nothing for a closed pipe) and gives the exit code.
    pub fn report(&self) -> ExitCode {
        if !self.message.is_empty() {
            eprintln!("error: {}", self.message);
            for hint in &self.hints {
                eprintln!("hint: {hint}");
            }
        }
        ExitCode::from(self.code())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The exit code of an SDK error.
pub fn code_of(error: &Error) -> u8 {
    match error {
        Error::InvalidInput { .. }
        | Error::UnknownName { .. }
        | Error::Config { .. }
        | Error::NotConfirmed { .. } => USAGE,
        Error::Auth { .. } => AUTH,
        Error::Api { .. } => API,
        Error::Timeout { .. } | Error::Transport { .. } | Error::Decode { .. } => NETWORK,
        _ => LOCAL,
    }
}

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        let code = code_of(&error);
        let mut out = CliError::new(code, error.to_string());
        match &error {
            Error::UnknownName {
                kind, suggestions, ..
            } if suggestions.is_empty() => {
                out = out.hint(if *kind == "resource" {
                    "`threecx list` shows every resource".to_owned()
                } else {
                    "`threecx list RESOURCE` shows the actions of a resource".to_owned()
                });
            }
            Error::Api { details, .. } => {
                for d in details {
                    let target = d.target.as_deref().unwrap_or("");
                    let text = match (target.is_empty(), d.message.is_empty()) {
                        (_, true) => continue,
                        (true, false) => d.message.clone(),
                        (false, false) => format!("{target}: {}", d.message),
                    };
                    out = out.hint(format!("the PBX adds: {text}"));
                }
            }
            _ => {}
        }
        out
    }
}

impl From<std::io::Error> for CliError {
    /// A failure writing stdout; a closed pipe is a quiet success.
    fn from(error: std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::broken_pipe()
        } else {
            CliError::local(format!("cannot write the output: {error}"))
        }
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
