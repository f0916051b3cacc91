//! Rebuilding an action's by-name input from a request: query options, headers and the JSON
//! body are added to the path parameters the route matched.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use threecx_core::Location;
use threecx_registry::Operation;

use super::{ApiRequest, App, Reply};
use crate::form::query_pairs;
use crate::routes::Matched;

impl App {
    /// The action's by-name input from the matched path parameters and the rest of `req`,
    /// validated against the action's schema.
    pub(super) fn validated_input(
        &self,
        matched: Matched,
        req: &ApiRequest<'_>,
    ) -> Result<Map<String, Value>, Reply> {
        let op = matched.op;
        if !req.body.iter().all(u8::is_ascii_whitespace) && !is_json((req.header)("Content-Type")) {
            return Err(Reply::error(
                415,
                "The request body must be JSON: send it with Content-Type: application/json",
            ));
        }
        let mut input: Map<String, Value> = matched
            .params
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        self.gather_input(op, req, &mut input)?;
        let input = Value::Object(input);
        if let Err(e) = self.registry.validate(op, &input) {
            return Err(Reply::error(400, e.to_string()));
        }
        let Value::Object(input) = input else {
            unreachable!("built as an object")
        };
        Ok(input)
    }

    /// Adds the query options, headers and body of `req` to the path parameters in `input`.
    fn gather_input(
        &self,
        op: &'static dyn Operation,
        req: &ApiRequest<'_>,
        input: &mut Map<String, Value>,
    ) -> Result<(), Reply> {
        let template = op.template().expect("routes only hold templates");
        let query: BTreeMap<String, String> =
            query_pairs(req.query.unwrap_or("")).into_iter().collect();
        let mut wants_body = false;
        for p in template.params {
            match p.location {
                Location::Path => {}
                Location::Query => {
                    if let Some(text) = query.get(p.name) {
                        input.insert(p.name.to_owned(), query_value(p.name, text));
                    }
                }
                Location::Header => {
                    if let Some(v) = (req.header)(p.name) {
                        input.insert(p.name.to_owned(), Value::String(v));
                    }
                }
                Location::Body | Location::Entity => wants_body = true,
            }
        }
        if !wants_body || req.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let body: Value = serde_json::from_slice(req.body)
            .map_err(|e| Reply::error(400, format!("The request body is not valid JSON: {e}")))?;
        if let Some(p) = template
            .params
            .iter()
            .find(|p| p.location == Location::Entity)
        {
            input.insert(p.name.to_owned(), body);
            return Ok(());
        }
        let Value::Object(fields) = body else {
            return Err(Reply::error(
                400,
                "The request body must be a JSON object of the action's parameters",
            ));
        };
        for (k, v) in fields {
            if !template
                .params
                .iter()
                .any(|p| p.location == Location::Body && p.name == k)
            {
                return Err(Reply::error(
                    400,
                    format!("The parameter '{k}' in the request payload is not a valid parameter for the operation '{}'", op.meta().action),
                ));
            }
            input.insert(k, v);
        }
        Ok(())
    }
}

/// The value of a query option from its text: `$top`/`$skip` numbers, `$count` a boolean.
fn query_value(name: &str, text: &str) -> Value {
    match name {
        "$top" | "$skip" => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.to_owned())),
        "$count" => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_owned()),
        },
        _ => Value::String(text.to_owned()),
    }
}

/// Whether a Content-Type is JSON (`application/json`, `...+json`, any parameters); a body
/// without one is taken as JSON, as 3CX's clients always send it.
fn is_json(content_type: Option<String>) -> bool {
    content_type.is_none_or(|ct| {
        let media = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        media == "application/json"
            || (media.starts_with("application/") && media.ends_with("+json"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_strings() {
        assert_eq!(
            query_pairs("$filter=Number%20eq%20'100'&$top=5&$select=Id,Number&x"),
            vec![
                ("$filter".to_owned(), "Number eq '100'".to_owned()),
                ("$top".to_owned(), "5".to_owned()),
                ("$select".to_owned(), "Id,Number".to_owned()),
                ("x".to_owned(), String::new()),
            ]
        );
        assert_eq!(query_pairs("a=b+c")[0].1, "b c");
        assert_eq!(query_value("$top", "5"), json!(5));
        assert_eq!(query_value("$top", "x"), json!("x"));
        assert_eq!(query_value("$count", "true"), json!(true));
    }
}
