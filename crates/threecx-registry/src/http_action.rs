//! [`HttpAction`] as an [`Operation`]: every generated action is one HTTP request built from its
//! static template.

use async_trait::async_trait;
use serde_json::Value;
use threecx_core::{Error, RequestTemplate, Response, Result};

use crate::operation::{ActionMeta, HttpAction, Operation};
use crate::Context;

#[async_trait]
impl Operation for HttpAction {
    fn meta(&self) -> &ActionMeta {
        &self.meta
    }

    fn input_schema(&self) -> Value {
        // A schema that does not parse accepts nothing: better refuse than send unchecked input.
        parse_schema(self.input_schema, &self.meta, "input", Value::Bool(false))
    }

    fn output_schema(&self) -> Value {
        parse_schema(self.output_schema, &self.meta, "output", Value::Bool(true))
    }

    fn template(&self) -> Option<&RequestTemplate> {
        Some(&self.template)
    }

    async fn invoke(&self, ctx: &Context<'_>, input: Value) -> Result<Response> {
        let Value::Object(input) = input else {
            return Err(Error::invalid("", "an object"));
        };
        let request = self.template.build(&input)?;
        ctx.client.execute(&request).await
    }
}

/// Parses schema text that codegen wrote; a broken text is logged and replaced by `fallback`
/// rather than panicking in a library.
fn parse_schema(text: &str, meta: &ActionMeta, which: &str, fallback: Value) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| {
        tracing::error!(
            resource = meta.resource,
            action = meta.action,
            "the {which} schema of this action is not valid JSON ({e}); this is a bug in the \
             generated code"
        );
        fallback
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::PURGE_CHATS;
    use serde_json::json;

    #[test]
    fn schemas_parse() {
        assert_eq!(PURGE_CHATS.input_schema()["additionalProperties"], false);
        assert_eq!(PURGE_CHATS.output_schema(), json!({"type": "null"}));
        assert_eq!(PURGE_CHATS.template().unwrap().path, "/PurgeChats");
        assert_eq!(PURGE_CHATS.meta().action_display, "Purge Chats");
    }

    #[test]
    fn broken_schema_text_does_not_panic() {
        let meta = PURGE_CHATS.meta;
        assert_eq!(
            parse_schema("{nope", &meta, "input", Value::Bool(false)),
            Value::Bool(false)
        );
    }
}
