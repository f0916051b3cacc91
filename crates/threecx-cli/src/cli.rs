//! The command line, as clap sees it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::exit;

const ABOUT: &str = "List, describe and call any action of the 3CX Configuration API (XAPI)";

const CONNECTION_HELP: &str = "\
Connection settings (flags > environment > profile):
  --url URL             THREECX_URL            url = \"...\"
  --client-id ID        THREECX_CLIENT_ID      client_id = \"...\"
  --secret-file FILE    THREECX_CLIENT_SECRET  client_secret = \"...\" or secret_file = \"...\"
  --profile NAME        THREECX_PROFILE        (else the profile named \"default\", if any)
  --ca-cert FILE                               ca_cert = \"...\"
  --insecure                                   insecure = true
  --no-token-cache      THREECX_TOKEN_CACHE=DIR (default <cache dir>/threecx/tokens)
  --audit-log FILE      THREECX_AUDIT_LOG      audit_log = \"...\"
  --no-audit-log        (destructive calls sent; default <data dir>/threecx/audit.jsonl)
Profiles are tables [profiles.NAME] in <config dir>/threecx/config.toml (THREECX_CONFIG
overrides the file's path); `threecx config` shows what is used and where it came from.
--sandbox replaces all of them with a simulated PBX started for the one command.";

/// `threecx`: the 3CX XAPI from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "threecx",
    version,
    about = ABOUT,
    after_help = format!("{CONNECTION_HELP}\n\n{}", exit::HELP),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// PBX URL, e.g. https://pbx.example.com or https://pbx.example.com:5001 [env: THREECX_URL]
    #[arg(long, global = true, value_name = "URL", help_heading = "Connection")]
    pub url: Option<String>,

    /// ID of the API client (3CX admin console > Integrations > API) [env: THREECX_CLIENT_ID]
    #[arg(long, global = true, value_name = "ID", help_heading = "Connection")]
    pub client_id: Option<String>,

    /// File holding the API client's secret (never give a secret itself on the command line)
    /// [env: THREECX_CLIENT_SECRET holds the secret itself]
    #[arg(long, global = true, value_name = "FILE", help_heading = "Connection")]
    pub secret_file: Option<PathBuf>,

    /// Profile of the config file to use [env: THREECX_PROFILE]; repeat it to reach several
    /// PBXs at once (call, spec pull, spec status, profiles check)
    #[arg(long, global = true, value_name = "NAME", action = ArgAction::Append,
          help_heading = "Connection")]
    pub profile: Vec<String>,

    /// Several profiles at once, comma-separated: a fleet of PBXs
    #[arg(
        long,
        global = true,
        value_name = "A,B",
        value_delimiter = ',',
        help_heading = "Fleets"
    )]
    pub profiles: Vec<String>,

    /// Every profile of the config file: the whole fleet
    #[arg(
        long,
        global = true,
        conflicts_with = "profiles",
        help_heading = "Fleets"
    )]
    pub all_profiles: bool,

    /// PBXs served at once in a fleet command
    #[arg(long, global = true, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..), help_heading = "Fleets")]
    pub concurrency: u16,

    /// Which actions to offer: `builtin` (this build's 3CX version), or an OpenAPI FILE; by
    /// default the spec pulled from the PBX (`threecx spec pull`), else builtin
    /// [env: THREECX_SPEC]
    #[arg(
        long,
        global = true,
        value_name = "builtin|FILE",
        help_heading = "Connection"
    )]
    pub spec: Option<String>,

    /// PEM file of extra CA certificates to trust (PBX with a private CA)
    #[arg(long, global = true, value_name = "FILE", help_heading = "Connection")]
    pub ca_cert: Option<PathBuf>,

    /// Do not verify the PBX's TLS certificate (unsafe; prefer --ca-cert)
    #[arg(long, global = true, help_heading = "Connection")]
    pub insecure: bool,

    /// Keep the access token in memory only, instead of sharing it with other threecx runs
    /// through <cache dir>/threecx/tokens [env: THREECX_TOKEN_CACHE=DIR moves that folder]
    #[arg(long, global = true, help_heading = "Connection")]
    pub no_token_cache: bool,

    /// Append a JSON line for every destructive call sent (call, serve, mcp) to FILE
    /// [env: THREECX_AUDIT_LOG; profile key audit_log; default <data dir>/threecx/audit.jsonl]
    #[arg(long, global = true, value_name = "FILE", help_heading = "Audit")]
    pub audit_log: Option<PathBuf>,

    /// Keep no audit log of destructive calls
    #[arg(
        long,
        global = true,
        conflicts_with = "audit_log",
        help_heading = "Audit"
    )]
    pub no_audit_log: bool,

    /// Start a simulated PBX in this process for this one command and connect to it instead
    /// (its URL and credentials replace flags, environment and profile); see `threecx sandbox`
    #[arg(long, global = true, help_heading = "Sandbox")]
    pub sandbox: bool,

    /// Seed of the --sandbox PBX's data [default: 1]
    #[arg(
        long,
        global = true,
        value_name = "N",
        requires = "sandbox",
        help_heading = "Sandbox"
    )]
    pub sandbox_seed: Option<u64>,

    /// Log to stderr: -v info, -vv debug, -vvv trace (else RUST_LOG, if set)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the resources, or the actions of one resource
    #[command(
        after_help = "Names may be written in any spelling: \"Purge Settings\", \
                            purge-settings, PurgeSettings."
    )]
    List(ListArgs),

    /// Show an action's names, HTTP request, flags, input and output JSON Schemas and an
    /// example input
    Describe(DescribeArgs),

    /// Call an action with one JSON input object
    #[command(after_help = format!("{CALL_EXAMPLES}\n\n{}", exit::HELP))]
    Call(CallArgs),

    /// Show the resolved connection settings and where each came from (the secret is never shown)
    Config(ConfigArgs),

    /// Print a shell completion script: threecx completions bash > /etc/bash_completion.d/threecx
    Completions(CompletionsArgs),

    /// Run a simulated 3CX PBX on this machine until Ctrl-C (prints its URL and credentials)
    #[command(after_help = SANDBOX_HELP)]
    Sandbox(SandboxArgs),

    /// Serve every action over HTTP for scripts and automation platforms, until Ctrl-C
    #[command(after_help = SERVE_HELP)]
    Serve(ServeArgs),

    /// Serve every action to an AI agent over the Model Context Protocol (stdio)
    #[command(after_help = MCP_HELP)]
    Mcp(McpArgs),

    /// Write a description of every action for another tool
    #[command(subcommand)]
    Export(ExportCommand),

    /// The PBX's own action set: pull its OpenAPI document, or show which set is in use
    #[command(subcommand, after_help = SPEC_HELP)]
    Spec(SpecCommand),

    /// The PBXs of the config file: list them, or check each (reachable, authenticated,
    /// version, pulled spec current)
    Profiles(ProfilesArgs),

    /// Save the PBX's configuration as one sorted JSON file per resource, for diffing in git
    #[command(after_help = crate::snapshot::help::SNAPSHOT_HELP)]
    Snapshot(SnapshotArgs),

    /// Compare two snapshots (or a snapshot and the live PBX): entities added, removed, changed
    #[command(after_help = crate::snapshot::help::DIFF_HELP)]
    Diff(DiffArgs),
}

