//! The registry: every operation by resource and action name, built once, looked up by any
//! spelling of a name, with published schemas and compiled validators cached per operation.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use jsonschema::Validator;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};
use threecx_core::{Error, NameKind};

use crate::names::{normalize, with_normalized};
use crate::operation::{ModelDefs, Operation, Registration};
use crate::{schema, suggest, validate};

/// All registered operations. Build it with [`Registry::from_operations`] or use [`global`].
pub struct Registry {
    /// Sorted by resource, then action (normalised names).
    ops: Vec<&'static dyn Operation>,
    resources: Vec<ResourceEntry>,
    /// Normalised resource name → index in `resources`.
    by_resource: FxHashMap<Box<str>, usize>,
    /// Canonical and display (resource, action) names as written → index in `ops`: finds an
    /// operation's caches, and a by-name call spelled the usual way, without normalising names.
    by_name: FxHashMap<(&'static str, &'static str), usize>,
    /// The models' texts as given, parsed on first use: listing or finding actions does not
    /// pay for parsing a megabyte of schemas (it is most of a pulled spec's start-up).
    model_texts: Vec<Box<str>>,
    models: OnceLock<Map<String, Value>>,
    caches: Vec<OpCache>,
}

/// What is computed once per operation, on first use.
#[derive(Default)]
struct OpCache {
    input_schema: OnceLock<Value>,
    output_schema: OnceLock<Value>,
    /// The compiled input validator, or why the schema does not compile.
    validator: OnceLock<Result<Validator, String>>,
}

/// One resource (a spec tag) and its actions.
#[derive(Debug)]
pub struct ResourceEntry {
    name: &'static str,
    display_name: &'static str,
    key: Box<str>,
    actions: Vec<&'static dyn Operation>,
    /// Normalised action name → index in `actions`.
    by_action: FxHashMap<Box<str>, usize>,
    /// Normalised action names, in `actions` order (for suggestions).
    action_keys: Vec<Box<str>>,
}

impl ResourceEntry {
    /// Canonical name: `PurgeSettings`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Display name: `Purge Settings`.
    pub fn display_name(&self) -> &'static str {
        self.display_name
    }

    /// Lookup key: `purgesettings`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The resource's actions, sorted by normalised name.
    pub fn actions(&self) -> &[&'static dyn Operation] {
        &self.actions
    }

    /// The action of this resource with the given name, in any spelling.
    pub fn find(&self, action: &str) -> Result<&'static dyn Operation, Error> {
        with_normalized(action, |key| {
            self.by_action.get(key).map(|&i| self.actions[i])
        })
        .ok_or_else(|| Error::UnknownName {
            kind: NameKind::Action,
            name: action.to_owned(),
            suggestions: suggest::suggest(
                &normalize(action),
                self.action_keys
                    .iter()
                    .zip(&self.actions)
                    .map(|(key, op)| (&**key, op.meta().action_display)),
            ),
        })
    }
}

/// Two operations whose resource and action names normalise the same (a programming error: one
/// of them could never be called by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateError {
    /// Each clash as the two operations' canonical `(resource, action)` names.
    pub duplicates: Vec<[(&'static str, &'static str); 2]>,
}

impl fmt::Display for DuplicateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operations registered twice under the same name: ")?;
        for (i, [a, b]) in self.duplicates.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(
                f,
                "{}/{} and {}/{} (both {}/{})",
                a.0,
                a.1,
                b.0,
                b.1,
                normalize(a.0),
                normalize(a.1)
            )?;
        }
        f.write_str(". Names compare with only letters and digits, case-insensitively; rename one")
    }
}

impl std::error::Error for DuplicateError {}

