//! `threecx list [RESOURCE]`.

use std::io::Write;

use serde_json::json;
use threecx_ops::registry_api::{ActionSummary, ResourceSummary};

use crate::cli::{Format, GlobalArgs, ListArgs};
use crate::commands::method_and_path;
use crate::connection::Connection;
use crate::exit::CliResult;
use crate::output::{write_json, write_table};
use crate::spec_choice::{self, Origin};

pub fn run(global: &GlobalArgs, args: &ListArgs) -> CliResult {
    let conn = Connection::resolve(global)?;
    let active = spec_choice::active(global, Some(&conn))?;
    let registry = active.registry;
    let mut out = std::io::stdout().lock();
    match &args.resource {
        None => {
            let resources = registry.resources();
            let total = registry.len();
            match args.output {
                Format::Json => {
                    let list: Vec<ResourceSummary> =
                        resources.iter().map(ResourceSummary::from).collect();
                    write_json(
                        &mut out,
                        &json!({
                            "resources": list,
                            "resource_count": resources.len(),
                            "action_count": total,
                        }),
                    )?;
                }
                Format::Table => {
                    let rows: Vec<Vec<String>> = resources
                        .iter()
                        .map(|r| {
                            vec![
                                r.display_name().to_owned(),
                                r.name().to_owned(),
                                r.actions().len().to_string(),
                            ]
                        })
                        .collect();
                    write_table(&mut out, &["RESOURCE", "NAME", "ACTIONS"], &rows)?;
                    write!(out, "{} resources, {total} actions", resources.len())?;
                    if !matches!(active.origin, Origin::Builtin) {
                        write!(out, " of {}", active.describe())?;
                    }
                    writeln!(out)?;
                }
            }
        }
        Some(name) => {
            let resource = registry.find_resource(name)?;
            match args.output {
                Format::Json => {
                    let actions: Vec<ActionSummary> = resource
                        .actions()
                        .iter()
                        .map(|op| ActionSummary::of(*op))
                        .collect();
                    write_json(
                        &mut out,
                        &json!({
                            "resource": resource.name(),
                            "resource_display": resource.display_name(),
                            "actions": actions,
                        }),
                    )?;
                }
                Format::Table => {
                    let rows: Vec<Vec<String>> = resource
                        .actions()
                        .iter()
                        .map(|op| {
                            let meta = op.meta();
                            let (method, path) = method_and_path(*op);
                            vec![
                                meta.action_display.to_owned(),
                                meta.action.to_owned(),
                                method.to_owned(),
                                path,
                                if meta.destructive { "yes" } else { "" }.to_owned(),
                            ]
                        })
                        .collect();
                    writeln!(
                        out,
                        "{} ({}): {} actions",
                        resource.display_name(),
                        resource.name(),
                        resource.actions().len()
                    )?;
                    write_table(
                        &mut out,
                        &["ACTION", "NAME", "METHOD", "PATH", "DESTRUCTIVE"],
                        &rows,
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}
