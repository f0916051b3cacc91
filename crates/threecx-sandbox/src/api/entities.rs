//! The entity store: list, get (by key or alternate key), create, update and delete rows of an
//! entity set, navigation properties (`/Users({Id})/Groups`), and singletons (`/AISettings`).

use serde_json::{json, Map, Value};

use super::{lock, App, Call, Reply, API_ROOT};
use crate::entity_sets::SetDef;
use crate::gen;
use crate::odata::query::{collection, QueryOptions};
use crate::rules;
use crate::store::{Data, Table};

impl App {
    fn options(&self, call: &Call<'_>, def: Option<&SetDef>) -> Result<QueryOptions, Reply> {
        let q = QueryOptions::from_input(call.input, def.map(|d| &d.properties));
        match def {
            Some(def) => q.and_then(|q| q.navigation(call.input, &def.navigation)),
            None => q,
        }
        .map_err(|e| Reply::error(400, e))
    }

    pub(super) fn list_rows(&self, call: &Call<'_>, def: &SetDef) -> Reply {
        let q = match self.options(call, Some(def)) {
            Ok(q) => q,
            Err(r) => return r,
        };
        let data = lock(&self.data);
        let rows = data
            .tables
            .get(&def.name)
            .map(|t| t.rows.as_slice())
            .unwrap_or(&[]);
        let page = if def.name == "Groups" {
            // Members derive from the users; filters may look at them too.
            let derived: Vec<Value> = rows
                .iter()
                .map(|r| self.with_derived(def, &data, r.clone()))
                .collect();
            q.apply(&derived)
        } else {
            q.apply(rows)
        };
        Reply::json(
            200,
            collection(page.items, q.count.then_some(page.matched), None),
        )
    }

    pub(super) fn navigation(
        &self,
        call: &Call<'_>,
        def: &SetDef,
        param: &str,
        nav: &str,
    ) -> Reply {
        let q = match self.options(call, None) {
            Ok(q) => q,
            Err(r) => return r,
        };
        let key = call.input.get(param).cloned().unwrap_or(Value::Null);
        let data = lock(&self.data);
        let prop = def.key.as_ref().map_or(param, |(k, _)| k.as_str());
        let Some(parent) = data
            .tables
            .get(&def.name)
            .and_then(|t| t.position(prop, &key).map(|i| t.rows[i].clone()))
        else {
            return not_found(&def.name, prop, &key);
        };
        let parent = self.with_derived(def, &data, parent);
        let items: &[Value] = match parent.get(nav) {
            Some(Value::Array(items)) => items,
            _ => &[],
        };
        let page = q.apply(items);
        Reply::json(
            200,
            collection(page.items, q.count.then_some(page.matched), None),
        )
    }

    pub(super) fn get_row(
        &self,
        call: &Call<'_>,
        def: &SetDef,
        param: &str,
        alternate: Option<&str>,
    ) -> Reply {
        let q = match self.options(call, Some(def)) {
            Ok(q) => q,
            Err(r) => return r,
        };
        let key = call.input.get(param).cloned().unwrap_or(Value::Null);
        let prop = match alternate {
            Some(p) => p,
            None => def.key.as_ref().map_or(param, |(k, _)| k.as_str()),
        };
        let data = lock(&self.data);
        match data
            .tables
            .get(&def.name)
            .and_then(|t| t.position(prop, &key).map(|i| t.rows[i].clone()))
        {
            Some(row) => Reply::json(200, self.present(def, &data, row, &q)),
            None => not_found(&def.name, prop, &key),
        }
    }

