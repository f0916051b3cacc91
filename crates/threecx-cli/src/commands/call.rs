//! `threecx call RESOURCE ACTION`: input from `--input`/`--param`, validated before anything else;
//! `--dry-run` prints the request; otherwise the action is confirmed if destructive, sent on a
//! current-thread runtime, and its answer rendered (or streamed page by page with `--all`).

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Map, Value};
use threecx_ops::core::{Client, Download, PreparedRequest, Response, ResponseKind};
use threecx_ops::registry_api::{schema_view, ActionRef, PreparedCall};

use super::session::Session;
use crate::cli::{CallArgs, CallFormat, GlobalArgs};
use crate::confirm::confirm_destructive;
use crate::connection::Connection;
use crate::csv_output::{self, Columns, CsvRows};
use crate::exit::{CliError, CliResult};
use crate::output::{
    write_items_table, write_json, write_ndjson, write_ndjson_line, write_value_table,
};

mod retention;

/// The call on one PBX (a fleet's goes through `fleet::call`).
pub fn run(global: &GlobalArgs, args: &CallArgs) -> CliResult {
    let conn = Connection::resolve(global)?;
    // The PBX's own actions when its spec was pulled; nothing is sent for an unknown one.
    let active = crate::spec_choice::active(global, Some(&conn))?;
    let registry = active.registry;
    let action = active.action(&args.resource, &args.action)?;
    let mut input = read_input(args, action)?;
    // By-name inputs take relative date-times (`now-90d`), resolved before validation.
    let resolved = retention::resolve_times(action, &mut input);
    let call = action.prepare(input)?;
    if args.preview {
        return retention::preview_only(global, args, registry, call, &resolved);
    }

    // A dry run sends no purge, so `--sandbox` starts none for it.
    if args.dry_run {
        retention::show_resolved(&resolved);
        retention::dry_run_preview(global, args, &call);
        return dry_run(call, &conn, args.output);
    }

    let is_download = call.response_kind() == Some(ResponseKind::Download);
    if is_download && args.out.is_none() && std::io::stdout().is_terminal() {
        return Err(refuse_download_on_terminal(None));
    }
    if args.all && call.is_destructive() {
        // Paging sends the action once per page; it is sent once, and audited.
        return Err(CliError::usage(format!(
            "--all pages through a list by sending the action once per page, and {} is \
             destructive",
            call.meta().label()
        ))
        .hint("call it without --all"));
    }
    if args.all && call.response_kind() != Some(ResponseKind::Collection) {
        return Err(CliError::usage(format!(
            "--all pages through a list, but {} does not return one",
            call.meta().label()
        ))
        .hint("call it without --all"));
    }

    // CSV columns come from the output model: known (or refused) before anything is sent.
    let csv_columns = match args.output {
        Some(CallFormat::Csv) if !is_download && args.out.is_none() => {
            Some(Columns::of(registry, &call)?)
        }
        _ => None,
    };

    let runtime = super::sandbox::command_runtime()?;
    let session = Session::open(&runtime, global, conn, args.timeout)?;
    let audit = retention::audit_log_for(&session, &call)?;
    // Confirmed first: a refusal sends nothing, not even the count.
    let call = confirm_destructive(call, args.yes)?;
    let preview = retention::announce_preview(&runtime, registry, &session.client, &call);
    let client = &session.client;
    tracing::info!(
        resource = call.meta().resource,
        action = call.meta().action,
        pbx = client.config().base_url(),
        client_id = client.config().client_id(),
        "calling"
    );

    let format = args.output.unwrap_or(CallFormat::Json);
    let result = runtime.block_on(async {
        if is_download {
            stream_download(call, client, args.out.as_deref(), format).await
        } else if args.all {
            stream_all(call, client, args.page_size, format).await
        } else if let Some(columns) = csv_columns {
            let value = call.send(client).await?.into_json();
            let mut out = std::io::stdout().lock();
            csv_output::write_answer(&mut out, columns, &value)?;
            Ok(out.flush()?)
        } else {
            let answer = retention::send(call, client, audit.as_ref(), preview.as_ref()).await?;
            render(answer, args.out.as_deref(), format)
        }
    });
    session.close(&runtime);
    result
}

