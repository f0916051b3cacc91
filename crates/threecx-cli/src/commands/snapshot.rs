//! `threecx snapshot DIR`: the PBX's configuration, one sorted JSON file per resource (see
//! `crate::snapshot`).

use serde_json::{json, Value};
use threecx_ops::core::Client;
use threecx_ops::registry_api::Registry;

use super::session::Session;
use crate::cli::{GlobalArgs, ReadArgs, SnapshotArgs};
use crate::connection::Connection;
use crate::exit::{self, CliError, CliResult};
use crate::snapshot::folder::{self, Origin};
use crate::snapshot::read::read_pbx;
use crate::snapshot::Snapshot;

pub fn run(global: &GlobalArgs, args: &SnapshotArgs) -> CliResult {
    let (snapshot, origin) = read_live(global, &args.read)?;
    folder::write(&args.dir, &snapshot, origin)?;
    let mut line = format!(
        "wrote {} resources to {}",
        snapshot.resources.len(),
        args.dir.display()
    );
    if !snapshot.skipped.is_empty() {
        let skipped: Vec<String> = snapshot
            .skipped
            .iter()
            .map(|(name, why)| format!("{name} ({why})"))
            .collect();
        line.push_str(&format!("; skipped {}", skipped.join(", ")));
    }
    println!("{line}");
    Ok(())
}

/// Reads a snapshot from the PBX the global flags name (or a `--sandbox` one); an error when
/// no resource at all could be read.
pub(crate) fn read_live(global: &GlobalArgs, args: &ReadArgs) -> CliResult<(Snapshot, Origin)> {
    let conn = Connection::resolve(global)?;
    // The PBX's own actions when its spec was pulled.
    let registry = crate::spec_choice::active(global, Some(&conn))?.registry;
    let runtime = super::sandbox::command_runtime()?;
    let session = Session::open(&runtime, global, conn, args.timeout)?;
    let client = &session.client;
    let result = runtime.block_on(async {
        let snapshot = read_pbx(registry, client, args.page_size).await?;
        Ok::<_, CliError>((snapshot, pbx_version(registry, client).await))
    });
    let pbx = client.config().base_url().to_owned();
    session.close(&runtime);
    let (snapshot, pbx_version) = result?;
    if snapshot.resources.is_empty() {
        return Err(
            CliError::new(exit::API, "the PBX refused every configuration resource")
                .hint("check the API client's role (System Administrator or System Owner)"),
        );
    }
    Ok((snapshot, Origin { pbx, pbx_version }))
}

/// The PBX's version from System Status, if it can be read.
pub(crate) async fn pbx_version(registry: &Registry, client: &Client) -> Option<String> {
    let answer = registry
        .call(
            client,
            "SystemStatus",
            "GetSystemStatus",
            json!({"$select": ["Version"]}),
        )
        .await
        .ok()?
        .into_json();
    answer
        .get("Version")
        .and_then(Value::as_str)
        .map(str::to_owned)
}
