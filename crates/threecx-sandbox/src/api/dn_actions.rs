//! Actions on DN entities (users, fax, trunks) with real behaviour: `Users/BatchDelete`,
//! `GetFirstAvailableExtensionNumber` and the `Init*` functions that prepare a new entity.

use serde_json::{json, Value};

use super::{lock, App, Call, Reply};
use crate::gen;
use crate::odata::filter::equal as filter_equal;
use crate::odata::query::collection;
use crate::rules;

impl App {
    pub(super) fn batch_delete(&self, call: &Call<'_>) -> Reply {
        let ids: Vec<Value> = match call.input.get("ids") {
            Some(Value::Array(ids)) => ids.clone(),
            _ => Vec::new(),
        };
        let mut data = lock(&self.data);
        let table = data.tables.entry("Users".to_owned()).or_default();
        let mut errors = Vec::new();
        for id in ids {
            match table.position("Id", &id) {
                Some(i) => {
                    table.rows.remove(i);
                }
                None => errors.push(json!({
                    "Error": format!("There is no user with Id {id}"),
                    "ExtensionNumber": null,
                })),
            }
        }
        Reply::json(200, collection(errors, None, None))
    }

    pub(super) fn first_available(&self) -> Reply {
        let data = lock(&self.data);
        Reply::json(
            200,
            json!({"Number": rules::first_free_number(&data, self.catalog)}),
        )
    }

    /// `Init*` of a DN type: a new entity with defaults and a number no DN uses yet, so that
    /// Init → Create works again and again. `template` names a parameter that must name an
    /// existing template (`InitTrunk(template=...)`).
    pub(super) fn init_dn(&self, call: &Call<'_>, set: &str, template: Option<&str>) -> Reply {
        let data = lock(&self.data);
        if let Some(param) = template {
            let wanted = call.input.get(param).cloned().unwrap_or(Value::Null);
            let known = data.tables.get("TrunkTemplates").is_some_and(|t| {
                t.rows.iter().any(|r| {
                    ["Id", "Name"]
                        .iter()
                        .any(|k| r.get(*k).is_some_and(|v| filter_equal(v, &wanted)))
                })
            });
            if !known {
                return rules::refuse(param, rules::Warning::NotFound);
            }
        }
        let schema = self.registry.output_schema(call.op);
        let mut value = gen::defaults(&schema, &schema);
        if let Value::Object(o) = &mut value {
            let number = rules::first_free_number(&data, self.catalog);
            o.insert("Number".to_owned(), Value::String(number));
            if let Some(def) = self.catalog.sets.get(set) {
                o.retain(|k, _| !def.navigation.contains(k));
            }
            o.insert("Id".to_owned(), Value::from(0));
        }
        Reply::json(200, value)
    }
}
