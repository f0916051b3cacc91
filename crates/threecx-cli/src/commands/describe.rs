//! `threecx describe RESOURCE ACTION`.

use std::io::Write;

use crate::cli::{DescribeArgs, Format, GlobalArgs};
use crate::commands::method_and_path;
use crate::connection::Connection;
use crate::exit::CliResult;
use crate::output::write_json;
use crate::spec_choice;

pub fn run(global: &GlobalArgs, args: &DescribeArgs) -> CliResult {
    let conn = Connection::resolve(global)?;
    let active = spec_choice::active(global, Some(&conn))?;
    let registry = active.registry;
    let op = active.action(&args.resource, &args.action)?.op();
    let meta = op.meta();
    let (method, path) = method_and_path(op);
    let description = registry.describe(op);

    let mut out = std::io::stdout().lock();
    match args.output {
        Format::Json => write_json(&mut out, &description)?,
        Format::Table => {
            let yes_no = |b: bool| if b { "yes" } else { "no" };
            writeln!(
                out,
                "Resource:     {} ({})",
                meta.resource_display, meta.resource
            )?;
            writeln!(
                out,
                "Action:       {} ({})",
                meta.action_display, meta.action
            )?;
            if !meta.description.is_empty() {
                writeln!(out, "Description:  {}", meta.description)?;
            }
            writeln!(out, "Kind:         {}", meta.kind.as_str())?;
            writeln!(out, "Request:      {method} {path}")?;
            writeln!(
                out,
                "Destructive:  {}",
                if meta.destructive {
                    "yes (asks for confirmation; --yes confirms)"
                } else {
                    "no"
                }
            )?;
            writeln!(out, "Idempotent:   {}", yes_no(meta.idempotent))?;
            writeln!(out, "\nInput schema:")?;
            write_json(&mut out, &description.input_schema)?;
            writeln!(out, "\nOutput schema:")?;
            write_json(&mut out, &description.output_schema)?;
            writeln!(out, "\nExample input:")?;
            write_json(&mut out, &description.example_input)?;
            writeln!(
                out,
                "\nExample call:\n  threecx call \"{}\" \"{}\" --input '{}'{}",
                meta.resource_display,
                meta.action_display,
                description.example_input.to_string().replace('\'', "'\\''"),
                if meta.destructive { " --yes" } else { "" }
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
