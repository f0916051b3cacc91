//! An action found once: the operation with its place in the registry, so that a front end's
//! per-call steps (the input schema, relative times, validation, building) reach the cached
//! schema and validator without looking the action up again.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value;
use threecx_core::Result;

use crate::operation::{ActionMeta, Operation};
use crate::relative_time::{resolve_relative_times, ResolvedTime};
use crate::{PreparedCall, Registry};

/// An action of a [`Registry`], looked up once ([`Registry::action`] by name,
/// [`Registry::action_of`] for an operation at hand). Cheap to copy.
///
/// ```no_run
/// # async fn run(client: &threecx_core::Client) -> threecx_core::Result<()> {
/// use serde_json::json;
/// let registry = threecx_registry::global();
/// let action = registry.action("Users", "Get User")?;
/// let answer = action.prepare(json!({"Id": 1}))?.send(client).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy)]
pub struct ActionRef<'r> {
    registry: &'r Registry,
    op: &'static dyn Operation,
    /// Its position in the registry (its caches); `None` for an operation registered elsewhere.
    slot: Option<usize>,
}

impl<'r> ActionRef<'r> {
    fn new(registry: &'r Registry, op: &'static dyn Operation, slot: Option<usize>) -> Self {
        ActionRef { registry, op, slot }
    }

    /// The operation.
    pub fn op(&self) -> &'static dyn Operation {
        self.op
    }

    /// Its names and flags.
    pub fn meta(&self) -> &'static ActionMeta {
        self.op.meta()
    }

    /// The registry it was found in.
    pub fn registry(&self) -> &'r Registry {
        self.registry
    }

    /// Its self-contained input schema, borrowed from the registry's cache (see
    /// [`Registry::input_schema_ref`]).
    pub fn input_schema(&self) -> Cow<'r, Value> {
        self.registry.input_schema_at(self.op, self.slot)
    }

    /// Replaces relative date-times (`now-90d`) in `input` where its schema expects a date-time
    /// (see [`resolve_relative_times`]).
    pub fn resolve_relative_times(
        &self,
        input: &mut Value,
        now: DateTime<Utc>,
    ) -> Vec<ResolvedTime> {
        resolve_relative_times(&self.input_schema(), input, now)
    }

    /// Checks `input` against the input schema (see [`Registry::validate`]).
    pub fn validate(&self, input: &Value) -> Result<()> {
        self.registry.validate_at(self.op, self.slot, input)
    }

    /// Validates `input` and builds the request, without any I/O (see [`Registry::prepare`]).
    pub fn prepare(&self, input: Value) -> Result<PreparedCall<'r>> {
        self.registry.prepare_at(self.op, self.slot, input)
    }
}

impl Registry {
    /// [`Registry::find`], as a handle that prepares calls, resolves relative times and reads
    /// the input schema without looking the action up again: what a front end holds per call.
    pub fn action(&self, resource: &str, action: &str) -> Result<ActionRef<'_>> {
        let (op, slot) = self.lookup(resource, action)?;
        Ok(ActionRef::new(self, op, slot))
    }

    /// The handle of `op` (found by other means: a typed call, a list of actions), looked up
    /// here once; an operation this registry does not hold still works, uncached.
    pub fn action_of(&self, op: &'static dyn Operation) -> ActionRef<'_> {
        ActionRef::new(self, op, self.index_of(op))
    }
}

impl fmt::Debug for ActionRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionRef")
            .field("action", &self.meta().label())
            .field("registered", &self.slot.is_some())
            .finish()
    }
}
