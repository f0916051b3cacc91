//! An extension of threecx: a resource **User Offboarding** whose two actions are composed in
//! Rust from generated actions, and which everything that uses the registry (the `threecx` CLI,
//! the HTTP gateway, the MCP server, the n8n export) then offers like any other.
//!
//! | action | input | does |
//! |---|---|---|
//! | `Disable User` | `{"Number": "100"}` | finds the user (`Users / Get User By Number`) and sets `Enabled: false` (`Users / Update User`) |
//! | `Offboard User` (destructive) | `{"Number": "100", "purge_chats_before"?: "2024-06-30T23:59:59Z"}` | disables the user, then purges the chat history up to that time (`Purge Settings / Purge Chats`) |
//!
//! 3CX purges chat history for the whole PBX, not per user: `purge_chats_before` purges every
//! chat message up to that time, which is why `Offboard User` is marked destructive (the CLI
//! asks, the gateway and the MCP server want `confirm: true`).
//!
//! How an extension is made:
//! 1. an input type deriving `serde::Deserialize` and `schemars::JsonSchema` (the published,
//!    validated input schema),
//! 2. a static [`ActionMeta`] and an [`Operation`] implementation whose `invoke` calls other
//!    actions through its [`Context`] (validated like any call),
//! 3. `threecx_registry::inventory::submit! { Registration(&MY_ACTION) }`,
//! 4. a function the program calls ([`registry`]) so the linker keeps the registrations.
//!
//! ```no_run
//! # async fn run(client: &threecx_ops::core::Client) -> threecx_ops::core::Result<()> {
//! let registry = threecx_example_user_offboarding::registry();
//! let out = registry
//!     .call(client, "User Offboarding", "Disable User", serde_json::json!({"Number": "100"}))
//!     .await?;
//! assert_eq!(out.to_json()["Enabled"], false);
//! # Ok(()) }
//! ```

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use threecx_ops::core::{Error, Response, Result};
use threecx_registry::{
    async_trait, ActionKind, ActionMeta, Context, Operation, Registration, Registry,
};

/// Canonical name of the resource.
pub const RESOURCE: &str = "UserOffboarding";

/// The registry with these actions (and every generated one). Calling it (or referring to any
/// item of this crate) keeps the registrations in the final binary.
pub fn registry() -> &'static Registry {
    ensure_linked();
    threecx_ops::registry()
}

/// Makes sure the linker keeps this crate's registrations: call it once from a program that
/// uses the global registry (e.g. `threecx_example_user_offboarding::ensure_linked();`).
pub fn ensure_linked() {
    std::hint::black_box(&DISABLE_USER);
    std::hint::black_box(&OFFBOARD_USER);
}

/// An RFC 3339 date-time, as the generated schemas check it (`format` alone is not asserted).
const DATE_TIME_PATTERN: &str = "^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?(Z|[+-][0-9][0-9]:[0-9][0-9])$";

/// Input of `Disable User`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableUserInput {
    /// The user's extension number, e.g. "100".
    #[serde(rename = "Number")]
    #[schemars(length(min = 1))]
    pub number: String,
}

/// Input of `Offboard User`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OffboardUserInput {
    /// The user's extension number, e.g. "100".
    #[serde(rename = "Number")]
    #[schemars(length(min = 1))]
    pub number: String,
    /// Also purge the PBX's chat history (every user's: 3CX purges PBX-wide) up to this time,
    /// e.g. "2024-06-30T23:59:59Z".
    #[serde(default)]
    #[schemars(extend("format" = "date-time", "pattern" = DATE_TIME_PATTERN))]
    pub purge_chats_before: Option<String>,
}

/// `Disable User`.
pub struct DisableUser;
/// `Offboard User`.
pub struct OffboardUser;

static DISABLE_USER_META: ActionMeta = ActionMeta {
    resource: RESOURCE,
    action: "DisableUser",
    resource_display: "User Offboarding",
    action_display: "Disable User",
    description: "Disable the user with this extension number (Get User By Number, then Update \
                  User with Enabled false). Composed; no HTTP request of its own.",
    kind: ActionKind::Custom,
    destructive: false,
    idempotent: true,
};

static OFFBOARD_USER_META: ActionMeta = ActionMeta {
    resource: RESOURCE,
    action: "OffboardUser",
    resource_display: "User Offboarding",
    action_display: "Offboard User",
    description: "Disable the user with this extension number and, with purge_chats_before, \
                  purge the PBX's chat history up to that time. Composed; no HTTP request of \
                  its own.",
    kind: ActionKind::Custom,
    destructive: true,
    idempotent: false,
};