const SPEC_HELP: &str = "\
This build knows the actions of one 3CX version (the built-in set). `spec pull` fetches the
connected PBX's /xapi/v1/swagger.yaml, imports it and caches it per PBX URL (THREECX_SPEC_CACHE
moves the cache); from then on list, describe, call, serve and mcp offer exactly that PBX's
actions. --spec builtin forces the built-in set, --spec FILE uses a given document.
With --profile a --profile b, --profiles a,b or --all-profiles, pull and status run per PBX.

Examples:
  threecx spec pull
  threecx --all-profiles spec pull --concurrency 16
  threecx spec status --output json";

#[derive(Debug, Subcommand)]
pub enum SpecCommand {
    /// Fetch the PBX's OpenAPI document, import and cache it, and show how its actions differ
    /// from the built-in set
    Pull(SpecArgs),
    /// Show which action set the connection uses (built in, pulled, or a file)
    Status(SpecArgs),
}

#[derive(Debug, Args)]
pub struct SpecArgs {
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// Per-request timeout towards the PBX, in seconds
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Folder to write into (created if missing); files of resources no longer read are removed
    pub dir: PathBuf,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// How `snapshot` and `diff --live` read the PBX.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Items per page when listing the PBX's entity sets
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub page_size: u32,

    /// Seconds allowed for each HTTP exchange with the PBX [default: 30]
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub command: Option<ProfilesCommand>,

    #[arg(long, short, value_enum, default_value_t = Format::Table, global = true)]
    pub output: Format,

