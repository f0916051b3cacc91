//! Exit codes and the one error type of the command line.
//!
//! Every failure ends as `error: <message>` on stderr (plus optional hint lines) and one of the
//! exit codes below, so scripts can tell a typo from a wrong password from a PBX that is down.

use std::fmt;
use std::process::ExitCode;

use threecx_ops::core::{ApiErrorDetail, Error, NameKind};

/// Success.
pub const OK: u8 = 0;
/// `threecx diff` only: the two snapshots differ (like diff(1)). `diff` reads folders and
/// writes to stdout only; an unreadable folder is a usage error (2).
pub const DIFFERENT: u8 = 1;
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
/// Outcome unknown: an action that is not safe to repeat (a purge, a delete...) was sent, then
/// the connection failed or timed out; the PBX may have carried it out. It was not repeated.
pub const OUTCOME_UNKNOWN: u8 = 6;

/// A fleet command (several profiles) failed for some PBXs and succeeded for the others; each
/// PBX's line says which.
pub const FLEET_PARTIAL: u8 = 7;

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
  5  network error or timeout, or an answer that could not be decoded
  6  outcome unknown: an action that is not safe to repeat (purge, delete...) was sent, then the
     connection failed or timed out; the PBX may have carried it out. It was not sent again:
     check the PBX before running it again
  7  fleet (several profiles): some PBXs failed, the others succeeded (each line says which;
     when every PBX fails, the exit code is the first failure's)
  `threecx diff` exits 1 when the two differ (like diff(1)), 0 when they are equal";

/// A failure of a command: what to print and which code to exit with.
#[derive(Debug)]
pub struct CliError {
    code: u8,
    message: String,
    /// Lines that belong to the message (one per field the PBX refused), printed indented.
    lines: Vec<String>,
    hints: Vec<String>,
}

impl CliError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
            lines: Vec::new(),
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

    /// The message, without hints (for one line per PBX in a fleet's output).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Puts what the failure was about before the message.
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// Prints the error to stderr (nothing for a closed pipe) and gives the exit code.
    pub fn report(&self) -> ExitCode {
        if !self.message.is_empty() {
            eprintln!("error: {}", self.message);
            for line in &self.lines {
                eprintln!("  {line}");
            }
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
        | Error::BrokenDefinition { .. }
        | Error::NotConfirmed { .. } => USAGE,
        Error::Auth { .. } => AUTH,
        Error::Api { .. } => API,
        Error::Timeout { .. } | Error::Transport { .. } | Error::Decode { .. } => NETWORK,
        Error::OutcomeUnknown { .. } => OUTCOME_UNKNOWN,
        _ => LOCAL,
    }
}

impl From<Error> for CliError {
    fn from(mut error: Error) -> Self {
        let code = code_of(&error);
        // 3CX's validation errors carry codes and line breaks ("Number:\nWARNINGS.XAPI.
        // ALREADY_IN_USE"): the message is put in words on one line before it is shown.
        if let Error::Api { message, .. } = &mut error {
            *message = readable(message);
        }
        let mut out = CliError::new(code, error.to_string());
        match &error {
            Error::UnknownName {
                kind, suggestions, ..
            } if suggestions.is_empty() => {
                out = out.hint(if *kind == NameKind::Resource {
                    "`threecx list` shows every resource".to_owned()
                } else {
                    "`threecx list RESOURCE` shows the actions of a resource".to_owned()
                });
            }
            Error::Api {
                message, details, ..
            } => {
                // One line per refused field, unless the message already says it.
                for d in details {
                    let Some(line) = detail_line(d) else { continue };
                    if !message.contains(&line) && !out.lines.contains(&line) {
                        out.lines.push(line);
                    }
                }
            }
            _ => {}
        }
        out
    }
}

/// The prefix of 3CX's validation codes (`WARNINGS.XAPI.ALREADY_IN_USE`).
const XAPI_WARNING: &str = "WARNINGS.XAPI.";

/// A 3CX validation code in words: `ALREADY_IN_USE` → `already in use`.
fn warning_words(code: &str) -> String {
    match code {
        "ALREADY_IN_USE" => "already in use".to_owned(),
        "NOT_FOUND" => "not found".to_owned(),
        "FORBIDDEN_CHANGE" => "cannot be changed".to_owned(),
        "OUT_OF_THE_RANGE" => "out of the range".to_owned(),
        "NON_EXISTENT_EXT_NUMBER" => "non-existent extension number".to_owned(),
        "REQUIRED" => "required".to_owned(),
        "DUPLICATE" => "duplicate".to_owned(),
        other => other.to_lowercase().replace('_', " ").trim().to_owned(),
    }
}

/// One line of text with every `WARNINGS.XAPI.<CODE>` in words and control characters (line
/// breaks, escapes) taken out; runs of white space become one space.
fn words_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(XAPI_WARNING) {
        out.push_str(&rest[..at]);
        let after = &rest[at + XAPI_WARNING.len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if end == 0 {
            out.push_str(XAPI_WARNING);
        } else {
            out.push_str(&warning_words(&after[..end]));
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A PBX message on one line, each of its lines in words: after a line that ends in punctuation
/// (a `Field:` label, a sentence) the next follows with a space, otherwise with `; `
/// (`Number:\nWARNINGS.XAPI.ALREADY_IN_USE\nEmail:\nWARNINGS.XAPI.REQUIRED` → `Number: already
/// in use; Email: required`).
fn readable(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for line in message.lines().map(words_of).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            let ends_sentence = out.ends_with([':', '.', ';', ',', '!', '?']);
            out.push_str(if ends_sentence { " " } else { "; " });
        }
        out.push_str(&line);
    }
    out
}

/// One refused field as a line, `Number: already in use`; `None` for a detail without a message.
fn detail_line(detail: &ApiErrorDetail) -> Option<String> {
    let message = words_of(&detail.message);
    if message.is_empty() {
        return None;
    }
    let target = words_of(detail.target.as_deref().unwrap_or(""));
    if target.is_empty() || message.starts_with(&format!("{target}:")) {
        Some(message)
    } else {
        Some(format!("{target}: {message}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn api(message: &str, details: &[(&str, &str)]) -> CliError {
        CliError::from(Error::Api {
            status: 400,
            method: "POST",
            path: "/Users".to_owned(),
            code: String::new(),
            message: message.to_owned(),
            details: details
                .iter()
                .map(|(target, message)| ApiErrorDetail {
                    code: String::new(),
                    message: (*message).to_owned(),
                    target: (!target.is_empty()).then(|| (*target).to_owned()),
                })
                .collect(),
        })
    }

    #[test]
    fn validation_codes_in_words() {
        for (code, words) in [
            ("ALREADY_IN_USE", "already in use"),
            ("NOT_FOUND", "not found"),
            ("FORBIDDEN_CHANGE", "cannot be changed"),
            ("OUT_OF_THE_RANGE", "out of the range"),
            ("NON_EXISTENT_EXT_NUMBER", "non-existent extension number"),
            ("REQUIRED", "required"),
            ("DUPLICATE", "duplicate"),
            ("SOMETHING_NEW", "something new"),
        ] {
            assert_eq!(words_of(&format!("WARNINGS.XAPI.{code}")), words);
        }
        assert_eq!(words_of("WARNINGS.XAPI."), "WARNINGS.XAPI.");
        assert_eq!(
            words_of("Bad\u{1b}[31m\tvalue\r\n WARNINGS.XAPI.REQUIRED."),
            "Bad [31m value required."
        );
        assert_eq!(
            words_of("No user with number 999"),
            "No user with number 999"
        );
    }

    #[test]
    fn messages_on_one_line() {
        assert_eq!(
            readable("Number:\nWARNINGS.XAPI.ALREADY_IN_USE"),
            "Number: already in use"
        );
        assert_eq!(
            readable("Number:\r\nWARNINGS.XAPI.ALREADY_IN_USE\nEmail:\nWARNINGS.XAPI.REQUIRED\n"),
            "Number: already in use; Email: required"
        );
        assert_eq!(readable("One.\n\nTwo\nThree"), "One. Two; Three");
        assert_eq!(readable("Trailing:"), "Trailing:");
    }

    #[test]
    fn one_line_per_refused_field() {
        // The usual shape: the message restates the one detail, which is not repeated.
        let e = api(
            "Number:\nWARNINGS.XAPI.ALREADY_IN_USE",
            &[("Number", "WARNINGS.XAPI.ALREADY_IN_USE")],
        );
        assert_eq!(e.code(), API);
        assert_eq!(
            e.message,
            "3CX API error 400 on POST /Users: Number: already in use"
        );
        assert!(e.lines.is_empty(), "{:?}", e.lines);

        // A general message: each field on its own line, in words or as sent.
        let e = api(
            "The request is invalid.",
            &[
                ("Number", "WARNINGS.XAPI.ALREADY_IN_USE"),
                ("EmailAddress", "must look like\nan address"),
                ("", "WARNINGS.XAPI.NON_EXISTENT_EXT_NUMBER"),
                ("Ignored", ""),
                ("Number", "WARNINGS.XAPI.ALREADY_IN_USE"),
            ],
        );
        assert_eq!(
            e.message,
            "3CX API error 400 on POST /Users: The request is invalid."
        );
        assert_eq!(
            e.lines,
            [
                "Number: already in use",
                "EmailAddress: must look like an address",
                "non-existent extension number",
            ]
        );
        assert!(e.hints.is_empty());
    }
}
