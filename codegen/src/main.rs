//! `codegen`: the threecx code generator CLI. One subcommand per stage; each parses its
//! arguments here and calls the stage's library entry point.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use threecx_codegen::generate;
use threecx_codegen::import::{self, ImportOptions};
use threecx_codegen::rules::Rules;

#[derive(Parser)]
#[command(name = "codegen", version, about = "threecx code generator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import an OpenAPI document (file or http(s) URL) into the schemas/ format.
    Import(ImportArgs),
    /// Generate the Rust code of threecx-ops and the n8n node's data from schemas/.
    Generate(GenerateArgs),
    /// Regenerate schemas/ and the generated code in a temporary directory; fail, naming every
    /// file, if the committed ones differ.
    Check(CheckArgs),
}

#[derive(Args)]
struct GenerateArgs {
    /// The schemas/ directory to read.
    #[arg(long, default_value = "schemas")]
    schemas: PathBuf,
    /// Output directory; it is made to hold exactly the generated files.
    #[arg(long, default_value = "crates/threecx-ops/src/generated")]
    out: PathBuf,
    /// Output directory of the n8n node's data; it is made to hold exactly the generated files.
    #[arg(long, default_value = "integrations/n8n-nodes-threecx/generated")]
    n8n_out: PathBuf,
}

#[derive(Args)]
struct CheckArgs {
    /// Spec file path or URL, as given to `import`.
    #[arg(long, default_value = "../shared/xapi/swagger-20.0.10.yaml")]
    spec: String,
    /// The committed schemas/ directory.
    #[arg(long, default_value = "schemas")]
    schemas: PathBuf,
    /// The committed generated code.
    #[arg(long, default_value = "crates/threecx-ops/src/generated")]
    generated: PathBuf,
    /// The committed n8n node data.
    #[arg(long, default_value = "integrations/n8n-nodes-threecx/generated")]
    n8n: PathBuf,
    #[command(flatten)]
    reading: SpecReading,
}

#[derive(Args)]
struct ImportArgs {
    /// Spec file path, or a PBX URL such as https://pbx.example.com/xapi/v1/swagger.yaml
    spec: String,
    /// Output directory (manifest.json, models.json, resources/).
    #[arg(long, default_value = "schemas")]
    out: PathBuf,
    #[command(flatten)]
    reading: SpecReading,
}

/// How a spec is read and imported: by `import`, and by `check` for its fresh import.
#[derive(Args)]
struct SpecReading {
    /// 3CX version to record; default: from a swagger-X.Y.Z.yaml file name, else "unknown".
    #[arg(long, value_name = "X.Y.Z")]
    threecx_version: Option<String>,
    /// Rules file replacing the built-in codegen/config.toml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Accept an invalid TLS certificate when fetching a URL (self-signed PBX).
    #[arg(long)]
    insecure: bool,
}

impl SpecReading {
    /// The rules of `--config`, else the compiled-in ones.
    fn rules(&self) -> Result<Rules, String> {
        let Some(path) = &self.config else {
            return Ok(Rules::default_rules());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Rules::parse(&text).map_err(|e| e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Import(args) => run_import(args),
        Command::Generate(args) => run_generate(args),
        Command::Check(args) => run_check(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("codegen: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_import(args: ImportArgs) -> Result<(), String> {
    let options = ImportOptions {
        rules: args.reading.rules()?,
        spec: args.spec,
        out: args.out,
        threecx_version: args.reading.threecx_version,
        insecure: args.reading.insecure,
    };
    let (rendered, report) = import::run(&options).map_err(|e| e.to_string())?;
    for warning in &rendered.warnings {
        eprintln!("warning: {warning}");
    }
    for collision in &rendered.collisions {
        eprintln!("renamed: {collision}");
    }
    let m = &rendered.manifest;
    println!(
        "imported 3CX {} ({}): {} resources, {} actions ({} destructive), {} models",
        m.threecx_version,
        m.spec.source,
        m.counts.resources,
        m.counts.actions,
        m.counts.destructive,
        m.counts.models
    );
    println!(
        "{}: {} written, {} unchanged, {} stale removed",
        options.out.display(),
        report.written.len(),
        report.unchanged,
        report.removed.len()
    );
    for removed in &report.removed {
        println!("  removed {removed}");
    }
    Ok(())
}

fn run_generate(args: GenerateArgs) -> Result<(), String> {
    let out = generate::OutDirs {
        rust: &args.out,
        n8n: &args.n8n_out,
    };
    let s = generate::generate(&args.schemas, out).map_err(|e| e.to_string())?;
    for warning in &s.warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "generated {} resources, {} actions, {} models: {} files ({} bytes, {} lines) in {}; \
         {} written, {} stale removed",
        s.resources,
        s.actions,
        s.models,
        s.write.files,
        s.write.bytes,
        s.write.lines,
        format_args!("{} and {}", args.out.display(), args.n8n_out.display()),
        s.write.written,
        s.write.removed.len()
    );
    for removed in &s.write.removed {
        println!("  removed {removed}");
    }
    Ok(())
}

fn run_check(args: CheckArgs) -> Result<(), String> {
    let options = generate::check::CheckOptions {
        rules: args.reading.rules()?,
        spec: args.spec,
        threecx_version: args.reading.threecx_version,
        insecure: args.reading.insecure,
        schemas: args.schemas,
        generated: args.generated,
        n8n: args.n8n,
    };
    let differences = generate::check::check(&options).map_err(|e| e.to_string())?;
    if differences.is_empty() {
        println!(
            "up to date: {}, {} and {} match a fresh import + generate of {}",
            options.schemas.display(),
            options.generated.display(),
            options.n8n.display(),
            options.spec
        );
        return Ok(());
    }
    for d in &differences {
        eprintln!("  {d}");
    }
    Err(format!(
        "{} file(s) differ from a fresh regeneration; run `cargo run -p threecx-codegen -- import \
         {}` and `cargo run -p threecx-codegen -- generate`, then commit the result",
        differences.len(),
        options.spec
    ))
}