    /// Per-request timeout towards each PBX, in seconds
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, global = true)]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Per PBX: reachable, authenticated, its version, and whether its pulled spec is current
    /// (all profiles, or those named with --profile/--profiles)
    Check,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older snapshot folder
    pub old: PathBuf,

    /// The newer snapshot folder (or --live)
    #[arg(required_unless_present = "live", conflicts_with = "live")]
    pub new: Option<PathBuf>,

    /// Compare OLD with the PBX as it is now (read like `threecx snapshot`, nothing written)
    #[arg(long)]
    pub live: bool,

    /// table: for people; json: the whole report
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    #[command(flatten)]
    pub read: ReadArgs,
}

const SERVE_HELP: &str = "\
Routes: GET /healthz, GET /openapi.json, GET /v1/resources, GET /v1/actions[?resource=R&q=TEXT],
GET /v1/actions/{resource}/{action} (schemas), POST /v1/actions/{resource}/{action} with
{\"input\": {...}, \"confirm\": true} (confirm only for destructive actions; ?all=true streams
NDJSON). Every route under /v1 needs the gateway's API key in X-Api-Key or Authorization: Bearer.
The PBX's credentials stay in this process.

Examples:
  THREECX_GATEWAY_KEY=$(openssl rand -hex 32) threecx serve --listen 127.0.0.1:8080
  threecx --sandbox serve --api-key-file gateway.key";

const MCP_HELP: &str = "\
Tools: list_actions (filter by resource, search with q), describe_action, call_action
(destructive actions need confirm: true); with --resources, one tool per action of those
resources as well. stdout carries only the protocol; logs go to stderr.

Example client configuration (Claude Desktop, VS Code, ...):
  {\"command\": \"threecx\", \"args\": [\"mcp\", \"--resources\", \"Users,Groups\"],
   \"env\": {\"THREECX_URL\": \"https://pbx.example.com\", \"THREECX_CLIENT_ID\": \"agent\",
           \"THREECX_CLIENT_SECRET\": \"...\"}}";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 takes any free one; the address chosen is printed)
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,

    /// File holding the API key clients must send (at least 16 characters, 8 of them different)
    /// [env: THREECX_GATEWAY_KEY holds the key itself]
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,

    /// Largest request body accepted, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_body: usize,

    /// Items per PBX page when a caller streams with ?all=true
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub page_size: u32,

    /// Per-request timeout towards the PBX, in seconds
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,

    /// Most connections open at once; more wait until one closes
    #[arg(long, value_name = "N", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Seconds a client has to send a complete request head, after connecting or after its
    /// previous answer (so also the idle keep-alive timeout)
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub header_timeout: Duration,

    /// Seconds the calls in flight may take to finish on Ctrl-C or SIGTERM, before the
    /// remaining connections are closed
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub shutdown_grace: Duration,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Resources (comma-separated, any spelling) whose every action also becomes a tool
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub resources: Vec<String>,

    /// Per-request timeout towards the PBX, in seconds
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The description of the n8n node (integrations/n8n-nodes-threecx): its resources,
    /// operations and fields, as JSON
    N8n(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

const SANDBOX_HELP: &str = "\
Simulated: the token endpoint (form or multipart body, lifetime, expiry, one active token per
API client, OAuth errors), every entity set as a store (list with $filter including any()/all(),
$orderby $top $skip $count $select $search $expand; get by key, create, update, delete), the
call and chat history (purged by Purge Calls / Purge Chats), Batch Delete, Get First Available
Extension Number, Init Fax / Init Trunk, System Status, License Status and the call log report.
3CX's rules: one numbering plan over every extension-numbered entity (users, groups, ring groups,
queues, receptionists, fax, parkings, trunks...), numbers that cannot change, group membership
seen from both sides, references that must exist, navigation properties only with $expand, JSON
bodies only (415); refusals as 3CX's validation errors (WARNINGS.XAPI.* per field).
Every other action is validated against its schema and answered with generated data.
The version: this build's 3CX version and actions, and an OpenAPI document of them (written from
the built-in descriptors) at /xapi/v1/swagger.yaml; with --spec FILE, exactly the actions of that
document, its version (from a swagger-X.Y.Z.yaml file name, or --emulate-version) in System
Status, and the document itself at /xapi/v1/swagger.yaml.

Examples:
  threecx sandbox --port 5001 --data pbx.json
  threecx sandbox --call-history 1000000 --token-lifetime 60
  threecx sandbox --spec swagger-20.0.9.yaml
  threecx --sandbox call Users \"List User\" --param '$top=3'";

