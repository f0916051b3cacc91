//! Every other action: an answer generated from its output schema, seeded by the sandbox seed
//! and the action, so the same request gets the same answer.

use serde_json::Value;
use threecx_core::ResponseKind;
use threecx_registry::ActionKind;

use super::{App, Call, Reply};
use crate::gen;
use crate::odata::query::{collection, QueryOptions};
use crate::reply::download;

impl App {
    pub(super) fn generic(&self, call: &Call<'_>) -> Reply {
        let template = call.op.template().expect("routes only hold templates");
        let schema = self.registry.output_schema(call.op);
        let seed = self.seed_of(call.op);
        let status = if call.op.meta().kind == ActionKind::Create {
            201
        } else {
            200
        };
        match template.response {
            ResponseKind::Empty => Reply::empty(204),
            ResponseKind::Json => Reply::json(status, gen::value(&schema, &schema, seed)),
            ResponseKind::Collection => {
                let q = match QueryOptions::from_input(call.input, None) {
                    Ok(q) => q,
                    Err(e) => return Reply::error(400, e),
                };
                let items: Vec<Value> = match gen::collection_item(&schema, &schema) {
                    Some(item) => (0..2u64)
                        .map(|k| gen::value(item, &schema, seed ^ k))
                        .collect(),
                    None => Vec::new(),
                };
                let page = q.apply(&items);
                Reply::json(
                    200,
                    collection(page.items, q.count.then_some(page.matched), None),
                )
            }
            ResponseKind::Download => {
                let name = call.op.meta().action.to_ascii_lowercase();
                if ["csv", "report", "export", "log", "history", "statistic"]
                    .iter()
                    .any(|w| name.contains(w))
                {
                    let body = format!("Sandbox,Action\r\nthreecx,{}\r\n", call.op.meta().action);
                    download(call.op, "text/csv; charset=utf-8", "csv", body.into_bytes())
                } else {
                    download(
                        call.op,
                        "application/octet-stream",
                        "bin",
                        b"threecx sandbox file\n".to_vec(),
                    )
                }
            }
        }
    }
}
