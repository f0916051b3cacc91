//! An action defined outside the registry crate, as an extension crate would: its input type
//! derives `schemars::JsonSchema`, it registers itself with `inventory::submit!`, and it is found,
//! described, validated and called exactly like a generated action.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use threecx_core::{Client, Config, Error, Response, Result};
use threecx_registry::{
    async_trait, global, ActionKind, ActionMeta, Context, DuplicateError, ModelDefs, Operation,
    Registration, Registry,
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct GreetInput {
    /// Who to greet.
    name: String,
    #[serde(default)]
    times: Option<u8>,
    #[serde(default)]
    style: Option<Style>,
}

#[derive(Debug, Deserialize, JsonSchema)]
enum Style {
    Plain,
    Shout,
}

/// A composed action: no HTTP of its own.
struct Greet;

static GREET_META: ActionMeta = ActionMeta {
    resource: "Greetings",
    action: "SayHello",
    resource_display: "Greetings",
    action_display: "Say Hello",
    description: "Says hello (extension example).",
    kind: ActionKind::Custom,
    destructive: false,
    idempotent: true,
};

#[async_trait]
impl Operation for Greet {
    fn meta(&self) -> &ActionMeta {
        &GREET_META
    }

    fn input_schema(&self) -> Value {
        serde_json::to_value(schemars::schema_for!(GreetInput)).expect("schemas serialise")
    }

    fn output_schema(&self) -> Value {
        // Refers to a model registered below with ModelDefs.
        json!({"$ref": "#/$defs/Greeting"})
    }

    async fn invoke(&self, _ctx: &Context<'_>, input: Value) -> Result<Response> {
        let input: GreetInput = serde_json::from_value(input).map_err(|e| Error::Decode {
            what: "Greetings/SayHello input".into(),
            message: e.to_string(),
        })?;
        let mut text = format!("Hello, {}!", input.name).repeat(input.times.unwrap_or(1).into());
        if matches!(input.style, Some(Style::Shout)) {
            text = text.to_uppercase();
        }
        Ok(Response::Json(json!({"text": text})))
    }
}

/// Calls the other extension action through the context.
struct GreetTwice;

static GREET_TWICE_META: ActionMeta = ActionMeta {
    resource: "Greetings",
    action: "SayHelloTwice",
    resource_display: "Greetings",
    action_display: "Say Hello Twice",
    description: "Says hello twice by calling Say Hello.",
    kind: ActionKind::Custom,
    destructive: false,
    idempotent: true,
};

#[async_trait]
impl Operation for GreetTwice {
    fn meta(&self) -> &ActionMeta {
        &GREET_TWICE_META
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}})
    }

    fn output_schema(&self) -> Value {
        json!({"$ref": "#/$defs/Greeting"})
    }

    async fn invoke(&self, ctx: &Context<'_>, input: Value) -> Result<Response> {
        ctx.call(
            "greetings",
            "say-hello",
            json!({"name": input["name"], "times": 2}),
        )
        .await
    }
}

static GREET: Greet = Greet;
static GREET_TWICE: GreetTwice = GreetTwice;

