//! The seeded PBX: users, groups, a few rows of every other entity set, every singleton, and
//! the call and chat timelines. Everything is a function of the seed.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use threecx_core::Literal;

use crate::config::SeedSizes;
use crate::entity_sets::{Catalog, SetDef};
use crate::gen::{self, hash, hash_str};
use crate::history::Timeline;
use crate::people::person;
use crate::rules;
use crate::store::{Data, Table};

const GROUPS: &[&str] = &[
    "Sales",
    "Support",
    "Accounts",
    "Reception",
    "Operations",
    "Engineering",
    "Marketing",
    "Management",
];

/// Rows seeded in each entity set other than users and groups.
const OTHER_ROWS: u64 = 2;

/// The whole seeded state.
pub fn seed_data(catalog: &Catalog, seed: u64, sizes: SeedSizes) -> Data {
    let mut tables = BTreeMap::new();
    // Other extensions (queues, ring groups...) take numbers after the users'.
    let mut next_number = 100 + sizes.users + 100;
    // Users belong to the groups (each to one, round robin), so groups come first.
    let groups: Vec<Value> = catalog
        .sets
        .get("Groups")
        .map(|def| (0..sizes.groups).map(|i| group(def, seed, i)).collect())
        .unwrap_or_default();
    for (name, def) in &catalog.sets {
        let rows: Vec<Value> = match name.as_str() {
            "Users" => (0..sizes.users)
                .map(|i| user(def, seed, i, &groups))
                .collect(),
            "Groups" => groups.clone(),
            _ => (0..OTHER_ROWS)
                .map(|i| other(def, seed, i, &mut next_number))
                .collect(),
        };
        let next_id = rows
            .iter()
            .filter_map(|r| r.get("Id").and_then(Value::as_i64))
            .max()
            .unwrap_or(0)
            + 1;
        tables.insert(name.clone(), Table { next_id, rows });
    }
    let singletons = catalog
        .singletons
        .iter()
        .map(|(name, def)| {
            let v = gen::entity(&def.schema, &def.schema, hash(&[seed, hash_str(name)]));
            (name.clone(), v)
        })
        .collect();
    Data {
        seed,
        sizes,
        tables,
        singletons,
        calls: Timeline::new(sizes.call_history, hash(&[seed, 0xCA11])),
        chats: Timeline::new(sizes.chat_messages, hash(&[seed, 0xC4A7])),
    }
}

fn base(def: &SetDef, seed: u64, i: u64) -> Map<String, Value> {
    match gen::entity(
        &def.schema,
        &def.schema,
        hash(&[seed, hash_str(&def.name), i]),
    ) {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}

fn user(def: &SetDef, seed: u64, i: u64, groups: &[Value]) -> Value {
    let mut u = base(def, seed, i);
    let (first, last) = person(seed, i);
    let email_last: String = last
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    let fields = json!({
        "Id": i as i64 + 1,
        "Number": (100 + i).to_string(),
        "FirstName": first,
        "LastName": last,
        "DisplayName": format!("{first} {last}"),
        "EmailAddress": format!("{}.{email_last}.{}@example.com", first.to_lowercase(), 100 + i),
        "Mobile": format!("+4477{:08}", hash(&[seed, i]) % 100_000_000),
        "Enabled": true,
        "Require2FA": false,
        "IsRegistered": i % 3 != 2,
        "Language": "EN",
        "Internal": false,
    });
    for (k, v) in fields.as_object().expect("object literal") {
        if def.properties.contains(k) {
            u.insert(k.clone(), v.clone());
        }
    }
    if let Some(group) = groups.get((i % groups.len().max(1) as u64) as usize) {
        u.insert("Groups".to_owned(), json!([rules::membership(group, None)]));
        u.insert("PrimaryGroupId".to_owned(), group["Id"].clone());
    }
    Value::Object(u)
}

fn group(def: &SetDef, seed: u64, i: u64) -> Value {
    let mut g = base(def, seed, i);
    let name = match GROUPS.get(i as usize) {
        Some(n) => (*n).to_owned(),
        None => format!(
            "{} {}",
            GROUPS[(i % GROUPS.len() as u64) as usize],
            i / GROUPS.len() as u64 + 1
        ),
    };
    g.insert("Id".to_owned(), Value::from(i as i64 + 1));
    g.insert("Name".to_owned(), Value::String(name));
    g.insert("Number".to_owned(), Value::String(format!("GRP{:04}", i)));
    // The first group is the default one new users join, as 3CX's "DEFAULT" group.
    g.insert("IsDefault".to_owned(), Value::Bool(i == 0));
    // Members derive from the users' Groups.
    g.remove("Members");
    Value::Object(g)
}

fn other(def: &SetDef, seed: u64, i: u64, next_number: &mut u64) -> Value {
    let mut row = base(def, seed, i);
    match &def.key {
        Some((key, _)) if def.integer_key() => {
            row.insert(key.clone(), Value::from(i as i64 + 1));
        }
        // Formatted keys (GUIDs) keep their generated, per-row value.
        Some((key, Literal::Bare)) if row.get(key).is_some_and(Value::is_string) => {}
        Some((key, _)) => {
            row.insert(
                key.clone(),
                Value::String(format!("{}-{}", def.name.to_lowercase(), i + 1)),
            );
        }
        None => {}
    }
    if def.alt_keys.iter().any(|a| a == "Number") || def.properties.contains("Number") {
        row.insert("Number".to_owned(), Value::String(next_number.to_string()));
        *next_number += 1;
    }
    Value::Object(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_the_same_twice() {
        let catalog = Catalog::build(threecx_ops::registry());
        let sizes = SeedSizes {
            users: 5,
            groups: 2,
            call_history: 10,
            chat_messages: 10,
        };
        let a = seed_data(&catalog, 3, sizes);
        let b = seed_data(&catalog, 3, sizes);
        assert_eq!(a.tables["Users"].rows, b.tables["Users"].rows);
        assert_eq!(a.tables["Users"].rows.len(), 5);
        assert_eq!(a.tables["Users"].next_id, 6);
        assert_eq!(a.tables["Users"].rows[0]["Number"], "100");
        assert_eq!(a.tables["Groups"].rows[1]["Name"], "Support");
        // Seeded users belong to a seeded group, which is their primary group.
        let u = &a.tables["Users"].rows[1];
        assert_eq!(u["PrimaryGroupId"], 2);
        assert_eq!(u["Groups"][0]["GroupId"], 2);
        assert_eq!(u["Groups"][0]["Name"], "Support");
        let c = seed_data(&catalog, 4, sizes);
        assert_ne!(a.tables["Users"].rows, c.tables["Users"].rows);
    }

    #[test]
    fn seeded_rows_fit_their_schemas() {
        let catalog = Catalog::build(threecx_ops::registry());
        let data = seed_data(&catalog, 1, SeedSizes::default());
        for (name, table) in &data.tables {
            let schema = &catalog.sets[name].schema;
            let v = jsonschema::draft202012::options()
                .should_validate_formats(false)
                .build(schema)
                .unwrap();
            for row in &table.rows {
                if let Some(e) = v.iter_errors(row).next() {
                    panic!("{name}: {e} at {}: {row}", e.instance_path().as_str());
                }
            }
        }
        for (name, value) in &data.singletons {
            let schema = &catalog.singletons[name].schema;
            let v = jsonschema::draft202012::options()
                .should_validate_formats(false)
                .build(schema)
                .unwrap();
            assert!(v.is_valid(value), "{name}: {value}");
        }
    }
}
