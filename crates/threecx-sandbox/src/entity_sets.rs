//! Which entity sets and singletons the API has, derived from the registry's descriptors: a
//! `list` or `create` on `/Set`, `get`/`update`/`delete` on `/Set({Key})`, alternate keys such
//! as `/Users(Number={Number})`, and `get`/`update` on a bare `/Name` that is no set (a
//! singleton such as `/AISettings`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use threecx_core::{Literal, Location};
use threecx_registry::{ActionKind, Operation, Registry};

use crate::gen;

/// Entity sets whose rows the sandbox computes (history), kept out of the generic store.
pub const VIRTUAL_SETS: &[&str] = &[
    "CallHistoryView",
    "ChatHistoryView",
    "ChatMessagesHistoryView",
];

/// One entity set.
#[derive(Debug, Clone)]
pub struct SetDef {
    pub name: String,
    /// The key property and how it is written in paths (`Id` bare, `Name` quoted).
    pub key: Option<(String, Literal)>,
    /// Alternate keys (`Number`).
    pub alt_keys: Vec<String>,
    /// Self-contained JSON Schema of one entity.
    pub schema: Value,
    pub properties: BTreeSet<String>,
    /// Whether the key is an integer (then assigned by the server on create).
    pub integer_key: bool,
    /// Whether the entity type derives from `DN`: it owns an extension number, and all such
    /// numbers share one numbering plan.
    pub dn: bool,
    /// Navigation properties (`Groups` of a user, `Members` of a group): answered only when
    /// `$expand`ed, as OData does.
    pub navigation: BTreeSet<String>,
}

impl SetDef {
    /// Whether keys are assigned by the server (integer keys).
    pub fn integer_key(&self) -> bool {
        self.integer_key
    }
}

/// The base type of every entity that owns an extension number.
const DN_MODEL: &str = "DN";

/// Whether `schema` is (or derives, through `$ref` and `allOf`, from) the model `model`.
fn derives_from(schema: &Value, root: &Value, model: &str, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        return name == model
            || root["$defs"]
                .get(name)
                .is_some_and(|target| derives_from(target, root, model, depth + 1));
    }
    schema
        .get("allOf")
        .and_then(Value::as_array)
        .is_some_and(|parts| {
            parts
                .iter()
                .any(|p| derives_from(p, root, model, depth + 1))
        })
}

/// The properties of `schema` marked `x-threecx-navigation`.
fn navigation_properties(schema: &Value, names: &BTreeSet<String>) -> BTreeSet<String> {
    names
        .iter()
        .filter(|name| {
            gen::property_schema(schema, schema, name).is_some_and(|p| {
                p.get("x-threecx-navigation") == Some(&Value::Bool(true))
                    || p.get("anyOf").and_then(Value::as_array).is_some_and(|b| {
                        b.iter()
                            .any(|x| x.get("x-threecx-navigation") == Some(&Value::Bool(true)))
                    })
            })
        })
        .cloned()
        .collect()
}

/// Whether property `name` of `schema` is an integer.
fn is_integer(schema: &Value, name: &str) -> bool {
    gen::property_schema(schema, schema, name)
        .map(|p| gen::deref(p, schema))
        .and_then(|p| p.get("type"))
        .is_some_and(|t| {
            t == "integer"
                || t.as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "integer"))
        })
}

/// One singleton (`/AISettings`).
#[derive(Debug, Clone)]
pub struct SingletonDef {
    pub schema: Value,
    pub properties: BTreeSet<String>,
}

/// Every set and singleton.
#[derive(Debug, Default)]
pub struct Catalog {
    pub sets: BTreeMap<String, SetDef>,
    pub singletons: BTreeMap<String, SingletonDef>,
}

