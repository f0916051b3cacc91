//! The audit log of destructive calls: one JSON line per purge, delete, restore... that was
//! sent, by the CLI, the HTTP gateway or the MCP server alike.
//!
//! ```json
//! {"time":"2026-11-27T12:00:00Z","front_end":"cli","pbx":"https://pbx.example.com","client_id":"retention",
//!  "resource":"PurgeSettings","action":"PurgeChats","input":{"period":{"Start":null,"Stop":"2026-08-29T12:00:00Z"}},
//!  "preview_count":312,"outcome":"ok","status":204,"duration_ms":41,"api_key":null}
//! ```
//!
//! (one line in the file). `outcome` is `ok`, `api_error` (the PBX refused it: `status` is its
//! HTTP status), `outcome_unknown` (sent, then the connection broke: it may or may not have
//! been carried out) or `error` (anything else: authentication, network, timeout, decode);
//! `status` is the HTTP status when one is known. `api_key` is the gateway caller's key
//! fingerprint (`sha256:` and the first 12 hex digits of the key's SHA-256), `null` elsewhere.
//! Input properties whose names look like secrets (password, secret, token, key, PIN...) are
//! written as `"***"`; the PBX URL is written without user name or password. The API client's
//! secret and tokens are never part of a record.
//!
//! Appends are atomic per line: the file is opened with `O_APPEND`, locked (an advisory lock,
//! as the token cache's), and each line is written with one `write` of the whole line, so
//! concurrent processes never interleave.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use threecx_core::{Client, Error, Response};
use threecx_registry::{relative_time, PreparedCall};

/// What is written in place of a secret value.
pub const REDACTED: &str = "***";

/// An append-only JSON Lines file of destructive calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// An audit log at `path`; its folder is created and the file opened once, so that an
    /// unwritable place is reported before anything is sent.
    pub fn open(path: impl Into<PathBuf>) -> std::io::Result<AuditLog> {
        let log = AuditLog { path: path.into() };
        if let Some(dir) = log.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        log.open_file()?;
        Ok(log)
    }

    /// Where the lines go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_file(&self) -> std::io::Result<File> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // What was purged, by whom: for the owner's eyes only.
            options.mode(0o600);
        }
        options.open(&self.path)
    }

    /// Appends `record` as one line (reopened each time, so a rotated file is followed).
    pub fn append(&self, record: &AuditRecord) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self.open_file()?;
        fs4::FileExt::lock(&file)?;
        let written = file.write(&line);
        let result = match written {
            Ok(n) if n == line.len() => Ok(()),
            // A regular file takes a short line whole; should it not, the lock still keeps
            // other writers of this log out until the rest is written.
            Ok(n) => file.write_all(&line[n..]),
            Err(e) => Err(e),
        };
        let _ = fs4::FileExt::unlock(&file);
        result
    }
}

/// One line of the audit log (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// When the call was sent, RFC 3339 UTC.
    pub time: String,
    /// `cli`, `gateway` or `mcp`.
    pub front_end: &'static str,
    /// The PBX's URL, without user name or password.
    pub pbx: String,
    pub client_id: String,
    pub resource: String,
    pub action: String,
    /// The input as sent (relative times resolved), secrets redacted.
    pub input: Value,
    /// How many rows the preview counted before sending, when it did.
    pub preview_count: Option<u64>,
    /// `ok`, `api_error`, `outcome_unknown` or `error`.
    pub outcome: &'static str,
    /// The HTTP status, when known.
    pub status: Option<u16>,
    pub duration_ms: u64,
    /// The gateway caller's API key fingerprint ([`key_fingerprint`]); `None` elsewhere.
    pub api_key: Option<String>,
}

/// Who sent a destructive call, for its audit record.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub front_end: &'static str,
    /// The gateway caller's API key fingerprint.
    pub api_key: Option<String>,
}

impl AuditRecord {
    /// The record of a call of `resource`/`action` with `input`, sent through `client` at
    /// `sent_at`, which took `duration` and ended with `result`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        who: &AuditContext,
        client: &Client,
        (resource, action): (&str, &str),
        input: &Map<String, Value>,
        preview_count: Option<u64>,
        sent_at: SystemTime,
        duration: Duration,
        result: &Result<Response, Error>,
    ) -> AuditRecord {
        let (outcome, status) = outcome(result);
        AuditRecord {
            time: rfc3339(sent_at),
            front_end: who.front_end,
            pbx: without_userinfo(client.config().base_url()),
            client_id: client.config().client_id().to_owned(),
            resource: resource.to_owned(),
            action: action.to_owned(),
            input: redact(&Value::Object(input.clone())),
            preview_count,
            outcome,
            status,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            api_key: who.api_key.clone(),
        }
    }
}

/// A call sent by [`send_audited`]: the PBX's answer, and why its audit line could not be
/// written, if it could not (the call was sent all the same).
#[derive(Debug)]
pub struct Sent {
    pub result: Result<Response, Error>,
    pub audit_error: Option<std::io::Error>,
}

