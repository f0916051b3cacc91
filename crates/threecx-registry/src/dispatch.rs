//! Calling operations: find → validate → invoke, with nothing sent when a name is unknown or the
//! input is invalid. Typed calls (threecx-ops) and by-name calls (CLI, gateways) both end here.

use futures_util::Stream;
use serde_json::{Map, Value};
use threecx_core::{Client, Error, PreparedRequest, Response, ResponseKind, Result};

use crate::operation::Operation;
use crate::{Context, Registry};

impl Registry {
    /// Calls the action `action` of `resource` (names in any spelling) with `input`.
    pub async fn call(
        &self,
        client: &Client,
        resource: &str,
        action: &str,
        input: Value,
    ) -> Result<Response> {
        let op = self.find(resource, action)?;
        self.call_op(client, op, input).await
    }

    /// Like [`Registry::call`], but a destructive action is refused with
    /// [`Error::NotConfirmed`] unless `confirmed` (for the CLI and gateways). The input is
    /// validated first, so a confirmation is never asked for an input that would be refused.
    pub async fn call_confirmed(
        &self,
        client: &Client,
        resource: &str,
        action: &str,
        input: Value,
        confirmed: bool,
    ) -> Result<Response> {
        let op = self.find(resource, action)?;
        self.validate(op, &input)?;
        check_confirmed(op, confirmed)?;
        self.invoke(client, op, input).await
    }

    /// Validates `input` and runs `op`.
    pub async fn call_op(
        &self,
        client: &Client,
        op: &'static dyn Operation,
        input: Value,
    ) -> Result<Response> {
        self.validate(op, &input)?;
        self.invoke(client, op, input).await
    }

    async fn invoke(
        &self,
        client: &Client,
        op: &'static dyn Operation,
        input: Value,
    ) -> Result<Response> {
        let ctx = Context {
            client,
            registry: self,
        };
        op.invoke(&ctx, input).await
    }

    /// The request `op` would send for `input`, validated and built without any I/O (dry runs).
    pub fn prepare(&self, op: &dyn Operation, input: &Value) -> Result<PreparedRequest> {
        self.validate(op, input)?;
        let template = op.template().ok_or_else(|| Error::Config {
            field: "template",
            message: format!(
                "{} is composed in Rust from other calls, not one HTTP request, so there is no \
                 single request to show",
                display(op)
            ),
        })?;
        template.build(as_object(input)?)
    }

    /// Streams every item of a collection action (`$top`/`$skip` pages of `page_size`, or the
    /// server's next links), after validating `input`. Only for actions whose answer is an OData
    /// collection.
    pub fn paginate(
        &self,
        client: &Client,
        op: &'static dyn Operation,
        input: Value,
        page_size: u32,
    ) -> Result<impl Stream<Item = Result<Value>> + Send + 'static> {
        self.paginate_as::<Value>(client, op, input, page_size)
    }

    /// [`Registry::paginate`] with each item decoded into `T` (e.g. the generated model of the
    /// collection) straight from the page's bytes.
    pub fn paginate_as<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        client: &Client,
        op: &'static dyn Operation,
        input: Value,
        page_size: u32,
    ) -> Result<impl Stream<Item = Result<T>> + Send + 'static> {
        self.validate(op, &input)?;
        let template = op
            .template()
            .filter(|t| t.response == ResponseKind::Collection)
            .ok_or_else(|| {
                Error::invalid(
                    "",
                    format!(
                        "an action that returns a list to page through; {} does not, call it \
                         instead",
                        display(op)
                    ),
                )
            })?;
        let Value::Object(input) = input else {
            return Err(not_an_object());
        };
        Ok(client.paginate_as::<T>(template, input, page_size))
    }
}

/// [`Error::NotConfirmed`] for a destructive `op` that was not confirmed.
pub fn check_confirmed(op: &dyn Operation, confirmed: bool) -> Result<()> {
    if op.meta().destructive && !confirmed {
        return Err(Error::NotConfirmed {
            action: display(op),
        });
    }
    Ok(())
}

