//! The n8n community node (`integrations/n8n-nodes-threecx`): its own unit tests, request
//! conformance with the CLI for every action, and workflows in a real n8n against the sandbox.
//!
//! Node.js and npm must be on the machine; the package's development dependencies are installed
//! by `npm ci` on first use (see [`package`]). Real n8n is installed once per machine by
//! `scripts/n8n-setup.sh` into a cache folder outside the clone.

mod conformance;
mod package;
mod real_n8n;
mod unit;