threecx_registry::inventory::submit! { Registration(&GREET) }
threecx_registry::inventory::submit! { Registration(&GREET_TWICE) }
threecx_registry::inventory::submit! {
    ModelDefs(r#"{"Greeting":{"type":"object","properties":{"text":{"type":"string"}}}}"#)
}

/// A client for a loopback port nothing listens on: these actions never use HTTP.
fn offline_client() -> Client {
    let config = Config::builder()
        .base_url("http://127.0.0.1:9")
        .client_id("extension-test")
        .client_secret("not-a-secret")
        .build()
        .unwrap();
    Client::new(config).unwrap()
}

#[test]
fn appears_in_the_global_registry() {
    let registry = global();
    assert_eq!(
        registry.len(),
        2,
        "only this binary's registrations are linked"
    );
    let resource = registry.find_resource("Greetings").unwrap();
    let actions: Vec<_> = resource
        .actions()
        .iter()
        .map(|op| op.meta().action_display)
        .collect();
    assert_eq!(actions, ["Say Hello", "Say Hello Twice"]);
}

#[test]
fn found_by_any_spelling() {
    let registry = global();
    for (resource, action) in [
        ("Greetings", "SayHello"),
        ("greetings", "say hello"),
        ("GREETINGS", "say-hello"),
        ("greetings", "say_hello"),
    ] {
        let op = registry.find(resource, action).unwrap();
        assert_eq!(op.meta().action, "SayHello");
    }
    let e = registry.find("Greetings", "Say Helo").unwrap_err();
    assert!(e.to_string().ends_with("did you mean: Say Hello?"), "{e}");
    let e = registry.find("Greetings", "say hell").unwrap_err();
    assert!(
        e.to_string()
            .ends_with("did you mean: Say Hello, Say Hello Twice?"),
        "{e}"
    );
}

#[test]
fn schemas_are_published_self_contained() {
    let registry = global();
    let op = registry.find("Greetings", "Say Hello").unwrap();
    let input = registry.input_schema(op);
    assert_eq!(input["required"], json!(["name"]));
    // schemars' own `$defs` are kept.
    assert!(input["$defs"]["Style"].is_object(), "{input}");
    // The output refers to a registered model, which is inlined.
    let output = registry.output_schema(op);
    assert_eq!(output["$defs"]["Greeting"]["type"], "object");
    assert_eq!(registry.example_input(op)["name"], "string");
}

#[test]
fn bad_input_is_rejected_with_a_pointer() {
    let registry = global();
    let op = registry.find("greetings", "say hello").unwrap();
    registry
        .validate(op, &json!({"name": "Ada", "times": 3, "style": "Shout"}))
        .unwrap();
    let cases = [
        (json!({"name": "Ada", "times": 300}), "/times"),
        (json!({"name": 5}), "/name"),
        (json!({"name": "Ada", "style": "Whisper"}), "/style"),
        (json!({}), ""),
    ];
    for (input, want) in cases {
        match registry.validate(op, &input) {
            Err(Error::InvalidInput {
                pointer, expected, ..
            }) => {
                assert_eq!(pointer, want, "{input}: {expected}");
            }
            other => panic!("{input}: {other:?}"),
        }
    }
    let e = registry
        .validate(op, &json!({"name": "Ada", "style": "Whisper"}))
        .unwrap_err();
    assert!(e.to_string().contains("\"Plain\", \"Shout\""), "{e}");
}

#[tokio::test]
async fn call_invokes_it() {
    let registry = global();
    let client = offline_client();
    let out = registry
        .call(
            &client,
            "Greetings",
            "Say Hello",
            json!({"name": "Ada", "style": "Shout"}),
        )
        .await
        .unwrap();
    assert_eq!(out, Response::Json(json!({"text": "HELLO, ADA!"})));

    // A composed action calling another through its context.
    let out = registry
        .call(
            &client,
            "greetings",
            "say hello twice",
            json!({"name": "Bo"}),
        )
        .await
        .unwrap();
    assert_eq!(out.to_json(), json!({"text": "Hello, Bo!Hello, Bo!"}));

    // Invalid input never reaches the action.
    let e = registry
        .call(
            &client,
            "Greetings",
            "Say Hello",
            json!({"name": "Ada", "nme": 1}),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");

    // No HTTP request for a composed action: asking for it says so.
    let op = registry.find("Greetings", "Say Hello").unwrap();
    let call = registry.prepare(op, json!({"name": "Ada"})).unwrap();
    assert!(call.request().is_none());
    assert!(matches!(call.into_request(), Err(Error::Config { .. })));
}

#[test]
fn same_normalised_names_are_a_duplicate_error() {
    struct Clash;
    static CLASH_META: ActionMeta = ActionMeta {
        resource: "greetings",
        action: "say_hello",
        ..GREET_META
    };
    #[async_trait]
    impl Operation for Clash {
        fn meta(&self) -> &ActionMeta {
            &CLASH_META
        }
        fn input_schema(&self) -> Value {
            json!(true)
        }
        fn output_schema(&self) -> Value {
            json!(true)
        }
        async fn invoke(&self, _ctx: &Context<'_>, _input: Value) -> Result<Response> {
            Ok(Response::Empty { status: 204 })
        }
    }
    static CLASH: Clash = Clash;

    let e: DuplicateError =
        Registry::from_operations([&GREET as &dyn Operation, &GREET_TWICE, &CLASH], [])
            .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("Greetings/SayHello"), "{text}");
    assert!(text.contains("greetings/say_hello"), "{text}");
    assert_eq!(e.duplicates.len(), 1);

    // Without the clash the same operations form a registry.
    let ok = Registry::from_operations([&GREET as &dyn Operation, &GREET_TWICE], []).unwrap();
    assert_eq!(ok.len(), 2);
}