impl Registry {
    /// Builds a registry from operations and model definitions (`ModelDefs` texts: JSON objects
    /// `{"<Model>": <schema>, ...}`).
    ///
    /// Model texts that do not parse are logged and skipped; a model defined twice keeps its
    /// first definition. Fails when two operations have the same normalised names.
    pub fn from_operations<'m>(
        operations: impl IntoIterator<Item = &'static dyn Operation>,
        models: impl IntoIterator<Item = &'m str>,
    ) -> Result<Registry, DuplicateError> {
        let mut keyed: Vec<(String, String, &'static dyn Operation)> = operations
            .into_iter()
            .map(|op| {
                let meta = op.meta();
                (normalize(meta.resource), normalize(meta.action), op)
            })
            .collect();
        keyed.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));

        let duplicates: Vec<_> = keyed
            .windows(2)
            .filter(|w| (&w[0].0, &w[0].1) == (&w[1].0, &w[1].1))
            .map(|w| [canonical(w[0].2), canonical(w[1].2)])
            .collect();
        if !duplicates.is_empty() {
            return Err(DuplicateError { duplicates });
        }

        let mut resources: Vec<ResourceEntry> = Vec::new();
        let mut by_resource = FxHashMap::default();
        for (resource_key, action_key, op) in &keyed {
            if resources.last().is_none_or(|r| *r.key != **resource_key) {
                by_resource.insert(resource_key.clone().into_boxed_str(), resources.len());
                let meta = op.meta();
                resources.push(ResourceEntry {
                    name: meta.resource,
                    display_name: meta.resource_display,
                    key: resource_key.clone().into_boxed_str(),
                    actions: Vec::new(),
                    by_action: FxHashMap::default(),
                    action_keys: Vec::new(),
                });
            }
            let entry = resources.last_mut().expect("pushed above");
            entry
                .by_action
                .insert(action_key.clone().into_boxed_str(), entry.actions.len());
            entry.action_keys.push(action_key.clone().into_boxed_str());
            entry.actions.push(*op);
        }

        let ops: Vec<&'static dyn Operation> = keyed.iter().map(|(_, _, op)| *op).collect();
        let mut by_name: FxHashMap<_, _> = ops
            .iter()
            .enumerate()
            .map(|(i, op)| (canonical(*op), i))
            .collect();
        // Display names too, where they normalise to the operation's own names (as generated
        // ones do): then a hit here is exactly what the normalised lookup would find.
        for (i, (resource_key, action_key, op)) in keyed.iter().enumerate() {
            let meta = op.meta();
            if normalize(meta.resource_display) == *resource_key
                && normalize(meta.action_display) == *action_key
            {
                by_name
                    .entry((meta.resource_display, meta.action_display))
                    .or_insert(i);
            }
        }
        let caches = ops.iter().map(|_| OpCache::default()).collect();

        Ok(Registry {
            ops,
            resources,
            by_resource,
            by_name,
            model_texts: models.into_iter().map(Box::from).collect(),
            models: OnceLock::new(),
            caches,
        })
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether no operation is registered.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Resources sorted by normalised name, each with its sorted actions.
    pub fn resources(&self) -> &[ResourceEntry] {
        &self.resources
    }

    /// Every operation, sorted by resource, then action.
    pub fn actions(&self) -> &[&'static dyn Operation] {
        &self.ops
    }

    /// The merged model definitions (`$defs`) that action schemas refer to.
    pub fn models(&self) -> &Map<String, Value> {
        self.models
            .get_or_init(|| schema::merge_models(self.model_texts.iter().map(|t| &**t)))
    }

    /// The resource with the given name, in any spelling (`Purge Settings`, `purge-settings`).
    pub fn find_resource(&self, resource: &str) -> Result<&ResourceEntry, Error> {
        with_normalized(resource, |key| {
            self.by_resource.get(key).map(|&i| &self.resources[i])
        })
        .ok_or_else(|| Error::UnknownName {
            kind: NameKind::Resource,
            name: resource.to_owned(),
            suggestions: suggest::suggest(
                &normalize(resource),
                self.resources.iter().map(|r| (&*r.key, r.display_name)),
            ),
        })
    }

    /// The operation with the given resource and action names, in any spelling; unknown names
    /// give [`Error::UnknownName`] with the closest display names as suggestions.
    pub fn find(&self, resource: &str, action: &str) -> Result<&'static dyn Operation, Error> {
        self.lookup(resource, action).map(|(op, _)| op)
    }

    /// [`Registry::find`], with the operation's position in this registry (its caches).
    pub(crate) fn lookup(
        &self,
        resource: &str,
        action: &str,
    ) -> Result<(&'static dyn Operation, Option<usize>), Error> {
        #[cfg(feature = "test-util")]
        crate::test_util::count_lookup();
        // Names as the schemas write them need no normalising (a by-name call's usual case).
        let by_name: &FxHashMap<(&str, &str), usize> = &self.by_name;
        if let Some(&i) = by_name.get(&(resource, action)) {
            return Ok((self.ops[i], Some(i)));
        }
        let op = self.find_resource(resource)?.find(action)?;
        Ok((op, self.slot_of(op)))
    }

    /// Position of `op` in this registry, when it is the registered operation itself.
    pub(crate) fn index_of(&self, op: &dyn Operation) -> Option<usize> {
        #[cfg(feature = "test-util")]
        crate::test_util::count_lookup();
        self.slot_of(op)
    }

    /// [`Registry::index_of`], as part of a lookup already counted.
    fn slot_of(&self, op: &dyn Operation) -> Option<usize> {
        let i = *self.by_name.get(&canonical(op))?;
        std::ptr::addr_eq(
            self.ops[i] as *const dyn Operation,
            op as *const dyn Operation,
        )
        .then_some(i)
    }

    /// The self-contained JSON Schema (2020-12) of `op`'s input: its schema plus a `$defs` with
    /// every model it uses. Computed once per registered operation.
    pub fn input_schema(&self, op: &dyn Operation) -> Value {
        self.input_schema_ref(op).into_owned()
    }

    /// [`Registry::input_schema`] without a copy when `op` is registered here: what per-call
    /// work reads (a schema with all its models can be tens of kilobytes).
    pub fn input_schema_ref(&self, op: &dyn Operation) -> Cow<'_, Value> {
        self.input_schema_at(op, self.index_of(op))
    }

    /// [`Registry::input_schema_ref`] of `op` at position `slot` of this registry.
    pub(crate) fn input_schema_at(
        &self,
        op: &dyn Operation,
        slot: Option<usize>,
    ) -> Cow<'_, Value> {
        self.schema_at(slot, |c| &c.input_schema, || op.input_schema())
    }

    /// The self-contained JSON Schema (2020-12) of `op`'s output (see `Response::to_json`).
    pub fn output_schema(&self, op: &dyn Operation) -> Value {
        self.output_schema_ref(op).into_owned()
    }

    /// [`Registry::output_schema`] without a copy when `op` is registered here.
    pub fn output_schema_ref(&self, op: &dyn Operation) -> Cow<'_, Value> {
        self.schema_at(
            self.index_of(op),
            |c| &c.output_schema,
            || op.output_schema(),
        )
    }

    /// `op`'s schema (as `own` gives it) made self-contained: kept in `cell` of its cache at
    /// `slot` of this registry, else (`None`: not one of its operations) computed for this use.
    fn schema_at(
        &self,
        slot: Option<usize>,
        cell: fn(&OpCache) -> &OnceLock<Value>,
        own: impl FnOnce() -> Value,
    ) -> Cow<'_, Value> {
        let contained = || schema::self_contained(own(), self.models());
        match slot {
            Some(i) => Cow::Borrowed(cell(&self.caches[i]).get_or_init(contained)),
            None => Cow::Owned(contained()),
        }
    }

    /// An example input for `op`, built from its input schema (required properties always,
    /// all properties of small objects).
    pub fn example_input(&self, op: &dyn Operation) -> Value {
        let schema = self.input_schema_ref(op);
        schema::example(&schema, &schema)
    }

    /// Checks `input` against `op`'s input schema; the first, most specific problem is returned
    /// as [`Error::InvalidInput`] (JSON pointer, expectation in words, example).
    ///
    /// The validator is compiled once per registered operation, on first use.
    pub fn validate(&self, op: &dyn Operation, input: &Value) -> Result<(), Error> {
        self.validate_at(op, self.index_of(op), input)
    }

    /// [`Registry::validate`] for `op` at position `slot` of this registry (`None`: not one of
    /// its operations).
    pub(crate) fn validate_at(
        &self,
        op: &dyn Operation,
        slot: Option<usize>,
        input: &Value,
    ) -> Result<(), Error> {
        #[cfg(feature = "test-util")]
        crate::test_util::count_validation();
        let schema = self.input_schema_at(op, slot);
        let Some(i) = slot else {
            // Not one of ours (a caller's own operation): compile for this call only.
            let validator = validate::compile(&schema).map_err(|e| schema_error(op, e))?;
            return validate::check(&validator, &schema, input);
        };
        let validator = self.caches[i]
            .validator
            .get_or_init(|| validate::compile(&schema))
            .as_ref()
            .map_err(|e| schema_error(op, e.clone()))?;
        validate::check(validator, &schema, input)
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("resources", &self.resources.len())
            .field("actions", &self.ops.len())
            .field("models", &self.models().len())
            .finish()
    }
}

