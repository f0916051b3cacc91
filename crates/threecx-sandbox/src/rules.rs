//! The rules of a real 3CX that the entity store keeps: one numbering plan over every DN (each
//! entity that owns an extension number: users, groups, ring groups, queues, receptionists, fax
//! extensions, parkings, trunks...; the set comes from the model hierarchy, see
//! `entity_sets::SetDef::dn`), numbers that cannot be changed, group membership seen from both sides,
//! references that must exist, flag enums that only take their values, and 3CX's validation
//! error with its `WARNINGS.XAPI.*` codes.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::entity_sets::Catalog;
use crate::odata::filter::equal;
use crate::reply::Reply;
use crate::store::Data;

/// The validation warnings of 3CX's spec (`WARNINGS.XAPI.*`) that the sandbox gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    AlreadyInUse,
    Duplicate,
    NotFound,
    Required,
    ForbiddenChange,
    NonExistentExtNumber,
}

impl Warning {
    pub fn code(self) -> &'static str {
        match self {
            Warning::AlreadyInUse => "WARNINGS.XAPI.ALREADY_IN_USE",
            Warning::Duplicate => "WARNINGS.XAPI.DUPLICATE",
            Warning::NotFound => "WARNINGS.XAPI.NOT_FOUND",
            Warning::Required => "WARNINGS.XAPI.REQUIRED",
            Warning::ForbiddenChange => "WARNINGS.XAPI.FORBIDDEN_CHANGE",
            Warning::NonExistentExtNumber => "WARNINGS.XAPI.NON_EXISTENT_EXT_NUMBER",
        }
    }
}

/// 3CX's answer to a refused value: 400 with the field and the warning, in its error shape
/// `{"error":{"code":"","message":"Number:\nWARNINGS.XAPI.ALREADY_IN_USE","details":[...]}}`.
pub fn refuse(target: &str, warning: Warning) -> Reply {
    Reply::json(
        400,
        json!({"error": {
            "code": "",
            "message": format!("{target}:\n{}", warning.code()),
            "details": [{"code": "", "message": warning.code(), "target": target}],
        }}),
    )
}

/// The lowest extension number a new DN gets.
const FIRST_EXTENSION: u64 = 100;

/// Every number in use by a DN, whatever its type.
pub fn dn_numbers(data: &Data, catalog: &Catalog) -> BTreeSet<String> {
    catalog
        .sets
        .values()
        .filter(|def| def.dn)
        .filter_map(|def| data.tables.get(&def.name))
        .flat_map(|t| t.rows.iter())
        .filter_map(|r| r.get("Number").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// The lowest number from 100 that no DN uses: what `Init*` offers and a new DN without a
/// number gets.
pub fn first_free_number(data: &Data, catalog: &Catalog) -> String {
    let used = dn_numbers(data, catalog);
    (FIRST_EXTENSION..)
        .map(|n| n.to_string())
        .find(|n| !used.contains(n))
        .expect("unbounded range")
}

/// The number of a new DN: the one given, unless any DN already has it; else the first free.
pub fn number_for_new_dn(
    row: &mut Map<String, Value>,
    data: &Data,
    catalog: &Catalog,
) -> Result<(), Reply> {
    match row.get("Number") {
        None | Some(Value::Null) => {
            let n = first_free_number(data, catalog);
            row.insert("Number".to_owned(), Value::String(n));
            Ok(())
        }
        Some(Value::String(n)) if n.trim().is_empty() => Err(refuse("Number", Warning::Required)),
        Some(Value::String(n)) if dn_numbers(data, catalog).contains(n) => {
            Err(refuse("Number", Warning::AlreadyInUse))
        }
        Some(_) => Ok(()),
    }
}

/// A DN keeps its number: a PATCH that gives another one is refused, even when it is free.
pub fn number_unchanged(stored: &Value, body: &Map<String, Value>) -> Result<(), Reply> {
    match body.get("Number") {
        Some(n) if !equal(n, stored.get("Number").unwrap_or(&Value::Null)) => {
            Err(refuse("Number", Warning::ForbiddenChange))
        }
        _ => Ok(()),
    }
}

// ----- group membership: kept in each user's `Groups`; a group's `Members` derive from them -----

/// The role a member gets when none is given.
const DEFAULT_ROLE: &str = "users";

fn group_by_id<'d>(data: &'d Data, id: &Value) -> Option<&'d Value> {
    data.tables
        .get("Groups")?
        .rows
        .iter()
        .find(|g| g.get("Id").is_some_and(|v| equal(v, id)))
}

