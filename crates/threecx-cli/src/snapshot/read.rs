//! Reading a snapshot from a PBX: each resource the rules include, a few at a time, with a
//! progress bar on a terminal. A resource the PBX refuses (403 without the "System Owner" role,
//! 404 on a version without it, any other error answer) is reported on stderr and skipped;
//! failing to log in or to reach the PBX ends the whole read.

use std::io::IsTerminal;

use futures_util::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use threecx_ops::core::{Client, Error};
use threecx_ops::registry_api::{schema_view, Registry};

use super::rules::{self, Read, Source};
use super::{normalise_entity, normalise_list, Resource, Snapshot};
use crate::exit::{CliError, CliResult};

/// Requests in flight at once: quick on a real PBX without loading it.
const CONCURRENCY: usize = 4;

/// Reads every resource of [`rules::sources`] from the PBX behind `client`.
pub async fn read_pbx(registry: &Registry, client: &Client, page_size: u32) -> CliResult<Snapshot> {
    let sources = rules::sources(registry);
    let progress = progress_bar(sources.len() as u64);
    let mut answers = futures_util::stream::iter(sources)
        .map(|source| async move {
            let result = read_one(registry, client, source, page_size).await;
            (source, result)
        })
        .buffered(CONCURRENCY);
    let mut snapshot = Snapshot::default();
    while let Some((source, result)) = answers.next().await {
        progress.inc(1);
        let name = source.resource();
        match result {
            Ok(resource) => {
                snapshot.resources.insert(name.to_owned(), resource);
            }
            Err(e) if skippable(&e) => {
                let reason = match &e {
                    Error::Api { status, .. } => format!("HTTP {status}"),
                    Error::Auth {
                        status: Some(status),
                        ..
                    } => format!("HTTP {status}"),
                    other => other.to_string(),
                };
                progress.suspend(|| eprintln!("warning: skipped {name}: {e}"));
                snapshot.skipped.insert(name.to_owned(), reason);
            }
            Err(e) => {
                progress.finish_and_clear();
                return Err(CliError::from(e).hint(format!("while reading {name}")));
            }
        }
    }
    progress.finish_and_clear();
    Ok(snapshot)
}

/// Whether a failure concerns this resource only: an error answer (404 on a version without
/// it, 500), 403 (the API client's role is too low for this endpoint) or an answer that does not
/// decode. Failing to log in (401), to connect or in time concerns every resource.
fn skippable(error: &Error) -> bool {
    match error {
        Error::Api { .. } | Error::Decode { .. } | Error::InvalidInput { .. } => true,
        Error::Auth { status, .. } => *status == Some(403),
        _ => false,
    }
}

/// One resource, normalised: a list's every page, or a singleton.
async fn read_one(
    registry: &Registry,
    client: &Client,
    source: Source,
    page_size: u32,
) -> Result<Resource, Error> {
    let call = registry.prepare(source.op, json!({}))?;
    let name = source.resource();
    let key = key_of(registry, source);
    let data = match source.read {
        Read::List => {
            let items: Vec<Value> = call
                .pages::<Value>(client, page_size)?
                .try_collect()
                .await?;
            normalise_list(name, key.as_deref(), items)
        }
        Read::Get => normalise_entity(name, call.send(client).await?.into_json()),
    };
    Ok(Resource {
        action: source.op.meta().action.to_owned(),
        read: source.read,
        key,
        data,
    })
}

/// The key property of a list's entities: the parameter of the resource's `/Set({Key})` path
/// (`Id` of `/Users({Id})`), else `Id` when the entities have one.
pub fn key_of(registry: &Registry, source: Source) -> Option<String> {
    if source.read != Read::List {
        return None;
    }
    let set_path = source.op.template()?.path;
    let entry = registry.find_resource(source.resource()).ok()?;
    let from_path = entry
        .actions()
        .iter()
        .filter_map(|op| op.template())
        .find_map(|t| {
            let inner = t
                .path
                .strip_prefix(set_path)?
                .strip_prefix("({")?
                .strip_suffix("})")?;
            (!inner.contains(['{', '}', '(', ')', '/', ',', '='])).then(|| inner.to_owned())
        });
    from_path.or_else(|| {
        let root = registry.output_schema_ref(source.op);
        let item = schema_view::property_schema(&root, &root, "value")
            .map(|v| schema_view::deref(v, &root))
            .and_then(|v| v.get("items"))?;
        schema_view::property_names(item, &root)
            .contains("Id")
            .then(|| "Id".to_owned())
    })
}

/// A bar of resources read, on stderr only when it is a terminal.
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} resources ({elapsed})") {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_entity_path() {
        let registry = threecx_ops::registry();
        let key = |name: &str| {
            let source = rules::sources(registry)
                .into_iter()
                .find(|s| s.resource() == name)
                .unwrap_or_else(|| panic!("{name} is read"));
            key_of(registry, source)
        };
        assert_eq!(key("Users").as_deref(), Some("Id"));
        assert_eq!(key("Groups").as_deref(), Some("Id"));
        assert_eq!(key("AISettings"), None);
    }
}