/// The registry of every operation linked into the program (collected with `inventory`), built
/// on first use.
///
/// # Panics
/// When two registered operations have the same normalised names: a programming error, reported
/// with both names.
pub fn global() -> &'static Registry {
    static GLOBAL: OnceLock<Registry> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let operations = inventory::iter::<Registration>.into_iter().map(|r| r.0);
        let models = inventory::iter::<ModelDefs>.into_iter().map(|m| m.0);
        Registry::from_operations(operations, models)
            .unwrap_or_else(|e| panic!("threecx-registry: {e}"))
    })
}

fn canonical(op: &dyn Operation) -> (&'static str, &'static str) {
    let meta = op.meta();
    (meta.resource, meta.action)
}

fn schema_error(op: &dyn Operation, message: String) -> Error {
    let meta = op.meta();
    Error::BrokenDefinition {
        resource: meta.resource,
        action: meta.action,
        message: format!("its input schema does not compile: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, COUNTER, GET_USER_BY_NUMBER, LIST_USERS, PURGE_CALLS, PURGE_CHATS};
    use serde_json::json;
    use std::time::Instant;

    fn names(ops: &[&'static dyn Operation]) -> Vec<String> {
        ops.iter()
            .map(|op| format!("{}/{}", op.meta().resource, op.meta().action))
            .collect()
    }

    #[test]
    fn sorted_by_resource_then_action() {
        let r = testing::registry();
        assert_eq!(r.len(), 5);
        assert!(!r.is_empty());
        assert_eq!(
            names(r.actions()),
            [
                "PurgeSettings/PurgeCalls",
                "PurgeSettings/PurgeChats",
                "Tools/Count",
                "Users/GetUserByNumber",
                "Users/ListUser"
            ]
        );
        let resources: Vec<_> = r
            .resources()
            .iter()
            .map(|e| (e.name(), e.display_name(), e.key(), e.actions().len()))
            .collect();
        assert_eq!(
            resources,
            [
                ("PurgeSettings", "Purge Settings", "purgesettings", 2),
                ("Tools", "Tools", "tools", 1),
                ("Users", "Users", "users", 2)
            ]
        );
    }

    #[test]
    fn any_spelling_finds_the_operation() {
        let r = testing::registry();
        for (resource, action) in [
            ("PurgeSettings", "PurgeChats"),
            ("Purge Settings", "Purge Chats"),
            ("purge-settings", "purge-chats"),
            ("purge_settings", "purge_chats"),
            ("PURGESETTINGS", "PURGECHATS"),
        ] {
            let op = r.find(resource, action).unwrap();
            assert!(std::ptr::addr_eq(op, &PURGE_CHATS as &dyn Operation));
        }
        assert_eq!(r.find_resource("users").unwrap().name(), "Users");
    }

    #[test]
    fn names_as_written_find_what_normalised_names_find() {
        let r = testing::registry();
        for &op in r.actions() {
            let m = op.meta();
            for (resource, action) in [
                (m.resource, m.action),
                (m.resource_display, m.action_display),
            ] {
                let found = r.find(resource, action).unwrap();
                assert!(std::ptr::addr_eq(found, op), "{resource}/{action}");
                let normalised = r.find(&normalize(resource), &normalize(action)).unwrap();
                assert!(std::ptr::addr_eq(normalised, op), "{resource}/{action}");
            }
        }
    }

    #[test]
    fn a_display_name_that_is_another_name_is_no_shortcut() {
        // An extension whose display name does not normalise to its action name: that display
        // name finds nothing, by any spelling, as before names written as-is were looked up.
        static ODD: crate::HttpAction = crate::HttpAction {
            meta: crate::ActionMeta {
                action: "Shred",
                action_display: "Purge Chats Later",
                ..PURGE_CHATS.meta
            },
            template: PURGE_CHATS.template,
            input_schema: "{}",
            output_schema: "{}",
        };
        let r = Registry::from_operations([&PURGE_CHATS as &dyn Operation, &ODD], []).unwrap();
        assert!(r.find("Purge Settings", "Purge Chats Later").is_err());
        let shred = r.find("Purge Settings", "Shred").unwrap();
        assert!(std::ptr::addr_eq(shred, &ODD as &dyn Operation));
        let chats = r.find("Purge Settings", "Purge Chats").unwrap();
        assert!(std::ptr::addr_eq(chats, &PURGE_CHATS as &dyn Operation));
    }

    #[test]
    fn unknown_resource_suggests_display_names() {
        let r = testing::registry();
        match r.find("Purge Setings", "Purge Chats") {
            Err(Error::UnknownName {
                kind,
                name,
                suggestions,
            }) => {
                assert_eq!(kind, NameKind::Resource);
                assert_eq!(name, "Purge Setings");
                assert_eq!(suggestions, ["Purge Settings"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_action_suggests_within_the_resource() {
        let r = testing::registry();
        let e = r.find("Purge Settings", "purge chat").unwrap_err();
        match &e {
            Error::UnknownName {
                kind, suggestions, ..
            } => {
                assert_eq!(*kind, NameKind::Action);
                assert_eq!(suggestions[0], "Purge Chats");
                assert!(suggestions.len() <= 5);
            }
            other => panic!("{other:?}"),
        }
        assert!(e
            .to_string()
            .starts_with("unknown action \"purge chat\"; did you mean: Purge Chats"));
        let e = r.find("Users", "frobnicate").unwrap_err();
        assert!(matches!(e, Error::UnknownName { ref suggestions, .. } if suggestions.is_empty()));
    }

    #[test]
    fn duplicates_name_both_operations() {
        static OTHER: crate::HttpAction = crate::HttpAction {
            meta: crate::ActionMeta {
                resource: "Purge_Settings",
                action: "purge-chats",
                ..PURGE_CHATS.meta
            },
            template: PURGE_CHATS.template,
            input_schema: "{}",
            output_schema: "{}",
        };
        let e = Registry::from_operations([&PURGE_CHATS as &dyn Operation, &OTHER, &COUNTER], [])
            .unwrap_err();
        assert_eq!(e.duplicates.len(), 1);
        let text = e.to_string();
        assert!(text.contains("PurgeSettings/PurgeChats"), "{text}");
        assert!(text.contains("Purge_Settings/purge-chats"), "{text}");
        assert!(text.contains("purgesettings/purgechats"), "{text}");
    }

    #[test]
    fn published_schemas_are_self_contained() {
        let r = testing::registry();
        let input = r.input_schema(&PURGE_CHATS);
        assert_eq!(input["$schema"], crate::schema::DRAFT_2020_12);
        let defs: Vec<_> = input["$defs"].as_object().unwrap().keys().collect();
        assert_eq!(defs, ["PurgeSettings"]);
        let output = r.output_schema(&LIST_USERS);
        let mut defs: Vec<_> = output["$defs"].as_object().unwrap().keys().collect();
        defs.sort();
        assert_eq!(defs, ["User", "UserGroup"]);
        assert!(r.input_schema(&GET_USER_BY_NUMBER).get("$defs").is_none());
        // Served from the cache the second time, identical.
        assert_eq!(r.input_schema(&PURGE_CHATS), input);
        assert!(r.models().contains_key("Unused"));
        // Per-call readers borrow the cached schemas; an operation of another registry gets
        // its own, computed for the call.
        assert!(matches!(r.input_schema_ref(&PURGE_CHATS), Cow::Borrowed(s) if *s == input));
        assert!(matches!(r.output_schema_ref(&LIST_USERS), Cow::Borrowed(s) if *s == output));
        let small = Registry::from_operations([&COUNTER as &dyn Operation], []).unwrap();
        assert!(matches!(
            small.input_schema_ref(&PURGE_CHATS),
            Cow::Owned(_)
        ));
    }

    #[test]
    fn example_input_for_purge_chats() {
        let r = testing::registry();
        assert_eq!(
            r.example_input(&PURGE_CHATS),
            json!({"period": {"All": false, "Start": "2024-01-01T00:00:00Z", "Stop": "2024-01-01T00:00:00Z"}})
        );
        assert_eq!(
            r.example_input(&GET_USER_BY_NUMBER),
            json!({"number": "string"})
        );
        assert_eq!(r.example_input(&LIST_USERS), json!({}));
    }

    #[test]
    fn examples_validate() {
        let r = testing::registry();
        for op in r.actions() {
            let example = r.example_input(*op);
            r.validate(*op, &example)
                .unwrap_or_else(|e| panic!("{op:?}: {example}: {e}"));
        }
    }

    #[test]
    fn validation_uses_the_cached_validator() {
        let r = testing::registry();
        let i = r.index_of(&PURGE_CALLS).unwrap();
        assert!(r.caches[i].validator.get().is_none(), "compiled lazily");
        r.validate(&PURGE_CALLS, &json!({})).unwrap();
        assert!(r.caches[i].validator.get().is_some());
        let e = r
            .validate(&PURGE_CALLS, &json!({"period": {"Start": "yesterday"}}))
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { ref pointer, .. } if pointer == "/period/Start"));
    }

    #[test]
    fn unregistered_operations_validate_uncached() {
        let r = Registry::from_operations([&COUNTER as &dyn Operation], []).unwrap();
        assert!(r.index_of(&PURGE_CHATS).is_none());
        // PurgeSettings is not among this registry's models: the schema cannot compile.
        let e = r.validate(&PURGE_CHATS, &json!({})).unwrap_err();
        assert!(
            matches!(
                e,
                Error::BrokenDefinition {
                    resource: "PurgeSettings",
                    action: "PurgeChats",
                    ..
                }
            ),
            "{e}"
        );
        let full = testing::registry();
        assert!(full
            .validate(&GET_USER_BY_NUMBER, &json!({"number": "100"}))
            .is_ok());
    }

    #[test]
    fn lookups_are_fast() {
        let r = testing::registry();
        let n = 20_000;
        let start = Instant::now();
        for _ in 0..n {
            std::hint::black_box(r.find(
                std::hint::black_box("Purge Settings"),
                std::hint::black_box("Purge Chats"),
            ))
            .unwrap();
        }
        let per_lookup = start.elapsed() / n;
        eprintln!("find: {per_lookup:?} per lookup");
        // Generous for unoptimised builds on a busy machine; typically well under 1 µs.
        assert!(per_lookup.as_micros() < 20, "{per_lookup:?} per lookup");
    }
}