/// The shape of a path template, as far as the store cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Shape<'a> {
    /// `/Users`
    Set(&'a str),
    /// `/Users({Id})`: set and key parameter.
    Keyed(&'a str, &'a str),
    /// `/Users(Number={Number})`: set and property.
    Alternate(&'a str, &'a str),
    /// `/Users({Id})/Groups`: set, key parameter, navigation property.
    Navigation(&'a str, &'a str, &'a str),
    Other,
}

fn ident(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Classifies a path template.
pub fn shape(path: &str) -> Shape<'_> {
    let Some(rest) = path.strip_prefix('/') else {
        return Shape::Other;
    };
    if ident(rest) {
        return Shape::Set(rest);
    }
    let Some(open) = rest.find('(') else {
        return Shape::Other;
    };
    let set = &rest[..open];
    let Some(close) = rest.find(')') else {
        return Shape::Other;
    };
    let inside = &rest[open + 1..close];
    let after = &rest[close + 1..];
    if !ident(set) {
        return Shape::Other;
    }
    if let Some(param) = inside.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        if !ident(param) {
            return Shape::Other;
        }
        if after.is_empty() {
            return Shape::Keyed(set, param);
        }
        if let Some(nav) = after.strip_prefix('/') {
            if ident(nav) {
                return Shape::Navigation(set, param, nav);
            }
        }
        return Shape::Other;
    }
    if let Some((prop, value)) = inside.split_once('=') {
        if after.is_empty() && ident(prop) && value == format!("{{{prop}}}") {
            return Shape::Alternate(set, prop);
        }
    }
    Shape::Other
}

fn path_literal(op: &dyn Operation, name: &str) -> Literal {
    op.template()
        .and_then(|t| {
            t.params
                .iter()
                .find(|p| p.name == name && p.location == Location::Path)
        })
        .map_or(Literal::Quoted, |p| p.literal)
}

#[derive(Default)]
struct Pending {
    key: Option<(String, Literal)>,
    alt_keys: Vec<String>,
    list_item: Option<Value>,
    get_schema: Option<Value>,
    create_schema: Option<Value>,
    is_set: bool,
    singleton: Option<Value>,
}

impl Catalog {
    pub fn build(registry: &Registry) -> Catalog {
        let mut catalog = Catalog::default();
        for (name, p) in pending_by_name(registry) {
            if VIRTUAL_SETS.contains(&name.as_str()) {
                continue;
            }
            if p.is_set {
                if let Some(def) = set_def(name.clone(), p) {
                    catalog.sets.insert(name, def);
                }
            } else if let Some(schema) = p.singleton {
                let properties = gen::property_names(&schema, &schema);
                catalog
                    .singletons
                    .insert(name, SingletonDef { schema, properties });
            }
        }
        catalog
    }
}

/// What the descriptors say about each name at the start of a path template.
fn pending_by_name(registry: &Registry) -> BTreeMap<String, Pending> {
    let mut pending: BTreeMap<String, Pending> = BTreeMap::new();
    for op in registry.actions() {
        let Some(t) = op.template() else { continue };
        note(&mut pending, registry, *op, shape(t.path));
    }
    pending
}

/// Notes what `op` (whose template has `shape`) tells about its set or singleton.
fn note(
    pending: &mut BTreeMap<String, Pending>,
    registry: &Registry,
    op: &'static dyn Operation,
    shape: Shape<'_>,
) {
    let kind = op.meta().kind;
    match (kind, shape) {
        (ActionKind::List, Shape::Set(n)) => {
            let out = registry.output_schema(op);
            let p = pending.entry(n.to_owned()).or_default();
            p.is_set = true;
            p.list_item = gen::collection_item(&out, &out).map(|i| gen::with_defs(i, &out));
        }
        (ActionKind::Create, Shape::Set(n)) => {
            let input = registry.input_schema(op);
            let p = pending.entry(n.to_owned()).or_default();
            p.is_set = true;
            p.create_schema = input
                .get("properties")
                .and_then(|props| props.get("body"))
                .map(|b| gen::with_defs(b, &input));
        }
        (ActionKind::Get | ActionKind::Update | ActionKind::Delete, Shape::Keyed(n, k)) => {
            let p = pending.entry(n.to_owned()).or_default();
            p.is_set = true;
            p.key = Some((k.to_owned(), path_literal(op, k)));
            if kind == ActionKind::Get {
                p.get_schema = Some(registry.output_schema(op));
            }
        }
        (ActionKind::Get, Shape::Alternate(n, prop)) => {
            let p = pending.entry(n.to_owned()).or_default();
            p.is_set = true;
            if !p.alt_keys.iter().any(|a| a == prop) {
                p.alt_keys.push(prop.to_owned());
            }
        }
        (ActionKind::Get, Shape::Set(n)) => {
            let p = pending.entry(n.to_owned()).or_default();
            p.singleton = Some(registry.output_schema(op));
        }
        _ => {}
    }
}