/// The group new users join when they name none: the one marked default, else the first.
fn default_group(data: &Data) -> Option<&Value> {
    let rows = &data.tables.get("Groups")?.rows;
    rows.iter()
        .find(|g| g.get("IsDefault") == Some(&Value::Bool(true)))
        .or_else(|| rows.first())
}

/// One entry of a user's `Groups`.
pub fn membership(group: &Value, role: Option<&Value>) -> Value {
    let role = role
        .cloned()
        .unwrap_or_else(|| json!({"RoleName": DEFAULT_ROLE}));
    json!({
        "GroupId": group.get("Id").cloned().unwrap_or(Value::Null),
        "Name": group.get("Name").cloned().unwrap_or(Value::Null),
        "Number": group.get("Number").cloned().unwrap_or(Value::Null),
        "Rights": role,
        "CanDelete": true,
    })
}

/// Checks and completes the group references of a user being created or updated: every
/// `Groups[].GroupId` and the `PrimaryGroupId` must name an existing group. A new user that
/// names no group joins the default one; the primary group is the first group when not given.
pub fn user_groups(row: &mut Map<String, Value>, data: &Data, creating: bool) -> Result<(), Reply> {
    if let Some(Value::Array(entries)) = row.get("Groups") {
        let mut completed = Vec::with_capacity(entries.len());
        for entry in entries {
            let id = entry.get("GroupId").cloned().unwrap_or(Value::Null);
            let Some(group) = group_by_id(data, &id) else {
                return Err(refuse("Groups", Warning::NotFound));
            };
            completed.push(membership(
                group,
                entry.get("Rights").filter(|r| !r.is_null()),
            ));
        }
        row.insert("Groups".to_owned(), Value::Array(completed));
    } else if creating {
        let joined: Vec<Value> = default_group(data)
            .map(|g| membership(g, None))
            .into_iter()
            .collect();
        row.insert("Groups".to_owned(), Value::Array(joined));
    }
    match row.get("PrimaryGroupId") {
        Some(id) if !id.is_null() => {
            if group_by_id(data, id).is_none() {
                return Err(refuse("PrimaryGroupId", Warning::NotFound));
            }
        }
        _ => {
            let first = row
                .get("Groups")
                .and_then(Value::as_array)
                .and_then(|g| g.first())
                .and_then(|m| m.get("GroupId"))
                .cloned();
            if let Some(id) = first {
                row.insert("PrimaryGroupId".to_owned(), id);
            }
        }
    }
    Ok(())
}

/// The members of group `id`, as the group sees them: one entry per user in it.
pub fn members_of(data: &Data, id: &Value) -> Vec<Value> {
    let Some(users) = data.tables.get("Users") else {
        return Vec::new();
    };
    users
        .rows
        .iter()
        .filter_map(|u| {
            let entry = u
                .get("Groups")?
                .as_array()?
                .iter()
                .find(|m| m.get("GroupId").is_some_and(|g| equal(g, id)))?;
            let name = u
                .get("DisplayName")
                .filter(|v| !v.is_null())
                .cloned()
                .unwrap_or_else(|| {
                    let part = |k: &str| u.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    Value::String(
                        format!("{} {}", part("FirstName"), part("LastName"))
                            .trim()
                            .to_owned(),
                    )
                });
            Some(json!({
                "Id": u.get("Id").cloned().unwrap_or(Value::Null),
                "GroupId": id,
                "Number": u.get("Number").cloned().unwrap_or(Value::Null),
                "Name": name,
                "MemberName": name,
                "Type": "Extension",
                "Rights": entry.get("Rights").cloned().unwrap_or(Value::Null),
                "CanDelete": true,
            }))
        })
        .collect()
}

/// The users named by `members` (each by its `Number`), or the refusal of a number no user has.
pub fn member_numbers(data: &Data, members: &Value) -> Result<Vec<String>, Reply> {
    let Value::Array(members) = members else {
        return Err(refuse("Members", Warning::Required));
    };
    let users = data
        .tables
        .get("Users")
        .map(|t| t.rows.as_slice())
        .unwrap_or(&[]);
    members
        .iter()
        .map(|m| {
            let number = m.get("Number").and_then(Value::as_str).unwrap_or("");
            if users
                .iter()
                .any(|u| u.get("Number").and_then(Value::as_str) == Some(number))
            {
                Ok(number.to_owned())
            } else {
                Err(refuse("Members", Warning::NonExistentExtNumber))
            }
        })
        .collect()
}