/// `Purge Settings / Purge Chats`.
fn display(op: &dyn Operation) -> String {
    let meta = op.meta();
    format!("{} / {}", meta.resource_display, meta.action_display)
}

fn as_object(input: &Value) -> Result<&Map<String, Value>> {
    input.as_object().ok_or_else(not_an_object)
}

fn not_an_object() -> Error {
    Error::InvalidInput {
        pointer: String::new(),
        expected: "an object with the action's input properties".into(),
        example: Some("{}".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, COUNTER, LIST_USERS, PURGE_CHATS};
    use serde_json::json;

    #[tokio::test]
    async fn call_runs_a_composed_action() {
        let r = testing::registry();
        let client = testing::offline_client();
        let out = r
            .call(&client, "tools", "COUNT", json!({"by": 2}))
            .await
            .unwrap();
        let Response::Json(total) = out else {
            panic!("{out:?}")
        };
        assert!(total.as_u64().unwrap() >= 2);
    }

    #[tokio::test]
    async fn nothing_is_sent_for_unknown_names_or_invalid_input() {
        let r = testing::registry();
        // The client points at a closed loopback port: reaching it would be a Transport error.
        let client = testing::offline_client();
        let e = r
            .call(&client, "Purge Setings", "Purge Chats", json!({}))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::UnknownName {
                    kind: "resource",
                    ..
                }
            ),
            "{e}"
        );
        let e = r
            .call(
                &client,
                "Purge Settings",
                "Purge Chats",
                json!({"period": "x"}),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { ref pointer, .. } if pointer == "/period"),
            "{e}"
        );
        let e = r
            .call(&client, "Tools", "Count", json!({"by": 0}))
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { ref pointer, .. } if pointer == "/by"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn destructive_actions_need_confirmation() {
        let r = testing::registry();
        let client = testing::offline_client();
        let e = r
            .call_confirmed(&client, "Purge Settings", "Purge Chats", json!({}), false)
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Purge Settings / Purge Chats is destructive and was not confirmed; nothing was sent"
        );
        // Invalid input is reported before asking for confirmation.
        let e = r
            .call_confirmed(
                &client,
                "Purge Settings",
                "Purge Chats",
                json!({"x": 1}),
                false,
            )
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        // Non-destructive actions need none.
        r.call_confirmed(&client, "Tools", "Count", json!({}), false)
            .await
            .unwrap();
        assert!(check_confirmed(&PURGE_CHATS, true).is_ok());
    }

    #[test]
    fn prepare_builds_without_io() {
        let r = testing::registry();
        let req = r
            .prepare(
                &PURGE_CHATS,
                &json!({"period": {"Start": "2024-01-01T00:00:00Z"}}),
            )
            .unwrap();
        assert_eq!(req.path_and_query, "/PurgeChats");
        assert_eq!(
            req.body.as_deref(),
            Some(br#"{"period":{"Start":"2024-01-01T00:00:00Z"}}"#.as_slice())
        );
        let op = r.find("users", "get user by number").unwrap();
        let req = r.prepare(op, &json!({"number": "O'Brien"})).unwrap();
        assert_eq!(
            req.path_and_query,
            "/Users/Pbx.GetByNumber(number='O''Brien')"
        );
        let e = r.prepare(op, &json!({})).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        let e = r.prepare(&COUNTER, &json!({})).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Config {
                    field: "template",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[tokio::test]
    async fn paginate_only_collections() {
        let r = testing::registry();
        let client = testing::offline_client();
        assert!(r
            .paginate(
                &client,
                &LIST_USERS,
                json!({"$filter": "Number eq '100'"}),
                50
            )
            .is_ok());
        let e = r
            .paginate(&client, &LIST_USERS, json!({"$top": -1}), 50)
            .err()
            .unwrap();
        assert!(
            matches!(e, Error::InvalidInput { ref pointer, .. } if pointer == "/$top"),
            "{e}"
        );
        let e = r
            .paginate(&client, &PURGE_CHATS, json!({}), 50)
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .contains("Purge Settings / Purge Chats does not"),
            "{e}"
        );
    }
}