fn schema_of<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialise")
}

fn parse<T: serde::de::DeserializeOwned>(input: Value, what: &str) -> Result<T> {
    // The registry validated the input against the same type's schema already.
    serde_json::from_value(input).map_err(|e| Error::Decode {
        what: what.to_owned(),
        message: e.to_string(),
    })
}

/// What `Disable User` answers.
fn disabled_user_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "Id": {"type": "integer"},
            "Number": {"type": "string"},
            "Enabled": {"const": false},
            "WasEnabled": {"type": ["boolean", "null"], "description": "Whether the user was enabled before."},
        },
        "required": ["Id", "Number", "Enabled"],
    })
}

/// Finds the user by number and disables it.
async fn disable(ctx: &Context<'_>, number: &str) -> Result<Value> {
    let user = ctx
        .call(
            "Users",
            "GetUserByNumber",
            json!({"Number": number, "$select": ["Id", "Number", "Enabled"]}),
        )
        .await?
        .to_json();
    let id = user["Id"].as_i64().ok_or_else(|| Error::Decode {
        what: "Users / Get User By Number".into(),
        message: format!("the answer for user {number} has no numeric Id"),
    })?;
    ctx.call(
        "Users",
        "UpdateUser",
        json!({"Id": id, "body": {"Enabled": false}}),
    )
    .await?;
    Ok(json!({
        "Id": id,
        "Number": number,
        "Enabled": false,
        "WasEnabled": user["Enabled"].as_bool(),
    }))
}

#[async_trait]
impl Operation for DisableUser {
    fn meta(&self) -> &ActionMeta {
        &DISABLE_USER_META
    }

    fn input_schema(&self) -> Value {
        schema_of::<DisableUserInput>()
    }

    fn output_schema(&self) -> Value {
        disabled_user_schema()
    }

    async fn invoke(&self, ctx: &Context<'_>, input: Value) -> Result<Response> {
        let input: DisableUserInput = parse(input, "User Offboarding / Disable User input")?;
        Ok(Response::Json(disable(ctx, &input.number).await?))
    }
}

#[async_trait]
impl Operation for OffboardUser {
    fn meta(&self) -> &ActionMeta {
        &OFFBOARD_USER_META
    }

    fn input_schema(&self) -> Value {
        schema_of::<OffboardUserInput>()
    }

    fn output_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "user": disabled_user_schema(),
                "chats_purged_before": {"type": ["string", "null"], "format": "date-time"},
            },
            "required": ["user", "chats_purged_before"],
        })
    }

    async fn invoke(&self, ctx: &Context<'_>, input: Value) -> Result<Response> {
        let input: OffboardUserInput = parse(input, "User Offboarding / Offboard User input")?;
        let user = disable(ctx, &input.number).await?;
        if let Some(stop) = &input.purge_chats_before {
            // The outer call was confirmed; the inner one is a plain call.
            ctx.call(
                "Purge Settings",
                "Purge Chats",
                json!({"period": {"Stop": stop}}),
            )
            .await?;
        }
        Ok(Response::Json(json!({
            "user": user,
            "chats_purged_before": input.purge_chats_before,
        })))
    }
}

static DISABLE_USER: DisableUser = DisableUser;
static OFFBOARD_USER: OffboardUser = OffboardUser;

threecx_registry::inventory::submit! { Registration(&DISABLE_USER) }
threecx_registry::inventory::submit! { Registration(&OFFBOARD_USER) }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_with_schemas() {
        let registry = registry();
        let op = registry.find("user offboarding", "disable-user").unwrap();
        let schema = registry.input_schema(op);
        assert_eq!(schema["required"], json!(["Number"]));
        registry.validate(op, &json!({"Number": "100"})).unwrap();
        assert!(registry.validate(op, &json!({"Number": 100})).is_err());
        assert!(registry.validate(op, &json!({"number": "100"})).is_err());
        let op = registry.find("UserOffboarding", "OffboardUser").unwrap();
        assert!(op.meta().destructive);
        let e = registry
            .validate(
                op,
                &json!({"Number": "100", "purge_chats_before": "yesterday"}),
            )
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { ref pointer, .. } if pointer == "/purge_chats_before"),
            "{e}"
        );
    }
}
