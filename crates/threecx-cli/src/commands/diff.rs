//! `threecx diff OLD NEW` and `threecx diff OLD --live`: what changed between two snapshots.

use std::io::Write;

use crate::cli::{DiffArgs, Format, GlobalArgs};
use crate::exit::{self, CliError, CliResult};
use crate::output::write_json;
use crate::snapshot::compare::{compare, write_human};
use crate::snapshot::folder;

pub fn run(global: &GlobalArgs, args: &DiffArgs) -> CliResult {
    let old = folder::load(&args.old)?;
    let new = match &args.new {
        Some(dir) => folder::load(dir)?,
        None => super::snapshot::read_live(global, &args.read)?.0,
    };
    let report = compare(&old, &new);
    let mut out = std::io::stdout().lock();
    match args.output {
        Format::Table => write_human(&mut out, &report)?,
        Format::Json => write_json(&mut out, &report)?,
    }
    out.flush()?;
    if report.equal {
        Ok(())
    } else {
        // Nothing more to print: the report is the message.
        Err(CliError::new(exit::DIFFERENT, String::new()))
    }
}
