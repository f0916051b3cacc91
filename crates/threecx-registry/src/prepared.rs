//! A validated call as a value: one action, its checked input and the request it sends, built
//! once without I/O; then confirmed, and sent, paged, downloaded or shown. Typed Rust, the CLI,
//! the gateway and MCP all go through it, so each call is looked up once and validated once.

use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use threecx_core::{
    ApiRoot, Client, DownloadInfo, DownloadStream, Error, PreparedRequest, RequestTemplate,
    Response, ResponseKind, Result,
};
use tokio::io::AsyncWrite;

use crate::operation::{ActionMeta, Operation};
use crate::{Context, Registry};

/// An action with an input that passed its schema, and the request it sends (none for an
/// action composed in Rust of other calls). Destructive actions are refused by every way of
/// sending unless [`PreparedCall::confirm`]ed.
#[derive(Debug)]
pub struct PreparedCall<'r> {
    registry: &'r Registry,
    op: &'static dyn Operation,
    input: Map<String, Value>,
    request: Option<PreparedRequest>,
    confirmed: bool,
}

impl Registry {
    /// Validates `input` for `op` and builds its request, without any I/O. Invalid input is
    /// [`Error::InvalidInput`] naming the field; nothing can be sent from it.
    pub fn prepare(&self, op: &'static dyn Operation, input: Value) -> Result<PreparedCall<'_>> {
        self.action_of(op).prepare(input)
    }

    /// [`Registry::prepare`] of `op` at position `slot` of this registry (see
    /// [`Registry::validate_at`]).
    pub(crate) fn prepare_at(
        &self,
        op: &'static dyn Operation,
        slot: Option<usize>,
        input: Value,
    ) -> Result<PreparedCall<'_>> {
        self.validate_at(op, slot, &input)?;
        let Value::Object(input) = input else {
            return Err(not_an_object());
        };
        let request = op.template().map(|t| t.build(&input)).transpose()?;
        Ok(PreparedCall {
            registry: self,
            op,
            input,
            request,
            confirmed: false,
        })
    }

    /// [`Registry::prepare`] for the action named `action` of `resource` (any spelling); an
    /// unknown name is [`Error::UnknownName`] with the closest names.
    pub fn prepare_named(
        &self,
        resource: &str,
        action: &str,
        input: Value,
    ) -> Result<PreparedCall<'_>> {
        self.action(resource, action)?.prepare(input)
    }

    /// Calls the action `action` of `resource` (names in any spelling) with `input`.
    ///
    /// A Rust caller that names an action in its code has decided to run it, so destructive
    /// actions are sent without a further confirmation here; front ends that take names from
    /// people use [`Registry::prepare`] and [`PreparedCall::confirm`] with their answer.
    pub async fn call(
        &self,
        client: &Client,
        resource: &str,
        action: &str,
        input: Value,
    ) -> Result<Response> {
        let call = self.prepare_named(resource, action, input)?;
        call.confirm(true).send(client).await
    }
}