    pub(super) fn create_row(&self, call: &Call<'_>, def: &SetDef) -> Reply {
        let Some(Value::Object(body)) = call.input.get("body") else {
            return Reply::error(400, "The request body must be the entity as a JSON object");
        };
        if let Err(r) = self.check_body(def, body) {
            return r;
        }
        let mut data = lock(&self.data);
        let mut row = match gen::defaults(&def.schema, &def.schema) {
            Value::Object(o) => o,
            _ => Map::new(),
        };
        for (k, v) in body {
            if stored(def, k) {
                row.insert(k.clone(), v.clone());
            }
        }
        if def.dn {
            if !body.contains_key("Number") {
                row.remove("Number");
            }
            if let Err(r) = rules::number_for_new_dn(&mut row, &data, self.catalog) {
                return r;
            }
        }
        if def.name == "Users" {
            if let Err(r) = rules::user_groups(&mut row, &data, true) {
                return r;
            }
        }
        let members = match group_members(def, body, &data) {
            Ok(m) => m,
            Err(r) => return r,
        };
        let table = data.tables.entry(def.name.clone()).or_default();
        if let Err(r) = assign_key(def, table, &mut row) {
            return r;
        }
        let row = Value::Object(row);
        table.rows.push(row.clone());
        if let (Some(numbers), Some(id)) = (members, row.get("Id")) {
            rules::set_members(&mut data, id, &numbers);
        }
        let location = self.location(def, &row);
        let plain = QueryOptions::default()
            .navigation(&Map::new(), &def.navigation)
            .unwrap_or_default();
        let shown = self.present(def, &data, row, &plain);
        let reply = Reply::json(201, shown);
        match location {
            Some(l) => reply.header("Location", l),
            None => reply,
        }
    }

    /// The URL of the new entity `row` (`.../Users(26)`), when its set has a key.
    fn location(&self, def: &SetDef, row: &Value) -> Option<String> {
        def.key
            .as_ref()
            .and_then(|(k, lit)| threecx_core::literal::encode_path_literal(row.get(k)?, *lit).ok())
            .map(|k| format!("{}{API_ROOT}/{}({k})", self.base_url, def.name))
    }

    /// Refuses properties the entity type does not have and flag values it does not know.
    fn check_body(&self, def: &SetDef, body: &Map<String, Value>) -> Result<(), Reply> {
        check_properties(def, body)?;
        rules::check_flags(&Value::Object(body.clone()), &def.schema, &def.schema)
    }

    pub(super) fn update_row(&self, call: &Call<'_>, def: &SetDef, param: &str) -> Reply {
        let key = call.input.get(param).cloned().unwrap_or(Value::Null);
        let prop = def
            .key
            .as_ref()
            .map_or(param, |(k, _)| k.as_str())
            .to_owned();
        let body = match call.input.get("body") {
            Some(Value::Object(b)) => b.clone(),
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Reply::error(400, "The request body must be a JSON object"),
        };
        if let Err(r) = self.check_body(def, &body) {
            return r;
        }
        let mut data = lock(&self.data);
        let Some(i) = data
            .tables
            .get(&def.name)
            .and_then(|t| t.position(&prop, &key))
        else {
            return not_found(&def.name, &prop, &key);
        };
        let stored = data.tables[&def.name].rows[i].clone();
        if def.dn {
            if let Err(r) = rules::number_unchanged(&stored, &body) {
                return r;
            }
        }
        let mut updated = match stored {
            Value::Object(row) => row,
            _ => Map::new(),
        };
        for (k, v) in &body {
            if *k != prop
                && !k.starts_with('@')
                && !(def.navigation.contains(k) && def.name != "Users")
            {
                updated.insert(k.clone(), v.clone());
            }
        }
        if def.name == "Users"
            && (body.contains_key("Groups") || body.contains_key("PrimaryGroupId"))
        {
            if let Err(r) = rules::user_groups(&mut updated, &data, false) {
                return r;
            }
        }
        let members = match group_members(def, &body, &data) {
            Ok(m) => m,
            Err(r) => return r,
        };
        let id = updated.get("Id").cloned();
        data.tables.get_mut(&def.name).expect("found above").rows[i] = Value::Object(updated);
        if let (Some(numbers), Some(id)) = (members, id) {
            rules::set_members(&mut data, &id, &numbers);
        }
        Reply::empty(204)
    }

    pub(super) fn delete_row(&self, call: &Call<'_>, def: &SetDef, param: &str) -> Reply {
        let key = call.input.get(param).cloned().unwrap_or(Value::Null);
        let prop = def.key.as_ref().map_or(param, |(k, _)| k.as_str());
        let mut data = lock(&self.data);
        let Some(table) = data.tables.get_mut(&def.name) else {
            return not_found(&def.name, prop, &key);
        };
        match table.position(prop, &key) {
            Some(i) => {
                let row = table.rows.remove(i);
                if def.name == "Groups" {
                    if let Some(id) = row.get("Id") {
                        rules::forget_group(&mut data, id);
                    }
                }
                Reply::empty(204)
            }
            None => not_found(&def.name, prop, &key),
        }
    }