/// The set `name` from what its descriptors said; `None` when none gave an entity schema.
fn set_def(name: String, p: Pending) -> Option<SetDef> {
    let schema = p.list_item.or(p.get_schema).or(p.create_schema)?;
    let properties = gen::property_names(&schema, &schema);
    let key = p.key.or_else(|| {
        properties.contains("Id").then(|| {
            let literal = if is_integer(&schema, "Id") {
                Literal::Bare
            } else {
                Literal::Quoted
            };
            ("Id".to_owned(), literal)
        })
    });
    let integer_key = key.as_ref().is_some_and(|(k, _)| is_integer(&schema, k));
    let dn = derives_from(&schema, &schema, DN_MODEL, 0);
    let navigation = navigation_properties(&schema, &properties);
    Some(SetDef {
        name,
        key,
        alt_keys: p.alt_keys,
        schema,
        properties,
        integer_key,
        dn,
        navigation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(shape("/Users"), Shape::Set("Users"));
        assert_eq!(shape("/Users({Id})"), Shape::Keyed("Users", "Id"));
        assert_eq!(
            shape("/Users(Number={Number})"),
            Shape::Alternate("Users", "Number")
        );
        assert_eq!(
            shape("/Users({Id})/Groups"),
            Shape::Navigation("Users", "Id", "Groups")
        );
        assert_eq!(shape("/Users/Pbx.BatchDelete"), Shape::Other);
        assert_eq!(shape("/Users({Id})/Pbx.Regenerate"), Shape::Other);
        assert_eq!(shape("/GetUpdateDetails(key={key},id={id})"), Shape::Other);
        assert_eq!(shape("/Defs/Codecs"), Shape::Other);
    }

    #[test]
    fn users_groups_and_singletons() {
        let c = Catalog::build(threecx_ops::registry());
        let users = &c.sets["Users"];
        assert_eq!(users.key, Some(("Id".to_owned(), Literal::Bare)));
        assert_eq!(users.alt_keys, ["Number"]);
        assert!(users.properties.contains("FirstName"));
        assert!(users.integer_key());
        assert!(c.sets.contains_key("Groups"));
        assert_eq!(
            c.sets["Backups"].key,
            Some(("FileName".to_owned(), Literal::Quoted))
        );
        assert!(!c.sets.contains_key("ChatHistoryView"));
        assert!(c.singletons.contains_key("AISettings"));
        assert!(c.singletons.contains_key("SystemStatus"));
        assert!(!c.singletons.contains_key("Users"));
    }

    #[test]
    fn dn_sets_come_from_the_model_hierarchy() {
        let c = Catalog::build(threecx_ops::registry());
        let dn: Vec<&str> = c
            .sets
            .values()
            .filter(|s| s.dn)
            .map(|s| s.name.as_str())
            .collect();
        for set in [
            "Users",
            "Groups",
            "RingGroups",
            "Queues",
            "Receptionists",
            "Fax",
            "Parkings",
        ] {
            assert!(dn.contains(&set), "{set} is a DN set: {dn:?}");
        }
        assert!(!dn.contains(&"Backups"), "{dn:?}");
        assert!(c.sets["Users"].navigation.contains("Groups"));
        assert!(c.sets["Groups"].navigation.contains("Members"));
        assert!(!c.sets["Users"].navigation.contains("FirstName"));
    }
}