/// The input object: `--input` (JSON text, `@FILE` or `-` for stdin), then each `--param` set
/// over it.
pub(super) fn read_input(args: &CallArgs, action: ActionRef<'_>) -> CliResult<Value> {
    let mut input = match args.input.as_deref() {
        None => Value::Object(Map::new()),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::usage(format!("cannot read the input from stdin: {e}")))?;
            parse_json(&text, "the input from stdin")?
        }
        Some(arg) if arg.starts_with('@') => {
            let path = &arg[1..];
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("cannot read the input file {path}: {e}")))?;
            parse_json(&text, &format!("the input file {path}"))?
        }
        Some(text) => parse_json(text, "--input")?,
    };
    if args.params.is_empty() {
        return Ok(input);
    }
    let schema = action.input_schema();
    let Value::Object(map) = &mut input else {
        return Err(CliError::usage(
            "--param sets properties of the input object, but --input is not an object",
        ));
    };
    for param in &args.params {
        let Some((name, raw)) = param.split_once('=') else {
            return Err(CliError::usage(format!(
                "--param {param}: expected NAME=VALUE, e.g. --param Number=100"
            )));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(CliError::usage(format!(
                "--param {param}: the name is empty"
            )));
        }
        map.insert(name.to_owned(), param_value(&schema, name, raw));
    }
    Ok(input)
}

/// A `--param` value: JSON when it parses, else text; also text when the action's schema wants
/// text there and the JSON is not (`Number=100` is `"100"` for a string property).
fn param_value(schema: &Value, name: &str, raw: &str) -> Value {
    let Ok(parsed) = serde_json::from_str::<Value>(raw) else {
        return Value::String(raw.to_owned());
    };
    let declared = match schema_view::property_schema(schema, schema, name) {
        Some(property) => schema_view::types(property, schema),
        None => Vec::new(),
    };
    let wants = |t: &str| declared.contains(&t);
    let fits = match &parsed {
        Value::String(_) => true,
        Value::Null => wants("null"),
        Value::Bool(_) => wants("boolean"),
        Value::Number(n) => wants("number") || (n.is_i64() || n.is_u64()) && wants("integer"),
        Value::Array(_) => wants("array"),
        Value::Object(_) => wants("object"),
    };
    if !fits && wants("string") {
        Value::String(raw.to_owned())
    } else {
        parsed
    }
}

fn parse_json(text: &str, what: &str) -> CliResult<Value> {
    if text.trim().is_empty() {
        return Err(CliError::usage(format!(
            "{what} is empty; give a JSON object, e.g. {{}}"
        )));
    }
    serde_json::from_str(text).map_err(|e| {
        CliError::usage(format!("{what} is not valid JSON: {e}"))
            .hint("`threecx describe RESOURCE ACTION` shows the input schema and an example")
    })
}

