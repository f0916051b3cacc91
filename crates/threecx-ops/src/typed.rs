//! Typed calls: thin wrappers that serialise an action struct to the by-name input object and
//! then take exactly the by-name path: one [`PreparedCall`](threecx_registry::PreparedCall)
//! (validate → build), then send.

use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use threecx_core::{Client, Error, FromResponse, PreparedRequest, Result};
use threecx_registry::HttpAction;

/// A generated action struct: its fields are the action's input, by the same names.
pub trait TypedAction: Serialize {
    /// The registered descriptor of this action.
    const ACTION: &'static HttpAction;
    /// What a successful call returns: a model, `Collection<Model>`, `()` for no content,
    /// `Download` for files, or `serde_json::Value` for ad-hoc shapes.
    type Output: FromResponse;
}

/// An action that returns an OData collection and can be paged through.
pub trait TypedList: TypedAction {
    type Item: DeserializeOwned + Send + 'static;
}

fn to_input<A: TypedAction>(action: &A) -> Result<Value> {
    serde_json::to_value(action)
        .map_err(|e| Error::invalid("", format!("a serialisable input ({e})")))
}

/// Sends `action` and decodes its answer.
pub async fn call<A: TypedAction>(client: &Client, action: &A) -> Result<A::Output> {
    // A typed call names its action in code: that is the caller's confirmation.
    let call = crate::registry().prepare(A::ACTION, to_input(action)?)?;
    let response = call.confirm(true).send(client).await?;
    A::Output::from_response(response, A::ACTION.meta.action)
}

/// Builds the request `action` would send, without sending it.
pub fn prepare<A: TypedAction>(action: &A) -> Result<PreparedRequest> {
    crate::registry()
        .prepare(A::ACTION, to_input(action)?)?
        .into_request()
}

/// Streams every item of a collection action, one page in memory at a time.
pub fn paginate<A: TypedList>(
    client: &Client,
    action: &A,
    page_size: u32,
) -> Result<impl Stream<Item = Result<A::Item>> + Send + 'static> {
    crate::registry()
        .prepare(A::ACTION, to_input(action)?)?
        .pages::<A::Item>(client, page_size)
}