impl<'r> PreparedCall<'r> {
    /// The action.
    pub fn op(&self) -> &'static dyn Operation {
        self.op
    }

    /// The action's names and flags.
    pub fn meta(&self) -> &'static ActionMeta {
        self.op.meta()
    }

    /// The validated input object.
    pub fn input(&self) -> &Map<String, Value> {
        &self.input
    }

    /// The request [`PreparedCall::send`] puts on the wire (plus the bearer token); `None` for
    /// an action composed of other calls.
    pub fn request(&self) -> Option<&PreparedRequest> {
        self.request.as_ref()
    }

    /// What a successful answer holds; `None` for a composed action.
    pub fn response_kind(&self) -> Option<ResponseKind> {
        self.request.as_ref().map(|r| r.response)
    }

    /// Whether sending it deletes, purges, restarts or restores something.
    pub fn is_destructive(&self) -> bool {
        self.meta().destructive
    }

    /// Records whether the caller confirmed a destructive action (ignored for others).
    pub fn confirm(mut self, confirmed: bool) -> Self {
        self.confirmed = confirmed;
        self
    }

    /// [`Error::NotConfirmed`] when the action is destructive and was not confirmed.
    pub fn check_confirmed(&self) -> Result<()> {
        if self.is_destructive() && !self.confirmed {
            return Err(Error::NotConfirmed {
                action: self.meta().label(),
            });
        }
        Ok(())
    }

    /// Sends the call and returns the PBX's answer (a download held in memory: use
    /// [`PreparedCall::download_to`] for files of any size).
    pub async fn send(self, client: &Client) -> Result<Response> {
        self.check_confirmed()?;
        match &self.request {
            Some(request) => client.execute(request).await,
            None => {
                let ctx = Context {
                    client,
                    registry: self.registry,
                };
                self.op.invoke(&ctx, Value::Object(self.input)).await
            }
        }
    }

    /// Every item of a collection action, decoded into `T` straight from each page's bytes:
    /// `$top`/`$skip` pages of `page_size` items, or the server's next links.
    pub fn pages<T: DeserializeOwned + Send + 'static>(
        self,
        client: &Client,
        page_size: u32,
    ) -> Result<impl Stream<Item = Result<T>> + Send + 'static> {
        self.check_confirmed()?;
        let template = self.collection_template()?;
        Ok(client.paginate_as::<T>(template, self.input, page_size))
    }

    /// Sends the call and returns the file as it arrives, once the PBX has answered with
    /// success (see [`Client::download`]).
    pub async fn download(self, client: &Client) -> Result<DownloadStream> {
        self.check_confirmed()?;
        client.download(self.single_request()?).await
    }

    /// Sends the call and writes the file to `out` as it arrives, in constant memory.
    pub async fn download_to<W: AsyncWrite + Unpin + ?Sized>(
        self,
        client: &Client,
        out: &mut W,
    ) -> Result<DownloadInfo> {
        self.check_confirmed()?;
        client.download_to(self.single_request()?, out).await
    }

    /// The request as an `http::Request` against `root`: the method, URL, headers and body that
    /// [`PreparedCall::send`] puts on the wire, minus the bearer token and the client's
    /// `User-Agent` (dry runs, logs, other HTTP stacks).
    pub fn to_http(&self, root: &ApiRoot) -> Result<http::Request<Vec<u8>>> {
        self.single_request()?.try_to_http(root)
    }

    /// The request, for callers that send or inspect it themselves.
    pub fn into_request(self) -> Result<PreparedRequest> {
        self.single_request()?;
        Ok(self.request.expect("checked above"))
    }

    fn single_request(&self) -> Result<&PreparedRequest> {
        self.request.as_ref().ok_or_else(|| Error::Config {
            field: "template",
            message: format!(
                "{} is composed in Rust from other calls, not one HTTP request, so there is no \
                 single request to show or stream",
                self.meta().label()
            ),
        })
    }

    fn collection_template(&self) -> Result<&'static RequestTemplate> {
        self.op
            .template()
            .filter(|t| t.response == ResponseKind::Collection)
            .ok_or_else(|| {
                Error::invalid(
                    "",
                    format!(
                        "an action that returns a list to page through; {} does not, call it \
                         instead",
                        self.meta().label()
                    ),
                )
            })
    }
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

    #[test]
    fn a_by_name_call_future_fits_the_allocators_fast_path() {
        // Front ends box a call's future (a task, a handler); glibc serves blocks up to about
        // 1 KB from a per-thread cache and larger ones through a slower path that first merges
        // freed blocks (under callgrind, a 1.3 KB future cost every call ~200 instructions
        // more in the allocator). Built, never polled: nothing is sent.
        let r = testing::registry();
        let client = testing::offline_client();
        let call = r.call(
            &client,
            "Users",
            "Get User By Number",
            json!({"number": "100"}),
        );
        let size = std::mem::size_of_val(&call);
        assert!(size <= 1000, "a by-name call's future is {size} bytes");
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
                    kind: threecx_core::NameKind::Resource,
                    ..
                }
            ),
            "{e}"
        );
        let e = r
            .prepare_named("Purge Settings", "Purge Chats", json!({"period": "x"}))
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
        let e = r.prepare(&LIST_USERS, json!([1])).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    }

    #[tokio::test]
    async fn destructive_actions_need_confirmation_whatever_the_way_out() {
        let r = testing::registry();
        let client = testing::offline_client();
        let purge = || r.prepare(&PURGE_CHATS, json!({})).unwrap();
        let refused = |e: Error| {
            assert_eq!(
                e.to_string(),
                "Purge Settings / Purge Chats is destructive and was not confirmed; nothing \
                 was sent"
            )
        };
        refused(purge().send(&client).await.unwrap_err());
        refused(purge().download(&client).await.unwrap_err());
        refused(
            purge()
                .download_to(&client, &mut Vec::new())
                .await
                .unwrap_err(),
        );
        refused(purge().pages::<Value>(&client, 10).err().unwrap());
        assert!(purge().confirm(true).check_confirmed().is_ok());
        // Confirmation is not asked of what is not destructive.
        let count = r.prepare(&COUNTER, json!({})).unwrap();
        assert!(count.check_confirmed().is_ok());
        count.send(&client).await.unwrap();
    }

    #[test]
    fn prepare_builds_the_request_once_without_io() {
        let r = testing::registry();
        let call = r
            .prepare(
                &PURGE_CHATS,
                json!({"period": {"Start": "2024-01-01T00:00:00Z"}}),
            )
            .unwrap();
        assert!(call.is_destructive());
        assert_eq!(call.response_kind(), Some(ResponseKind::Empty));
        let req = call.into_request().unwrap();
        assert_eq!(req.path_and_query, "/PurgeChats");
        assert_eq!(
            req.body.as_deref(),
            Some(br#"{"period":{"Start":"2024-01-01T00:00:00Z"}}"#.as_slice())
        );
        let req = r
            .prepare_named("users", "get user by number", json!({"number": "O'Brien"}))
            .unwrap()
            .into_request()
            .unwrap();
        assert_eq!(
            req.path_and_query,
            "/Users/Pbx.GetByNumber(number='O''Brien')"
        );
        let composed = r.prepare(&COUNTER, json!({})).unwrap();
        assert_eq!(composed.response_kind(), None);
        let e = composed.into_request().unwrap_err();
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
    async fn pages_only_for_collections() {
        let r = testing::registry();
        let client = testing::offline_client();
        let list = r
            .prepare(&LIST_USERS, json!({"$filter": "Number eq '100'"}))
            .unwrap();
        assert!(list.pages::<Value>(&client, 50).is_ok());
        let e = r
            .prepare(&PURGE_CHATS, json!({}))
            .unwrap()
            .confirm(true)
            .pages::<Value>(&client, 50)
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .contains("Purge Settings / Purge Chats does not"),
            "{e}"
        );
    }
}