/// Sends `call` and, when it is a destructive call that was sent (confirmed) and `log` is set,
/// appends its record to `log`. An unconfirmed destructive call is refused unsent, as by
/// [`PreparedCall::send`], and leaves no record.
pub async fn send_audited(
    call: PreparedCall<'_>,
    client: &Client,
    log: Option<&AuditLog>,
    who: &AuditContext,
    preview_count: Option<u64>,
) -> Sent {
    let audited = log.filter(|_| call.is_destructive() && call.check_confirmed().is_ok());
    let Some(log) = audited else {
        return Sent {
            result: call.send(client).await,
            audit_error: None,
        };
    };
    let meta = call.meta();
    let input = call.input().clone();
    let sent_at = SystemTime::now();
    let started = Instant::now();
    let result = call.send(client).await;
    let record = AuditRecord::new(
        who,
        client,
        (meta.resource, meta.action),
        &input,
        preview_count,
        sent_at,
        started.elapsed(),
        &result,
    );
    let audit_error = log.append(&record).err();
    if let Some(e) = &audit_error {
        tracing::error!(log = %log.path().display(), error = %e, "could not write the audit log");
    }
    Sent {
        result,
        audit_error,
    }
}

/// The outcome word and HTTP status of a call's result.
pub fn outcome(result: &Result<Response, Error>) -> (&'static str, Option<u16>) {
    match result {
        Ok(Response::Empty { status }) => ("ok", Some(*status)),
        Ok(_) => ("ok", None),
        Err(Error::Api { status, .. }) => ("api_error", Some(*status)),
        Err(Error::OutcomeUnknown { .. }) => ("outcome_unknown", None),
        Err(Error::Auth { status, .. }) => ("error", *status),
        Err(_) => ("error", None),
    }
}

/// `sha256:` and the first 12 hex digits of the SHA-256 of `key`: tells keys apart in the log
/// without giving any away.
pub fn key_fingerprint(key: &str) -> String {
    fingerprint_of_digest(&Sha256::digest(key.as_bytes()))
}

/// [`key_fingerprint`] of a key whose SHA-256 is `digest`.
pub fn fingerprint_of_digest(digest: &[u8]) -> String {
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Whether a property of this name holds a secret: password, secret, token, credential, an
/// API/private/license key, a PIN...
pub fn is_secret_name(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    [
        "secret",
        "password",
        "passwd",
        "token",
        "credential",
        "apikey",
    ]
    .iter()
    .any(|w| n.contains(w))
        || n.ends_with("key")
        || n.ends_with("pwd")
        || n.ends_with("pin")
}

/// `value` with every property whose name [`is_secret_name`] replaced by `"***"` (nulls stay
/// null), at any depth.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_name(k) && !v.is_null() {
                        Value::String(REDACTED.to_owned())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// `url` without user name and password.
fn without_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.as_str().trim_end_matches('/').to_owned()
        }
        Err(_) => url.to_owned(),
    }
}

/// RFC 3339 UTC to the second.
fn rfc3339(at: SystemTime) -> String {
    relative_time::format_utc(relative_time::DateTime::<relative_time::Utc>::from(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let input = json!({
            "Number": "100",
            "body": {
                "Password": "p", "AuthPassword": "p", "ClientSecret": "s", "access_token": "t",
                "ApiKey": "k", "PrivateKey": "k", "VMPin": "1234", "ProvisioningKey": null,
                "Keypad": "x", "FirstName": "Ann",
                "list": [{"secret": 1}]
            }
        });
        assert_eq!(
            redact(&input),
            json!({
                "Number": "100",
                "body": {
                    "Password": "***", "AuthPassword": "***", "ClientSecret": "***",
                    "access_token": "***", "ApiKey": "***", "PrivateKey": "***", "VMPin": "***",
                    "ProvisioningKey": null, "Keypad": "x", "FirstName": "Ann",
                    "list": [{"secret": "***"}]
                }
            })
        );
    }

    #[test]
    fn fingerprints_and_urls() {
        let f = key_fingerprint("gateway-test-key-0123456789");
        assert!(f.starts_with("sha256:") && f.len() == 7 + 12, "{f}");
        assert_ne!(f, key_fingerprint("gateway-test-key-0123456780"));
        assert!(!f.contains("gateway"));
        assert_eq!(
            without_userinfo("https://u:pw@pbx.example.com:5001/"),
            "https://pbx.example.com:5001"
        );
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn outcomes() {
        assert_eq!(
            outcome(&Ok(Response::Empty { status: 204 })),
            ("ok", Some(204))
        );
        let api = Error::Api {
            status: 400,
            method: "POST",
            path: "/PurgeChats".into(),
            code: String::new(),
            message: "no".into(),
            details: vec![],
        };
        assert_eq!(outcome(&Err(api)), ("api_error", Some(400)));
        let unknown = Error::OutcomeUnknown {
            method: "POST",
            path: "/PurgeChats".into(),
            cause: "reset".into(),
        };
        assert_eq!(outcome(&Err(unknown)), ("outcome_unknown", None));
    }

    #[test]
    fn threads_appending_at_once_never_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("a/b/audit.jsonl")).unwrap();
        let record = |i: usize| AuditRecord {
            time: "2026-01-01T00:00:00Z".into(),
            front_end: "cli",
            pbx: "http://127.0.0.1:1".into(),
            client_id: "c".into(),
            resource: "PurgeSettings".into(),
            action: "PurgeChats".into(),
            // Long lines: far more than one pipe buffer.
            input: json!({"pad": "x".repeat(20_000 + i)}),
            preview_count: Some(i as u64),
            outcome: "ok",
            status: Some(204),
            duration_ms: 1,
            api_key: None,
        };
        std::thread::scope(|s| {
            for t in 0..8 {
                let log = &log;
                s.spawn(move || {
                    for k in 0..20 {
                        log.append(&record(t * 100 + k)).unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 160);
        for line in lines {
            let v: Value = serde_json::from_str(line).unwrap();
            let i = v["preview_count"].as_u64().unwrap() as usize;
            assert_eq!(v["input"]["pad"].as_str().unwrap().len(), 20_000 + i);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(log.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