/// Makes exactly the users numbered `numbers` members of group `id` (others leave it).
pub fn set_members(data: &mut Data, id: &Value, numbers: &[String]) {
    let Some(group) = group_by_id(data, id).cloned() else {
        return;
    };
    let Some(users) = data.tables.get_mut("Users") else {
        return;
    };
    for user in &mut users.rows {
        let number = user
            .get("Number")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let Value::Object(u) = user else { continue };
        let mut groups: Vec<Value> = match u.remove("Groups") {
            Some(Value::Array(g)) => g,
            _ => Vec::new(),
        };
        let member = groups
            .iter()
            .any(|m| m.get("GroupId").is_some_and(|g| equal(g, id)));
        let wanted = numbers.contains(&number);
        if wanted && !member {
            groups.push(membership(&group, None));
        } else if !wanted && member {
            groups.retain(|m| !m.get("GroupId").is_some_and(|g| equal(g, id)));
        }
        fix_primary(u, &groups, id, wanted);
        u.insert("Groups".to_owned(), Value::Array(groups));
    }
}

/// Removes every membership of the deleted group `id`.
pub fn forget_group(data: &mut Data, id: &Value) {
    set_members(data, id, &[]);
}

/// A user whose primary group it left gets its first remaining group (or none).
fn fix_primary(user: &mut Map<String, Value>, groups: &[Value], id: &Value, still_member: bool) {
    let primary_left = !still_member && user.get("PrimaryGroupId").is_some_and(|p| equal(p, id));
    if primary_left {
        let next = groups
            .first()
            .and_then(|m| m.get("GroupId"))
            .cloned()
            .unwrap_or(Value::Null);
        user.insert("PrimaryGroupId".to_owned(), next);
    }
}

// ----- flag enums -----

/// Refuses a flag-enum value (`"A, B"`) with a name its type does not have, as 3CX's model
/// binding does; walks the object properties of `value` along `schema`.
pub fn check_flags(value: &Value, schema: &Value, root: &Value) -> Result<(), Reply> {
    check_flags_at(value, schema, root, 0)
}

fn check_flags_at(value: &Value, schema: &Value, root: &Value, depth: usize) -> Result<(), Reply> {
    if depth > 8 {
        return Ok(());
    }
    let schema = crate::gen::deref(schema, root);
    if let (Some(flags), Value::String(text)) = (
        schema.get("x-threecx-flags").and_then(Value::as_array),
        value,
    ) {
        for part in text.split(',').map(str::trim) {
            if !flags.iter().any(|f| f.as_str() == Some(part)) {
                return Err(Reply::error(
                    400,
                    format!("Requested value '{part}' was not found."),
                ));
            }
        }
        return Ok(());
    }
    match value {
        Value::Object(fields) => {
            for (name, v) in fields {
                if let Some(p) = crate::gen::property_schema(schema, root, name) {
                    check_flags_at(v, p, root, depth + 1)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => match schema.get("items") {
            Some(item) => items
                .iter()
                .try_for_each(|v| check_flags_at(v, item, root, depth + 1)),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_has_3cxs_shape() {
        let reply = refuse("Number", Warning::AlreadyInUse);
        assert_eq!(reply.status, 400);
        let crate::reply::ReplyBody::Json(body) = reply.body else {
            panic!("JSON")
        };
        assert_eq!(
            body,
            json!({"error": {"code": "", "message": "Number:\nWARNINGS.XAPI.ALREADY_IN_USE",
                "details": [{"code": "", "message": "WARNINGS.XAPI.ALREADY_IN_USE", "target": "Number"}]}})
        );
    }

    #[test]
    fn numbers_do_not_change() {
        let stored = json!({"Number": "100"});
        let body = |n: Value| json!({"Number": n}).as_object().unwrap().clone();
        assert!(number_unchanged(&stored, &body(json!("100"))).is_ok());
        assert!(number_unchanged(&stored, &body(json!("999"))).is_err());
        assert!(number_unchanged(&stored, &Map::new()).is_ok());
    }

    #[test]
    fn flags_take_only_their_names() {
        let schema = json!({"type": "object", "properties": {"F": {"type": "string",
            "x-threecx-flags": ["A", "B"]}}});
        assert!(check_flags(&json!({"F": "A, B"}), &schema, &schema).is_ok());
        assert!(check_flags(&json!({"F": "A,B"}), &schema, &schema).is_ok());
        assert!(check_flags(&json!({"F": "A, Bogus"}), &schema, &schema).is_err());
    }
}