/// Prints the request that would be sent; sends nothing and needs no credentials.
fn dry_run(call: PreparedCall<'_>, conn: &Connection, format: Option<CallFormat>) -> CliResult {
    let req = call.into_request()?;
    let url = request_url(&req, conn)?;
    let headers = headers_shown(&req);
    let body = req.body.as_deref().map(String::from_utf8_lossy);

    let mut out = std::io::stdout().lock();
    match format {
        Some(CallFormat::Json) | Some(CallFormat::Ndjson) => {
            let value = request_json(&req, conn)?;
            if format == Some(CallFormat::Json) {
                write_json(&mut out, &value)?;
            } else {
                write_ndjson_line(&mut out, &value)?;
            }
        }
        None | Some(CallFormat::Table) | Some(CallFormat::Csv) => {
            writeln!(out, "{} {url}", req.method)?;
            for (name, value) in &headers {
                writeln!(out, "{name}: {value}")?;
            }
            if let Some(body) = body {
                writeln!(out, "\n{body}")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn request_url(req: &PreparedRequest, conn: &Connection) -> CliResult<String> {
    Ok(match conn.root()? {
        Some(root) => root.url_of(req),
        None => format!("{}{}", conn.api_root()?, req.path_and_query),
    })
}

/// The headers the transport sends (the request carries them all), after the token's.
fn headers_shown(req: &PreparedRequest) -> Vec<(&str, &str)> {
    let mut headers = vec![("Authorization", "Bearer [REDACTED]")];
    headers.extend(req.headers_to_send());
    headers
}

/// A dry run as JSON: `{"method", "url", "headers", "body"}`.
pub(super) fn request_json(req: &PreparedRequest, conn: &Connection) -> CliResult<Value> {
    let body = req.body.as_deref().map(String::from_utf8_lossy);
    Ok(json!({
        "method": req.method.as_str(),
        "url": request_url(req, conn)?,
        "headers": headers_shown(req)
            .iter()
            .map(|(name, value)| (name.to_string(), Value::String(value.to_string())))
            .collect::<Map<String, Value>>(),
        "body": body.as_deref().map(|b| serde_json::from_str::<Value>(b)
            .unwrap_or_else(|_| Value::String(b.to_owned()))),
    }))
}

/// Renders one answer, or saves it with `--out`.
fn render(response: Response, out_file: Option<&Path>, format: CallFormat) -> CliResult {
    let mut out = std::io::stdout().lock();
    if let Some(path) = out_file {
        let summary = match &response {
            Response::Download(d) => {
                write_file(path, &d.bytes)?;
                json!({
                    "file": path.display().to_string(),
                    "content_type": d.content_type,
                    "file_name": d.file_name,
                    "size": d.bytes.len(),
                })
            }
            Response::Json(value) => {
                let mut bytes = serde_json::to_vec_pretty(value)
                    .map_err(|e| CliError::local(format!("cannot encode the answer: {e}")))?;
                bytes.push(b'\n');
                write_file(path, &bytes)?;
                json!({
                    "file": path.display().to_string(),
                    "content_type": "application/json",
                    "file_name": null,
                    "size": bytes.len(),
                })
            }
            Response::Empty { status } => {
                eprintln!(
                    "note: the PBX answered {status} with no content; {} was not written",
                    path.display()
                );
                Value::Null
            }
        };
        write_value(&mut out, format, &summary)?;
        out.flush()?;
        return Ok(());
    }

    match response {
        Response::Download(d) => {
            if std::io::stdout().is_terminal() {
                return Err(refuse_download_on_terminal(Some(&d)));
            }
            out.write_all(&d.bytes)?;
        }
        other => write_value(&mut out, format, &other.into_json())?,
    }
    out.flush()?;
    Ok(())
}

/// A download streamed to `--out FILE` (through a temporary file in the same folder, renamed
/// only once complete: never a partial file at the destination, and a symlink there is
/// replaced, not followed) or to stdout; memory stays flat whatever the size.
async fn stream_download(
    call: PreparedCall<'_>,
    client: &Client,
    out_file: Option<&Path>,
    format: CallFormat,
) -> CliResult {
    let Some(path) = out_file else {
        let mut stdout = tokio::io::stdout();
        call.download_to(client, &mut stdout)
            .await
            .map_err(download_error)?;
        return Ok(());
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let local = |what: &str, e: std::io::Error| {
        CliError::local(format!("cannot {what} {}: {e}", path.display()))
    };
    let tmp = tempfile::Builder::new()
        .prefix(".threecx-download-")
        .tempfile_in(&dir)
        .map_err(|e| local("prepare", e))?;
    let mut file = InlineFile(tmp.reopen().map_err(|e| local("prepare", e))?);
    let info = call
        .download_to(client, &mut file)
        .await
        .map_err(download_error)?;
    file.0.sync_all().map_err(|e| local("write", e))?;
    drop(file);
    tmp.persist(path).map_err(|e| local("save", e.error))?;
    let summary = json!({
        "file": path.display().to_string(),
        "content_type": info.content_type,
        "file_name": info.file_name,
        "size": info.size,
    });
    let mut out = std::io::stdout().lock();
    write_value(&mut out, format, &summary)?;
    out.flush()?;
    Ok(())
}

/// One answer (or a summary of where it went) in the chosen format; with `ndjson`, a list's
/// items a line each.
fn write_value(out: &mut impl Write, format: CallFormat, value: &Value) -> CliResult {
    match format {
        CallFormat::Json => write_json(out, value)?,
        CallFormat::Ndjson => write_ndjson(out, value)?,
        CallFormat::Table => write_value_table(out, value)?,
        CallFormat::Csv => csv_output::write_object(out, value)?,
    }
    Ok(())
}

/// A local file written on the runtime's own thread. One download is all this command's
/// runtime does, so a disk write may block it; `tokio::fs::File` would copy every chunk to a
/// thread of its blocking pool instead, which costs memory (and a thread) for nothing here.
struct InlineFile(std::fs::File);

impl tokio::io::AsyncWrite for InlineFile {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(self.0.write(buf))
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(self.0.flush())
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// A failure writing the destination is a local error (exit 1), not a PBX one.
fn download_error(e: threecx_ops::core::Error) -> CliError {
    match e {
        threecx_ops::core::Error::Config {
            field: "download destination",
            message,
        } => CliError::local(message),
        other => other.into(),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> CliResult {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::local(format!("cannot write {}: {e}", path.display())))
}

fn refuse_download_on_terminal(download: Option<&Download>) -> CliError {
    let what = match download {
        Some(d) => format!("a file ({} bytes of {})", d.bytes.len(), d.content_type),
        None => "a file".to_owned(),
    };
    let name = download
        .and_then(|d| d.file_name.as_deref())
        .map(|n| format!(" (the PBX names it {n})"))
        .unwrap_or_default();
    CliError::usage(format!(
        "the answer is {what}; it is not printed on a terminal"
    ))
    .hint(format!(
        "save it with --out FILE{name}, or redirect stdout to a file or pipe"
    ))
}

/// `--all`: every item of the collection, page by page. NDJSON items are written as they arrive
/// (buffered, and flushed whenever the next item has to wait for the PBX, so a reader sees each
/// page at once without a write per line); JSON and table output need the whole list first.
async fn stream_all(
    call: PreparedCall<'_>,
    client: &Client,
    page_size: u32,
    format: CallFormat,
) -> CliResult {
    let mut csv = match format {
        CallFormat::Csv => Some(CsvRows::new(Columns::of(threecx_ops::registry(), &call)?)),
        _ => None,
    };
    let stream = call.pages::<Value>(client, page_size)?;
    let mut stream = std::pin::pin!(stream);
    let progress = progress_bar();
    let stdout_is_terminal = std::io::stdout().is_terminal();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let mut collected = Vec::new();
    if let Some(csv) = &mut csv {
        csv.write_header(&mut out)?;
    }

    loop {
        // The next item if it is already here (the rest of a page); else show what was
        // written so far before waiting for the next page.
        let next = match stream.next().now_or_never() {
            Some(next) => next,
            None => {
                if stdout_is_terminal && !progress.is_hidden() {
                    progress.suspend(|| out.flush())?;
                } else {
                    out.flush()?;
                }
                stream.next().await
            }
        };
        let Some(item) = next else { break };
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                progress.finish_and_clear();
                out.flush()?;
                return Err(e.into());
            }
        };
        progress.inc(1);
        if format == CallFormat::Ndjson {
            write_ndjson_line(&mut out, &item)?;
        } else if let Some(csv) = &mut csv {
            csv.write_item(&mut out, &item)?;
        } else {
            collected.push(item);
        }
    }
    progress.finish_and_clear();
    tracing::info!(items = progress.position(), "all pages read");
    match format {
        CallFormat::Ndjson | CallFormat::Csv => {}
        CallFormat::Json => write_json(&mut out, &Value::Array(collected))?,
        CallFormat::Table => write_items_table(&mut out, &collected)?,
    }
    out.flush()?;
    Ok(())
}

/// A spinner with the item count on stderr, only when stderr is a terminal.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} items ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_follow_the_schema() {
        let schema = json!({"properties": {
            "Number": {"type": "string"},
            "Id": {"type": "integer"},
            "period": {"$ref": "#/$defs/PurgeSettings"},
            "flag": {"type": ["boolean", "null"]}
        }});
        assert_eq!(param_value(&schema, "Number", "100"), json!("100"));
        assert_eq!(param_value(&schema, "Number", "\"100\""), json!("100"));
        assert_eq!(param_value(&schema, "Id", "42"), json!(42));
        assert_eq!(param_value(&schema, "Id", "x"), json!("x"));
        assert_eq!(
            param_value(&schema, "period", r#"{"All":true}"#),
            json!({"All": true})
        );
        assert_eq!(param_value(&schema, "flag", "true"), json!(true));
        assert_eq!(param_value(&schema, "unknown", "[1]"), json!([1]));
    }
}
