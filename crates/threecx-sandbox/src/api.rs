//! Answering `/xapi/v1` requests: find the action, rebuild its by-name input, validate it with
//! the registry, then run the sandbox's behaviour for it (real for the entity store, history,
//! purges and a few functions; schema-generated for the rest).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};
use threecx_core::{Location, ResponseKind};
use threecx_registry::{ActionKind, Operation, Registry};

use crate::auth::Auth;
use crate::config::SandboxConfig;
use crate::entity_sets::{shape, Catalog, SetDef, Shape};
use crate::faults::FaultState;
use crate::gen::{self, hash, hash_str};
use crate::history::{self, RowContext, Timeline};
use crate::odata::filter::equal as filter_equal;
use crate::odata::query::{collection, QueryOptions};
use crate::routes::{RouteError, RouteTable};
use crate::rules;
use crate::store::Data;
use crate::time;
use crate::RequestRecord;

/// An answer before it becomes HTTP.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ReplyBody,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ReplyBody {
    Empty,
    Json(Value),
    Bytes {
        content_type: String,
        bytes: Vec<u8>,
    },
}

impl Reply {
    pub fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Json(value),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Empty,
        }
    }

    /// 3CX's OData error: `{"error":{"code":"","message":"..."}}`.
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(
            status,
            json!({"error": {"code": "", "message": message.into()}}),
        )
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// Everything the server shares between requests.
pub(crate) struct App {
    pub registry: &'static Registry,
    pub routes: &'static RouteTable,
    pub catalog: &'static Catalog,
    pub data: Mutex<Data>,
    pub auth: Mutex<Auth>,
    pub faults: Mutex<FaultState>,
    pub log: Mutex<Vec<RequestRecord>>,
    pub config: SandboxConfig,
    pub base_url: String,
}

/// Locks a mutex; a panic in another request does not make the state unusable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

const API_ROOT: &str = "/xapi/v1";

/// Rows a computed view sorts in memory at most (other orders are streamed).
const MAX_SORTED_ROWS: u64 = 200_000;
/// Rows written into a CSV download at most.
const MAX_CSV_ROWS: u64 = 100_000;

/// One request to the API, as received.
pub(crate) struct ApiRequest<'a> {
    pub method: &'a str,
    /// Path as received (percent-encoded), starting with `/xapi/v1`.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
}

/// `a=1&b=x%20y` → pairs, percent-decoded (`+` is a space, as ASP.NET reads it).
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

impl App {
    /// Answers one API request.
    pub fn api(&self, req: &ApiRequest<'_>) -> Reply {
        let Some(rest) = req.path.strip_prefix(API_ROOT) else {
            return Reply::error(404, format!("No resource at {}", req.path));
        };
        if let Err(refusal) = lock(&self.auth).check(req.authorization) {
            return Reply::error(401, refusal.message()).header(
                "WWW-Authenticate",
                match refusal {
                    crate::auth::Refusal::Missing => "Bearer".to_owned(),
                    _ => format!(
                        "Bearer error=\"invalid_token\", error_description=\"{}\"",
                        refusal.message()
                    ),
                },
            );
        }
        let path = match percent_decode_str(rest).decode_utf8() {
            Ok(p) => p.into_owned(),
            Err(_) => return Reply::error(400, "The request path is not valid UTF-8"),
        };
        if path.is_empty() || path == "/" {
            return self.service_document();
        }
        let matched = match self.routes.resolve(req.method, &path) {
            Ok(m) => m,
            Err(RouteError::NotFound) => {
                return Reply::error(
                    404,
                    format!(
                        "No HTTP resource was found that matches the request URI '{}{}'",
                        self.base_url, req.path
                    ),
                )
            }
            Err(RouteError::MethodNotAllowed) => {
                return Reply::error(
                    405,
                    format!(
                        "The requested resource does not support http method '{}'",
                        req.method
                    ),
                )
            }
            Err(RouteError::BadLiteral { message, .. }) => {
                return Reply::error(
                    404,
                    format!(
                        "No HTTP resource was found that matches the request URI '{}{}': {message}",
                        self.base_url, req.path
                    ),
                )
            }
        };
        let op = matched.op;
        if !req.body.iter().all(u8::is_ascii_whitespace) && !is_json((req.header)("Content-Type")) {
            return Reply::error(
                415,
                "The request body must be JSON: send it with Content-Type: application/json",
            );
        }
        let mut input: Map<String, Value> = matched
            .params
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        if let Err(reply) = self.gather_input(op, req, &mut input) {
            return reply;
        }
        let input = Value::Object(input);
        if let Err(e) = self.registry.validate(op, &input) {
            return Reply::error(400, e.to_string());
        }
        let Value::Object(input) = input else {
            unreachable!("built as an object")
        };
        let call = Call {
            op,
            input: &input,
            raw_path: req.path,
            query: req.query.unwrap_or(""),
        };
        let mut reply = self.dispatch(&call);
        if let (200..=299, ReplyBody::Json(Value::Object(body)), Some(context)) =
            (reply.status, &mut reply.body, self.context(op))
        {
            body.entry("@odata.context")
                .or_insert(Value::String(context));
        }
        reply
    }

