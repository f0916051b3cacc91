//! The `--help` texts of `threecx snapshot` and `threecx diff` (what is read, what is left
//! out, exit codes).

pub const SNAPSHOT_HELP: &str = "\
Reads every configuration resource (entity sets page by page, settings singletons) and writes
DIR/<Resource>.json for each, plus DIR/snapshot.json (PBX URL and version, the resources, what
was skipped). Entities are sorted by key, object keys sorted, pretty JSON with a final newline,
no timestamps: the same configuration gives the same bytes, so snapshots diff cleanly in git.
Left out: history, logs, reports, live state and status (calls, registrations, presence),
reference data, and credentials (passwords, PINs, keys), by the rule tables in
crates/threecx-cli/src/snapshot/rules.rs. A resource the PBX refuses (403, 404...) is reported
on stderr, listed in snapshot.json and skipped.

Exit codes: 0 written (even with skipped resources: see stderr), 1 the folder could not be
written, 2 usage, 3 authentication, 4 the PBX refused every resource, 5 network or timeout.

Examples:
  threecx snapshot pbx-config
  cd pbx-config && git add -A && git commit -m \"PBX configuration\"";

pub const DIFF_HELP: &str = "\
Compares two snapshot folders (threecx snapshot), or a snapshot with the live PBX (--live,
read as a snapshot would be, nothing written). Reports per resource the entities added, removed
and changed (matched by key), with each changed field's path (Groups[0].Name) and its old and
new value. Resources that either side could not read are listed as not compared.

Exit codes (like diff(1)): 0 no differences, 1 they differ; 2 usage or a folder that is not a
snapshot, 3 authentication, 4 the PBX refused every resource, 5 network or timeout (--live).

Examples:
  threecx diff before/ after/
  threecx diff pbx-config --live --output json";