const CALL_EXAMPLES: &str = "\
Examples:
  threecx call \"Purge Settings\" \"Purge Chats\" --yes \\
      --input '{\"period\":{\"Start\":\"2024-01-01T00:00:00Z\",\"Stop\":\"2024-06-30T23:59:59Z\"}}'
  threecx call Users \"Get User By Number\" --param Number=100
  threecx call Users \"List User\" --param '$select=[\"Id\",\"Number\"]' --all --output ndjson
  threecx call \"Purge Settings\" \"Purge Chats\" --input @period.json --dry-run
  threecx call \"Purge Settings\" \"Purge Chats\" --preview \\
      --input '{\"period\":{\"Start\":null,\"Stop\":\"now-90d\"}}'
Date-time inputs also take now, today and offsets: now-90d, today-1y, now-12h (units s, m, h,
d, w, mo, y), resolved to UTC when the command runs.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CallFormat {
    /// Pretty JSON of the answer (for --all: one array)
    Json,
    /// One compact JSON value per line (a collection's items one by one)
    Ndjson,
    /// Columns from the keys of a list of objects
    Table,
    /// RFC 4180 CSV: a header of the output model's properties (or the `$select`), one row per
    /// item, nested values as JSON text, null as an empty field; streamed with --all
    Csv,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// A resource (any spelling); without it, every resource is listed
    pub resource: Option<String>,

    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// The resource (any spelling), e.g. "Purge Settings"
    pub resource: String,
    /// The action (any spelling), e.g. "Purge Chats"
    pub action: String,

    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The resource (any spelling), e.g. "Purge Settings"
    pub resource: String,
    /// The action (any spelling), e.g. "Purge Chats"
    pub action: String,

    /// The input object: JSON text, @FILE, or - for stdin
    #[arg(short, long, value_name = "JSON|@FILE|-")]
    pub input: Option<String>,

    /// One input property; the value is read as JSON when it parses (kept as text where the
    /// action expects text), else as text. Set over --input's properties. Repeatable
    #[arg(short, long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,

    /// Stream every item of a collection, page by page ($top/$skip)
    #[arg(long)]
    pub all: bool,

    /// Items per page with --all
    #[arg(long, value_name = "N", default_value_t = 100, requires = "all",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub page_size: u32,

    /// Output format [default: json]
    #[arg(short, long, value_enum)]
    pub output: Option<CallFormat>,

    /// Write a downloaded file (or the JSON answer) to FILE; a short JSON summary goes to stdout
    #[arg(long, value_name = "FILE", conflicts_with = "all")]
    pub out: Option<PathBuf>,

    /// Seconds allowed for each HTTP exchange [default: 30]
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,

    /// Print the request (method, URL, headers, body) instead of sending it; needs no
    /// credentials (with them, a purge's preview count is read and shown on stderr)
    #[arg(long)]
    pub dry_run: bool,

    /// Confirm a destructive action (delete, purge, restore...) without being asked
    #[arg(short, long)]
    pub yes: bool,

    /// Only count what a purge would remove (Purge Chats, Purge Calls) and print it; the purge
    /// is not sent. With --dry-run, print the count request instead
    #[arg(long, conflicts_with_all = ["all", "out"])]
    pub preview: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// TCP port on 127.0.0.1; 0 takes any free port
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SANDBOX_PORT)]
    pub port: u16,

    /// Seed of all generated data: the same seed gives the same PBX
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// JSON file the state is loaded from at start (when it exists) and saved to on Ctrl-C
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,

    /// User extensions to seed (numbers 100, 101, ...)
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub users: u64,

    /// Groups (departments) to seed
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub groups: u64,

    /// Call history rows (computed on demand: a million cost almost no memory)
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub call_history: u64,

    /// Chat messages (computed on demand)
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub chat_messages: u64,

    /// Spread the call and chat history over the DAYS before now instead of over 2024 (to try
    /// relative purges such as now-90d)
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    pub recent_history: Option<u32>,

    /// Lifetime of an access token, in seconds
    #[arg(long, value_name = "SECS", default_value = "3600", value_parser = parse_seconds)]
    pub token_lifetime: Duration,

    /// The 3CX version to behave like (before 20.0.9, expires_in is given in minutes)
    /// [default: the --spec document's version, else the built-in one]
    #[arg(long, value_name = "V")]
    pub emulate_version: Option<String>,

    /// Whether a new token invalidates the API client's previous one, as on a real 3CX
    #[arg(long, value_name = "true|false", default_value_t = true, action = ArgAction::Set)]
    pub one_active_token: bool,
}

/// The port `threecx sandbox` listens on unless told otherwise.
pub const DEFAULT_SANDBOX_PORT: u16 = 5001;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a number of seconds, e.g. 30 or 2.5"))?;
    if secs.is_nan() || secs <= 0.0 {
        return Err("must be more than zero seconds".to_owned());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("2.5").unwrap(), Duration::from_millis(2500));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
    }
}