    /// `@odata.context` of an entity-set, entity or singleton answer: the metadata URL and what
    /// the answer is (`$metadata#Users`, `$metadata#Users/$entity`, `$metadata#SystemStatus`).
    /// Function and action results go without one (their context names an EDM type the sandbox
    /// does not model).
    fn context(&self, op: &dyn Operation) -> Option<String> {
        let template = op.template().expect("routes only hold templates");
        let what = match (op.meta().kind, shape(template.path)) {
            (
                ActionKind::Get | ActionKind::Create,
                Shape::Keyed(set, _) | Shape::Alternate(set, _),
            ) => {
                format!("{set}/$entity")
            }
            (ActionKind::Create, Shape::Set(set)) => format!("{set}/$entity"),
            (ActionKind::List, Shape::Navigation(set, _, nav)) => format!("{set}/{nav}"),
            (ActionKind::List | ActionKind::Get, Shape::Set(set)) => set.to_owned(),
            _ => return None,
        };
        Some(format!("{}{API_ROOT}/$metadata#{what}", self.base_url))
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

    fn service_document(&self) -> Reply {
        let sets: Vec<Value> = self
            .catalog
            .sets
            .keys()
            .map(String::as_str)
            .chain(crate::entity_sets::VIRTUAL_SETS.iter().copied())
            .map(|n| json!({"name": n, "kind": "EntitySet", "url": n}))
            .collect();
        Reply::json(
            200,
            json!({
                "@odata.context": format!("{}{API_ROOT}/$metadata", self.base_url),
                "value": sets
            }),
        )
    }

    fn seed_of(&self, op: &dyn Operation) -> u64 {
        hash(&[
            self.config.seed,
            hash_str(op.meta().resource),
            hash_str(op.meta().action),
        ])
    }

    fn dispatch(&self, call: &Call<'_>) -> Reply {
        let meta = call.op.meta();
        let special = match (meta.resource, meta.action) {
            ("PurgeSettings", "PurgeChats") => Some(self.purge(call, Which::Chats)),
            ("PurgeSettings", "PurgeCalls") => Some(self.purge(call, Which::Calls)),
            ("Users", "BatchDelete") => Some(self.batch_delete(call)),
            ("Users", "GetFirstAvailableExtensionNumber") => Some(self.first_available()),
            ("SystemStatus", "GetSystemStatus") => Some(self.system_status(call)),
            ("LicenseStatus", "GetLicenseStatus") => Some(self.license_status(call)),
            ("Defs", "GetSystemParameters") => Some(self.system_parameters(call)),
            ("Fax", "InitFax") => Some(self.init_dn(call, "Fax", None)),
            ("Trunks", "InitTrunk") => Some(self.init_dn(call, "Trunks", Some("template"))),
            ("Trunks", "InitMasterBridge" | "InitSlaveBridge") => {
                Some(self.init_dn(call, "Trunks", None))
            }
            ("ReportCallLogData", "GetCallLogData") => Some(self.call_log(call)),
            ("CallHistoryView", "ListCallHistoryView") => Some(self.history_list(
                call,
                Which::Calls,
                history::call_history_row,
                "SegmentStartTime",
                "SegmentId",
                None,
                None,
            )),
            ("ChatHistoryView", "ListChatHistoryView") => Some(self.history_list(
                call,
                Which::Chats,
                history::chat_history_row,
                "TimeSent",
                "ConversationId",
                None,
                None,
            )),
            ("ChatMessagesHistoryView", "ListChatMessagesHistoryView") => Some(self.history_list(
                call,
                Which::Chats,
                history::chat_message_row,
                "TimeSent",
                "MessageId",
                None,
                None,
            )),
            ("ReportCallLogData", "DownloadCallLog")
            | ("CallHistoryView", "DownloadCallHistory") => {
                Some(self.history_csv(call, Which::Calls))
            }
            ("ChatHistoryView", "DownloadChatHistory")
            | ("ChatMessagesHistoryView", "DownloadChatMessagesHistory") => {
                Some(self.history_csv(call, Which::Chats))
            }
            _ => None,
        };
        if let Some(reply) = special {
            return reply;
        }
        let template = call.op.template().expect("routes only hold templates");
        match (meta.kind, shape(template.path)) {
            (ActionKind::List, Shape::Set(set)) if self.catalog.sets.contains_key(set) => {
                self.list_rows(call, &self.catalog.sets[set])
            }
            (ActionKind::List, Shape::Navigation(set, param, nav))
                if self.catalog.sets.contains_key(set) =>
            {
                self.navigation(call, &self.catalog.sets[set], param, nav)
            }
            (ActionKind::Get, Shape::Keyed(set, param)) if self.catalog.sets.contains_key(set) => {
                self.get_row(call, &self.catalog.sets[set], param, None)
            }
            (ActionKind::Get, Shape::Alternate(set, prop))
                if self.catalog.sets.contains_key(set) =>
            {
                self.get_row(call, &self.catalog.sets[set], prop, Some(prop))
            }
            (ActionKind::Create, Shape::Set(set)) if self.catalog.sets.contains_key(set) => {
                self.create_row(call, &self.catalog.sets[set])
            }
            (ActionKind::Update, Shape::Keyed(set, param))
                if self.catalog.sets.contains_key(set) =>
            {
                self.update_row(call, &self.catalog.sets[set], param)
            }
            (ActionKind::Delete, Shape::Keyed(set, param))
                if self.catalog.sets.contains_key(set) =>
            {
                self.delete_row(call, &self.catalog.sets[set], param)
            }
            (ActionKind::Get, Shape::Set(name)) if self.catalog.singletons.contains_key(name) => {
                self.get_singleton(call, name)
            }
            (ActionKind::Update, Shape::Set(name))
                if self.catalog.singletons.contains_key(name) =>
            {
                self.update_singleton(call, name)
            }
            _ => self.generic(call),
        }
    }

    // ----- the entity store -----

    fn options(&self, call: &Call<'_>, def: Option<&SetDef>) -> Result<QueryOptions, Reply> {
        let q = QueryOptions::from_input(call.input, def.map(|d| &d.properties));
        match def {
            Some(def) => q.and_then(|q| q.navigation(call.input, &def.navigation)),
            None => q,
        }
        .map_err(|e| Reply::error(400, e))
    }

    fn list_rows(&self, call: &Call<'_>, def: &SetDef) -> Reply {
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

    fn navigation(&self, call: &Call<'_>, def: &SetDef, param: &str, nav: &str) -> Reply {
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

    fn get_row(
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

    fn create_row(&self, call: &Call<'_>, def: &SetDef) -> Reply {
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
        match &def.key {
            Some((key, _)) if def.integer_key() => {
                row.insert(key.clone(), Value::from(table.next_id.max(1)));
            }
            Some((key, _)) => {
                let value = row.get(key).cloned().unwrap_or(Value::Null);
                if value.is_null() || value == json!("") {
                    return rules::refuse(key, rules::Warning::Required);
                }
                if table.position(key, &value).is_some() {
                    return rules::refuse(key, rules::Warning::Duplicate);
                }
            }
            None => {}
        }
        if def.integer_key() {
            table.next_id = table.next_id.max(1) + 1;
        }
        let row = Value::Object(row);
        table.rows.push(row.clone());
        if let (Some(numbers), Some(id)) = (members, row.get("Id")) {
            rules::set_members(&mut data, id, &numbers);
        }
        let location = def
            .key
            .as_ref()
            .and_then(|(k, lit)| threecx_core::literal::encode_path_literal(row.get(k)?, *lit).ok())
            .map(|k| format!("{}{API_ROOT}/{}({k})", self.base_url, def.name));
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

    /// Refuses properties the entity type does not have and flag values it does not know.
    fn check_body(&self, def: &SetDef, body: &Map<String, Value>) -> Result<(), Reply> {
        check_properties(def, body)?;
        rules::check_flags(&Value::Object(body.clone()), &def.schema, &def.schema)
    }

    fn update_row(&self, call: &Call<'_>, def: &SetDef, param: &str) -> Reply {
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

    fn delete_row(&self, call: &Call<'_>, def: &SetDef, param: &str) -> Reply {
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

    fn get_singleton(&self, call: &Call<'_>, name: &str) -> Reply {
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

    fn update_singleton(&self, call: &Call<'_>, name: &str) -> Reply {
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

    // ----- actions with real behaviour -----

    fn purge(&self, call: &Call<'_>, which: Which) -> Reply {
        let Some(Value::Object(period)) = call.input.get("period") else {
            return Reply::error(400, "The parameter 'period' is required: {\"All\": true} or {\"Start\": ..., \"Stop\": ...}");
        };
        let mut data = lock(&self.data);
        let timeline = which.timeline_mut(&mut data);
        if period.get("All") == Some(&Value::Bool(true)) {
            timeline.purge(None, None);
            return Reply::empty(204);
        }
        let bound = |k: &str| -> Result<Option<i64>, Reply> {
            match period.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => time::parse(s).map(Some).ok_or_else(|| {
                    Reply::error(400, format!("period.{k} is not a date-time: {s}"))
                }),
                Some(other) => Err(Reply::error(
                    400,
                    format!("period.{k} is not a date-time: {other}"),
                )),
            }
        };
        let (start, stop) = match (bound("Start"), bound("Stop")) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        if start.is_none() && stop.is_none() {
            return Reply::error(
                400,
                "period needs \"All\": true, or a \"Start\" and/or \"Stop\"",
            );
        }
        if let (Some(a), Some(b)) = (start, stop) {
            if a > b {
                return Reply::error(400, "period.Start is after period.Stop");
            }
        }
        timeline.purge(start, stop);
        Reply::empty(204)
    }

    fn batch_delete(&self, call: &Call<'_>) -> Reply {
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

    fn first_available(&self) -> Reply {
        let data = lock(&self.data);
        Reply::json(
            200,
            json!({"Number": rules::first_free_number(&data, self.catalog)}),
        )
    }

    /// The licence facts every answer that carries them agrees on (SystemStatus, LicenseStatus,
    /// GetSystemParameters): the emulated version, one edition, one key.
    fn license_facts(&self) -> Value {
        json!({
            "Version": self.config.emulate_version,
            "Activated": true,
            "LicenseActive": true,
            "ProductCode": LICENSE_PRODUCT_CODE,
            "LicenseKey": "SANDBOX-0000-0000-0000",
            "ResellerName": "threecx sandbox",
            "CompanyName": "threecx sandbox",
            "ExpirationDate": "2099-12-31T00:00:00Z",
            "MaintenanceExpiresAt": "2099-12-31T00:00:00Z",
            "MaxSimCalls": 16,
            "Support": true,
            "IsEnterprise": true,
            "IsProfessional": false,
            "IsMaintainceExpired": false,
        })
    }

    fn license_status(&self, call: &Call<'_>) -> Reply {
        let def = &self.catalog.singletons["LicenseStatus"];
        let q = match QueryOptions::from_input(call.input, Some(&def.properties)) {
            Ok(q) => q,
            Err(e) => return Reply::error(400, e),
        };
        let data = lock(&self.data);
        let mut value = data
            .singletons
            .get("LicenseStatus")
            .cloned()
            .unwrap_or_else(|| json!({}));
        overlay(&mut value, &self.license_facts(), &def.properties);
        Reply::json(200, q.project(value))
    }

    fn system_parameters(&self, call: &Call<'_>) -> Reply {
        let schema = self.registry.output_schema(call.op);
        let mut value = gen::value(&schema, &schema, self.seed_of(call.op));
        let facts = self.license_facts();
        let names = gen::property_names(&schema, &schema);
        overlay(
            &mut value,
            &json!({"Version": facts["Version"], "FQDN": "sandbox.localhost"}),
            &names,
        );
        if let Some(license) = value.get_mut("License").filter(|l| l.is_object()) {
            let license_names: std::collections::BTreeSet<String> = license
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            overlay(license, &facts, &license_names);
        }
        Reply::json(200, value)
    }

    /// `Init*` of a DN type: a new entity with defaults and a number no DN uses yet, so that
    /// Init → Create works again and again. `template` names a parameter that must name an
    /// existing template (`InitTrunk(template=...)`).
    fn init_dn(&self, call: &Call<'_>, set: &str, template: Option<&str>) -> Reply {
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

    fn system_status(&self, call: &Call<'_>) -> Reply {
        let def = self.catalog.singletons.get("SystemStatus");
        let q = match QueryOptions::from_input(call.input, def.map(|d| &d.properties)) {
            Ok(q) => q,
            Err(e) => return Reply::error(400, e),
        };
        let data = lock(&self.data);
        let mut status = match data.singletons.get("SystemStatus") {
            Some(Value::Object(o)) => o.clone(),
            _ => Map::new(),
        };
        let users = data.rows("Users") as i64;
        let trunks = data.rows("Trunks") as i64;
        let mut facts = json!({
            "FQDN": "sandbox.localhost",
            "Ip": "127.0.0.1",
            "IpV4": "127.0.0.1",
            "CurrentLocalIp": "127.0.0.1",
            "AvailableLocalIps": "127.0.0.1",
            "LocalIpValid": true,
            "UserExtensions": users,
            "MaxUserExtensions": users.max(10) * 2,
            "ExtensionsTotal": users + data.rows("Queues") as i64 + data.rows("RingGroups") as i64,
            "ExtensionsRegistered": data.tables.get("Users").map_or(0, |t| t.rows.iter().filter(|r| r.get("IsRegistered") == Some(&Value::Bool(true))).count()) as i64,
            "TrunksTotal": trunks,
            "TrunksRegistered": trunks,
            "OutboundRules": data.rows("OutboundRules") as i64,
            "CallsActive": data.rows("ActiveCalls") as i64,
            "MaxSimCalls": 16,
            "IsChatLogEnabled": true,
            "IsAuditLogEnabled": true,
            "HasNotRunningServices": false,
            "HasUnregisteredSystemExtensions": false,
            "DBMaintenanceInProgress": false,
            "Support": true,
            "AutoUpdateEnabled": false,
            "BackupScheduled": false,
            "RecordingStopped": false,
            "RecordingQuotaReached": false,
            "VoicemailStopped": false,
            "VoicemailQuotaReached": false,
            "TotalDiskSpace": 64_i64 << 30,
            "FreeDiskSpace": 40_i64 << 30,
            "DiskUsage": 37,
            "ChatUsedSpace": data.chats.visible_total() as i64 * 200,
            "LogUsedSpace": data.calls.visible_total() as i64 * 400,
        });
        if let (Value::Object(f), Value::Object(license)) = (&mut facts, self.license_facts()) {
            f.extend(license);
        }
        for (k, v) in facts.as_object().expect("object literal") {
            if def.is_none_or(|d| d.properties.contains(k)) {
                status.insert(k.clone(), v.clone());
            }
        }
        Reply::json(200, q.project(Value::Object(status)))
    }

    fn call_log(&self, call: &Call<'_>) -> Reply {
        let bound = |k: &str| {
            call.input
                .get(k)
                .and_then(Value::as_str)
                .and_then(time::parse)
        };
        let (from, to) = (bound("periodFrom"), bound("periodTo"));
        let filter_text = |k: &str| {
            call.input
                .get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase)
        };
        let source = filter_text("sourceFilter");
        let destination = filter_text("destinationFilter");
        let extra = move |row: &Value| {
            let has = |fields: &[&str], needle: &Option<String>| match needle {
                None => true,
                Some(n) => fields.iter().any(|f| {
                    row.get(*f)
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.to_lowercase().contains(n.as_str()))
                }),
            };
            has(
                &["SourceDn", "SourceCallerId", "SourceDisplayName"],
                &source,
            ) && has(
                &[
                    "DestinationDn",
                    "DestinationCallerId",
                    "DestinationDisplayName",
                ],
                &destination,
            )
        };
        let needs_extra =
            filter_text("sourceFilter").is_some() || filter_text("destinationFilter").is_some();
        self.history_list(
            call,
            Which::Calls,
            history::call_log_row,
            "StartTime",
            "CallId",
            Some((from, to)),
            needs_extra.then_some(&extra as &dyn Fn(&Value) -> bool),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn history_list(
        &self,
        call: &Call<'_>,
        which: Which,
        row: RowFn,
        time_field: &str,
        id_field: &str,
        period: Option<(Option<i64>, Option<i64>)>,
        extra: Option<&dyn Fn(&Value) -> bool>,
    ) -> Reply {
        let schema = self.registry.output_schema(call.op);
        let known =
            gen::collection_item(&schema, &schema).map(|item| gen::property_names(item, &schema));
        let q = match QueryOptions::from_input(call.input, known.as_ref()) {
            Ok(q) => q,
            Err(e) => return Reply::error(400, e),
        };
        // Take what is needed and let go of the lock: rows are computed from a copy.
        let (timeline, ctx) = {
            let data = lock(&self.data);
            (
                which.timeline(&data).clone(),
                RowContext {
                    seed: data.seed,
                    users: data.sizes.users,
                },
            )
        };
        let (lo, hi) = match period {
            Some((from, to)) => timeline.range(from, to),
            None => (0, timeline.len),
        };
        let wanted = q.top.unwrap_or(u64::MAX);
        let take = wanted.min(self.config.max_page_size);
        let by_time = match q.orderby.as_slice() {
            [] => Some(false),
            [k] if k.path.len() == 1 && (k.path[0] == time_field || k.path[0] == id_field) => {
                Some(k.descending)
            }
            _ => None,
        };
        let filtered = q.filter.is_some() || q.search.is_some() || extra.is_some();
        let keeps = |r: &Value| q.keeps(r) && extra.is_none_or(|f| f(r));
        let (items, matched, more): (Vec<Value>, Option<u64>, bool) = match by_time {
            Some(desc) if !filtered => {
                let matched = timeline.visible(lo, hi);
                let items: Vec<Value> = timeline
                    .page(lo, hi, q.skip, take, desc)
                    .into_iter()
                    .map(|i| q.project(row(&timeline, &ctx, i)))
                    .collect();
                let more = q.skip + (items.len() as u64) < matched;
                (items, Some(matched), more)
            }
            Some(desc) => {
                let mut items = Vec::new();
                let mut matched = 0u64;
                let mut more = false;
                for i in timeline.iter(lo, hi, desc) {
                    let r = row(&timeline, &ctx, i);
                    if !keeps(&r) {
                        continue;
                    }
                    if matched >= q.skip && (items.len() as u64) < take {
                        items.push(q.project(r));
                    } else if (items.len() as u64) >= take {
                        more = true;
                        if !q.count {
                            break;
                        }
                    }
                    matched += 1;
                }
                (items, q.count.then_some(matched), more)
            }
            None => {
                let mut kept = Vec::new();
                for i in timeline.iter(lo, hi, false) {
                    let r = row(&timeline, &ctx, i);
                    if keeps(&r) {
                        kept.push(r);
                        if kept.len() as u64 > MAX_SORTED_ROWS {
                            return Reply::error(
                                400,
                                format!(
                                    "The sandbox sorts at most {MAX_SORTED_ROWS} rows by '{}'; narrow the period or $filter, or order by {time_field}",
                                    q.orderby[0].path.join("/")
                                ),
                            );
                        }
                    }
                }
                kept.sort_by(|a, b| q.order(a, b));
                let matched = kept.len() as u64;
                let items: Vec<Value> = kept
                    .into_iter()
                    .skip(q.skip as usize)
                    .take(take as usize)
                    .map(|r| q.project(r))
                    .collect();
                let more = q.skip + (items.len() as u64) < matched;
                (items, Some(matched), more)
            }
        };
        let next = (more && take < wanted && items.len() as u64 == take)
            .then(|| self.next_link(call, q.skip + take, q.top.map(|t| t - take)));
        let count = if q.count { matched } else { None };
        Reply::json(200, collection(items, count, next))
    }

    /// The URL of the next page: this request with `$skip` (and `$top`) moved on.
    fn next_link(&self, call: &Call<'_>, skip: u64, top: Option<u64>) -> String {
        let mut parts: Vec<String> = call
            .query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let k = p.split('=').next().unwrap_or("");
                let k = percent_decode_str(k).decode_utf8_lossy();
                k != "$skip" && k != "$top"
            })
            .map(str::to_owned)
            .collect();
        parts.push(format!("$skip={skip}"));
        if let Some(t) = top {
            parts.push(format!("$top={t}"));
        }
        format!("{}{}?{}", self.base_url, call.raw_path, parts.join("&"))
    }

    fn history_csv(&self, call: &Call<'_>, which: Which) -> Reply {
        let bound = |k: &str| {
            call.input
                .get(k)
                .and_then(Value::as_str)
                .and_then(time::parse)
        };
        let (timeline, ctx) = {
            let data = lock(&self.data);
            (
                which.timeline(&data).clone(),
                RowContext {
                    seed: data.seed,
                    users: data.sizes.users,
                },
            )
        };
        let (lo, hi) = timeline.range(bound("periodFrom"), bound("periodTo"));
        let (columns, row): (&[&str], RowFn) = match which {
            Which::Calls => (
                &[
                    "CallId",
                    "StartTime",
                    "Direction",
                    "Status",
                    "SourceDn",
                    "SourceDisplayName",
                    "DestinationDn",
                    "DestinationDisplayName",
                    "RingingDuration",
                    "TalkingDuration",
                ],
                history::call_log_row,
            ),
            Which::Chats => (
                &[
                    "MessageId",
                    "ConversationId",
                    "TimeSent",
                    "SenderParticipantNo",
                    "SenderParticipantName",
                    "Recipients",
                    "Message",
                ],
                history::chat_message_row,
            ),
        };
        let mut out = columns.join(",");
        out.push_str("\r\n");
        for i in timeline.iter(lo, hi, false).take(MAX_CSV_ROWS as usize) {
            let r = row(&timeline, &ctx, i);
            let cells: Vec<String> = columns.iter().map(|c| csv_cell(&r[*c])).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        download(call.op, "text/csv; charset=utf-8", "csv", out.into_bytes())
    }

    // ----- everything else: answers built from the output schema -----

    fn generic(&self, call: &Call<'_>) -> Reply {
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

/// Computes row `i` of a timeline.
type RowFn = fn(&Timeline, &RowContext, u64) -> Value;

/// A request matched to its action, with its validated input.
struct Call<'a> {
    op: &'static dyn Operation,
    input: &'a Map<String, Value>,
    raw_path: &'a str,
    query: &'a str,
}

#[derive(Clone, Copy)]
enum Which {
    Calls,
    Chats,
}

impl Which {
    fn timeline(self, data: &Data) -> &Timeline {
        match self {
            Which::Calls => &data.calls,
            Which::Chats => &data.chats,
        }
    }

    fn timeline_mut(self, data: &mut Data) -> &mut Timeline {
        match self {
            Which::Calls => &mut data.calls,
            Which::Chats => &mut data.chats,
        }
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

/// The product code of the sandbox's licence (an Enterprise edition).
const LICENSE_PRODUCT_CODE: &str = "3CXPSENTSANDBOX";

/// Sets the `facts` that `value` (an object) has a property for.
fn overlay(value: &mut Value, facts: &Value, names: &std::collections::BTreeSet<String>) {
    if let (Value::Object(v), Value::Object(f)) = (value, facts) {
        for (k, x) in f {
            if names.contains(k) {
                v.insert(k.clone(), x.clone());
            }
        }
    }
}

fn csv_cell(v: &Value) -> String {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn download(op: &dyn Operation, content_type: &str, extension: &str, bytes: Vec<u8>) -> Reply {
    Reply {
        status: 200,
        headers: vec![(
            "Content-Disposition".to_owned(),
            format!("attachment; filename=\"{}.{extension}\"", op.meta().action),
        )],
        body: ReplyBody::Bytes {
            content_type: content_type.to_owned(),
            bytes,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn csv_cells_are_quoted_when_needed() {
        assert_eq!(csv_cell(&json!("a,b")), "\"a,b\"");
        assert_eq!(csv_cell(&json!("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell(&json!(5)), "5");
        assert_eq!(csv_cell(&Value::Null), "");
    }
}
