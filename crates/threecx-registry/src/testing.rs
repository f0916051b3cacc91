//! Fixtures for unit tests: a few actions shaped like the generated ones.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use serde_json::{json, Value};
use threecx_core::{
    Client, Config, Literal, Location, Method, Param, RequestTemplate, Response, ResponseKind,
    Result,
};

use crate::operation::{ActionKind, ActionMeta, HttpAction, Operation};
use crate::{Context, Registry};

pub const DATE_TIME_PATTERN: &str = "^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?(Z|[+-][0-9][0-9]:[0-9][0-9])$";

const fn meta(
    resource: &'static str,
    action: &'static str,
    resource_display: &'static str,
    action_display: &'static str,
    kind: ActionKind,
    destructive: bool,
) -> ActionMeta {
    ActionMeta {
        resource,
        action,
        resource_display,
        action_display,
        description: "test action",
        kind,
        destructive,
        idempotent: !destructive,
    }
}

const PERIOD: &[Param] = &[Param {
    name: "period",
    location: Location::Body,
    literal: Literal::Bare,
    required: false,
}];

/// `period` as a nullable reference, the shape the brief's PurgeChats example uses.
const PERIOD_INPUT: &str = r##"{"type":"object","additionalProperties":false,"properties":{"period":{"anyOf":[{"$ref":"#/$defs/PurgeSettings"},{"type":"null"}]}}}"##;

pub static PURGE_CHATS: HttpAction = HttpAction {
    meta: meta(
        "PurgeSettings",
        "PurgeChats",
        "Purge Settings",
        "Purge Chats",
        ActionKind::ActionImport,
        true,
    ),
    template: RequestTemplate {
        method: Method::Post,
        path: "/PurgeChats",
        params: PERIOD,
        response: ResponseKind::Empty,
        retry_safe: false,
    },
    input_schema: PERIOD_INPUT,
    output_schema: r#"{"type":"null"}"#,
};

pub static PURGE_CALLS: HttpAction = HttpAction {
    meta: meta(
        "PurgeSettings",
        "PurgeCalls",
        "Purge Settings",
        "Purge Calls",
        ActionKind::ActionImport,
        true,
    ),
    template: RequestTemplate {
        method: Method::Post,
        path: "/PurgeCalls",
        params: PERIOD,
        response: ResponseKind::Empty,
        retry_safe: false,
    },
    input_schema: PERIOD_INPUT,
    output_schema: r#"{"type":"null"}"#,
};

pub static LIST_USERS: HttpAction = HttpAction {
    meta: meta(
        "Users",
        "ListUser",
        "Users",
        "List User",
        ActionKind::List,
        false,
    ),
    template: RequestTemplate {
        method: Method::Get,
        path: "/Users",
        params: &[
            Param {
                name: "$top",
                location: Location::Query,
                literal: Literal::Bare,
                required: false,
            },
            Param {
                name: "$filter",
                location: Location::Query,
                literal: Literal::Bare,
                required: false,
            },
        ],
        response: ResponseKind::Collection,
        retry_safe: true,
    },
    input_schema: r#"{"type":"object","additionalProperties":false,"properties":{"$top":{"type":"integer","minimum":0},"$filter":{"type":"string"}}}"#,
    output_schema: r##"{"type":"object","properties":{"value":{"type":"array","items":{"$ref":"#/$defs/User"}}}}"##,
};

pub static GET_USER_BY_NUMBER: HttpAction = HttpAction {
    meta: meta(
        "Users",
        "GetUserByNumber",
        "Users",
        "Get User By Number",
        ActionKind::Function,
        false,
    ),
    template: RequestTemplate {
        method: Method::Get,
        path: "/Users/Pbx.GetByNumber(number={number})",
        params: &[Param {
            name: "number",
            location: Location::Path,
            literal: Literal::Quoted,
            required: true,
        }],
        response: ResponseKind::Json,
        retry_safe: true,
    },
    input_schema: r#"{"type":"object","additionalProperties":false,"required":["number"],"properties":{"number":{"type":"string"}}}"#,
    output_schema: r##"{"$ref":"#/$defs/User"}"##,
};

/// The models the fixtures use, as a `ModelDefs` text.
pub fn models_text() -> String {
    let date_time =
        json!({"type": ["string", "null"], "format": "date-time", "pattern": DATE_TIME_PATTERN});
    json!({
        "PurgeSettings": {
            "title": "PurgeSettings", "type": "object",
            "properties": {"All": {"type": "boolean"}, "Start": date_time, "Stop": date_time}
        },
        "User": {
            "title": "User", "type": "object",
            "properties": {
                "Id": {"type": "integer"},
                "Number": {"type": ["string", "null"]},
                "Groups": {"type": "array", "items": {"$ref": "#/$defs/UserGroup"}}
            }
        },
        "UserGroup": {"type": "object", "properties": {"GroupId": {"type": "integer"}}},
        "Unused": {"type": "string"}
    })
    .to_string()
}

/// A composed action: counts its invocations and calls nothing over HTTP.
pub struct Counter {
    pub calls: AtomicUsize,
}

pub static COUNTER: Counter = Counter {
    calls: AtomicUsize::new(0),
};

static COUNTER_META: ActionMeta = meta(
    "Tools",
    "Count",
    "Tools",
    "Count",
    ActionKind::Custom,
    false,
);

#[async_trait]
impl Operation for Counter {
    fn meta(&self) -> &ActionMeta {
        &COUNTER_META
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {"by": {"type": "integer", "minimum": 1}}})
    }

    fn output_schema(&self) -> Value {
        json!({"type": "integer"})
    }

    async fn invoke(&self, ctx: &Context<'_>, input: Value) -> Result<Response> {
        // A composed action may look up others through the context.
        ctx.registry.find("Users", "List User")?;
        let by = input.get("by").and_then(Value::as_u64).unwrap_or(1) as usize;
        let total = self.calls.fetch_add(by, Ordering::SeqCst) + by;
        Ok(Response::Json(json!(total)))
    }
}

pub fn operations() -> Vec<&'static dyn Operation> {
    vec![
        &PURGE_CHATS,
        &LIST_USERS,
        &PURGE_CALLS,
        &GET_USER_BY_NUMBER,
        &COUNTER,
    ]
}

pub fn registry() -> Registry {
    let models = models_text();
    Registry::from_operations(operations(), [models.as_str()]).expect("no duplicates")
}

/// A client for a loopback port nothing listens on; tests must not reach it.
pub fn offline_client() -> Client {
    let config = Config::builder()
        .base_url("http://127.0.0.1:9")
        .client_id("test")
        .client_secret("test-secret")
        .build()
        .expect("valid config");
    Client::new(config).expect("client builds")
}