    /// A stored row as the API shows it: a group with its members (derived from its users),
    /// navigation properties only when `$expand`ed, then `$select`.
    fn present(&self, def: &SetDef, data: &Data, row: Value, q: &QueryOptions) -> Value {
        let row = self.with_derived(def, data, row);
        q.project(row)
    }

    /// Adds what is derived rather than stored (a group's `Members`).
    fn with_derived(&self, def: &SetDef, data: &Data, mut row: Value) -> Value {
        if def.name == "Groups" {
            let members = row
                .get("Id")
                .map(|id| rules::members_of(data, id))
                .unwrap_or_default();
            if let Value::Object(o) = &mut row {
                o.insert("Members".to_owned(), Value::Array(members));
            }
        }
        row
    }

    pub(super) fn get_singleton(&self, call: &Call<'_>, name: &str) -> Reply {
        let def = &self.catalog.singletons[name];
        let q = match QueryOptions::from_input(call.input, Some(&def.properties)) {
            Ok(q) => q,
            Err(e) => return Reply::error(400, e),
        };
        let data = lock(&self.data);
        let value = data
            .singletons
            .get(name)
            .cloned()
            .unwrap_or_else(|| json!({}));
        Reply::json(200, q.project(value))
    }

    pub(super) fn update_singleton(&self, call: &Call<'_>, name: &str) -> Reply {
        let def = &self.catalog.singletons[name];
        let body = match call.input.get("body") {
            Some(Value::Object(b)) => b.clone(),
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Reply::error(400, "The request body must be a JSON object"),
        };
        if let Some(k) = body
            .keys()
            .find(|k| !k.starts_with('@') && !def.properties.contains(*k))
        {
            return Reply::error(
                400,
                format!("The property '{k}' does not exist on type 'Pbx.{name}'"),
            );
        }
        let mut data = lock(&self.data);
        let entry = data
            .singletons
            .entry(name.to_owned())
            .or_insert_with(|| json!({}));
        if let Value::Object(o) = entry {
            for (k, v) in body {
                o.insert(k, v);
            }
        }
        Reply::empty(204)
    }
}

fn not_found(set: &str, prop: &str, key: &Value) -> Reply {
    Reply::error(404, format!("No {set} entity with {prop} {key} was found"))
}

/// Refuses properties the entity type does not have, as OData does for closed types.
fn check_properties(def: &SetDef, body: &Map<String, Value>) -> Result<(), Reply> {
    match body
        .keys()
        .find(|k| !k.starts_with('@') && !def.properties.contains(*k))
    {
        Some(k) => Err(Reply::error(
            400,
            format!(
                "The property '{k}' does not exist on type 'Pbx.{}'",
                def.name
            ),
        )),
        None => Ok(()),
    }
}

/// The members a group's create or update body names (users by number), checked to exist.
fn group_members(
    def: &SetDef,
    body: &Map<String, Value>,
    data: &Data,
) -> Result<Option<Vec<String>>, Reply> {
    match body.get("Members").filter(|_| def.name == "Groups") {
        Some(m) => rules::member_numbers(data, m).map(Some),
        None => Ok(None),
    }
}

/// Whether body property `k` is kept in the row: annotations and navigation properties are not
/// (a group's members live in its users), except a user's `Groups`, where membership is kept.
fn stored(def: &SetDef, k: &str) -> bool {
    !k.starts_with('@') && (def.name == "Users" || !def.navigation.contains(k))
}

/// Gives a new row of `table` its key: the next id for integer keys (the server assigns them),
/// else the key the client sent, which must be given and not taken.
fn assign_key(def: &SetDef, table: &mut Table, row: &mut Map<String, Value>) -> Result<(), Reply> {
    match &def.key {
        Some((key, _)) if def.integer_key() => {
            row.insert(key.clone(), Value::from(table.next_id.max(1)));
        }
        Some((key, _)) => {
            let value = row.get(key).cloned().unwrap_or(Value::Null);
            if value.is_null() || value == json!("") {
                return Err(rules::refuse(key, rules::Warning::Required));
            }
            if table.position(key, &value).is_some() {
                return Err(rules::refuse(key, rules::Warning::Duplicate));
            }
        }
        None => {}
    }
    if def.integer_key() {
        table.next_id = table.next_id.max(1) + 1;
    }
    Ok(())
}
