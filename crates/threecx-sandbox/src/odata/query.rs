//! OData query options (`$filter $orderby $top $skip $count $select $search $expand`) read from a
//! by-name input object and applied to rows. Navigation properties are answered only when
//! `$expand`ed (also together with `$select`), as OData does.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::filter::{self, Expr};

/// One `$orderby` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    pub path: Vec<String>,
    pub descending: bool,
}

/// The query options of one request.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    pub top: Option<u64>,
    pub skip: u64,
    pub count: bool,
    pub filter: Option<Expr>,
    pub orderby: Vec<OrderKey>,
    pub select: Option<Vec<String>>,
    pub search: Option<String>,
    /// Navigation properties to include (`$expand`; nested options are not applied).
    pub expand: Vec<String>,
    /// Navigation properties of the rows that are left out (not expanded).
    pub hidden: BTreeSet<String>,
}

/// Rows after the options: the page and the number of rows that matched before paging.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    pub matched: u64,
}

/// A list option given as an array or a comma-separated string.
fn list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .flat_map(|s| s.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        Value::String(s) => s
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

fn unsigned(input: &Map<String, Value>, name: &str) -> Result<Option<u64>, String> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{name} must be a non-negative integer")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} must be a non-negative integer, not '{s}'")),
        Some(other) => Err(format!(
            "{name} must be a non-negative integer, not {other}"
        )),
    }
}

impl QueryOptions {
    /// Reads the options of `input`. With `known` (the model's property names), properties that
    /// the model does not have are refused, as OData does.
    pub fn from_input(
        input: &Map<String, Value>,
        known: Option<&BTreeSet<String>>,
    ) -> Result<QueryOptions, String> {
        let check = |name: &str| -> Result<(), String> {
            match known {
                Some(k) if !k.is_empty() && !k.contains(name) && !name.starts_with('@') => Err(
                    format!("Could not find a property named '{name}' on this resource"),
                ),
                _ => Ok(()),
            }
        };
        let mut q = QueryOptions {
            top: unsigned(input, "$top")?,
            skip: unsigned(input, "$skip")?.unwrap_or(0),
            ..QueryOptions::default()
        };
        q.count = match input.get("$count") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" => true,
            Some(Value::String(s)) if s == "false" => false,
            Some(other) => return Err(format!("$count must be true or false, not {other}")),
        };
        if let Some(Value::String(text)) = input.get("$filter") {
            let expr = filter::parse(text).map_err(|e| {
                format!("The query specified in the URI is not valid: $filter: {e}")
            })?;
            for p in expr.properties() {
                check(p)?;
            }
            q.filter = Some(expr);
        }
        if let Some(v) = input.get("$orderby") {
            for item in list(v) {
                let mut parts = item.split_whitespace();
                let prop = parts.next().unwrap_or("");
                let descending = match parts.next() {
                    None | Some("asc") => false,
                    Some("desc") => true,
                    Some(other) => {
                        return Err(format!(
                            "$orderby: '{other}' is neither asc nor desc (in '{item}')"
                        ))
                    }
                };
                if parts.next().is_some() {
                    return Err(format!("$orderby: cannot read '{item}'"));
                }
                let path: Vec<String> = prop.split('/').map(str::to_owned).collect();
                check(&path[0])?;
                q.orderby.push(OrderKey { path, descending });
            }
        }
        if let Some(v) = input.get("$select") {
            let names = list(v);
            if !names.iter().any(|n| n == "*") && !names.is_empty() {
                for n in &names {
                    check(n)?;
                }
                q.select = Some(names);
            }
        }
        if let Some(Value::String(s)) = input.get("$search") {
            let s = s.trim().trim_matches('"').to_lowercase();
            if !s.is_empty() {
                q.search = Some(s);
            }
        }
        Ok(q)
    }

    /// Whether `row` passes `$filter` and `$search`.
    pub fn keeps(&self, row: &Value) -> bool {
        if let Some(f) = &self.filter {
            if !f.matches(row) {
                return false;
            }
        }
        if let Some(term) = &self.search {
            let hit = row.as_object().is_some_and(|o| {
                o.values()
                    .filter_map(Value::as_str)
                    .any(|s| s.to_lowercase().contains(term))
            });
            if !hit {
                return false;
            }
        }
        true
    }

    /// The order `$orderby` puts two rows in.
    pub fn order(&self, a: &Value, b: &Value) -> Ordering {
        for key in &self.orderby {
            let (x, y) = (lookup(a, &key.path), lookup(b, &key.path));
            let o = match (x, y) {
                (Value::Null, Value::Null) => Ordering::Equal,
                // Nulls first in ascending order, as SQL Server does.
                (Value::Null, _) => Ordering::Less,
                (_, Value::Null) => Ordering::Greater,
                (x, y) => filter::compare(x, y).unwrap_or(Ordering::Equal),
            };
            let o = if key.descending { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Reads `$expand` of `input` against the rows' navigation properties: unknown names are
    /// refused; the navigation properties not expanded are left out of the answers.
    pub fn navigation(
        mut self,
        input: &Map<String, Value>,
        navigation: &BTreeSet<String>,
    ) -> Result<QueryOptions, String> {
        if let Some(v) = input.get("$expand") {
            for item in list(v) {
                // `Groups($select=Name)`: the property name; nested options are not applied.
                let name = item.split('(').next().unwrap_or("").trim().to_owned();
                if name == "*" {
                    self.expand.extend(navigation.iter().cloned());
                    continue;
                }
                if !navigation.contains(&name) {
                    return Err(format!(
                        "$expand: '{name}' is not a navigation property of this entity (it has: {})",
                        navigation.iter().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
                self.expand.push(name);
            }
        }
        self.hidden = navigation
            .iter()
            .filter(|n| !self.expand.contains(n))
            .cloned()
            .collect();
        Ok(self)
    }

    /// `$select` and `$expand` applied to one row.
    pub fn project(&self, row: Value) -> Value {
        match (&self.select, row) {
            (None, Value::Object(mut obj)) if !self.hidden.is_empty() => {
                obj.retain(|k, _| !self.hidden.contains(k));
                Value::Object(obj)
            }
            (Some(_), row @ Value::Object(_)) => self.project_ref(&row),
            (_, row) => row,
        }
    }

    /// `$select` and `$expand` applied to a borrowed row: only the fields kept are copied.
    fn project_ref(&self, row: &Value) -> Value {
        match (&self.select, row) {
            (Some(names), Value::Object(obj)) => Value::Object(
                names
                    .iter()
                    .chain(self.expand.iter().filter(|e| !names.contains(e)))
                    .filter_map(|n| obj.get(n).map(|v| (n.clone(), v.clone())))
                    .collect(),
            ),
            (None, Value::Object(obj)) if !self.hidden.is_empty() => Value::Object(
                obj.iter()
                    .filter(|(k, _)| !self.hidden.contains(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            (_, row) => row.clone(),
        }
    }

    /// Filter, order, count, page and project `rows`. Works on references and copies only the
    /// rows of the page: a list of 10,000 users costs a scan, not a copy of the table.
    pub fn apply<'a>(&self, rows: impl IntoIterator<Item = &'a Value>) -> Page {
        let mut kept: Vec<&Value> = rows.into_iter().filter(|r| self.keeps(r)).collect();
        if !self.orderby.is_empty() {
            kept.sort_by(|a, b| self.order(a, b));
        }
        let matched = kept.len() as u64;
        let items = kept
            .into_iter()
            .skip(usize::try_from(self.skip).unwrap_or(usize::MAX))
            .take(
                self.top
                    .map_or(usize::MAX, |t| usize::try_from(t).unwrap_or(usize::MAX)),
            )
            .map(|r| self.project_ref(r))
            .collect();
        Page { items, matched }
    }
}

fn lookup<'a>(row: &'a Value, path: &[String]) -> &'a Value {
    let mut v = row;
    for p in path {
        match v.get(p) {
            Some(next) => v = next,
            None => return &Value::Null,
        }
    }
    v
}

/// The OData collection answer: `{"@odata.count"?: n, "value": [...]}`.
pub fn collection(items: Vec<Value>, count: Option<u64>, next_link: Option<String>) -> Value {
    let mut out = Map::new();
    if let Some(n) = count {
        out.insert("@odata.count".to_owned(), Value::from(n));
    }
    out.insert("value".to_owned(), Value::Array(items));
    if let Some(link) = next_link {
        out.insert("@odata.nextLink".to_owned(), Value::String(link));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn navigation_only_when_expanded_also_with_select() {
        let nav: BTreeSet<String> = ["Groups".to_owned()].into();
        let row = json!({"Id": 1, "Number": "100", "Groups": [{"GroupId": 1}]});
        let plain = QueryOptions::default()
            .navigation(&Map::new(), &nav)
            .unwrap();
        assert_eq!(
            plain.project(row.clone()),
            json!({"Id": 1, "Number": "100"})
        );
        let input = json!({"$expand": "Groups", "$select": "Number"});
        let both = QueryOptions::from_input(input.as_object().unwrap(), None)
            .unwrap()
            .navigation(input.as_object().unwrap(), &nav)
            .unwrap();
        assert_eq!(
            both.project(row.clone()),
            json!({"Number": "100", "Groups": [{"GroupId": 1}]})
        );
        assert_eq!(
            both.apply([&row]).items,
            [json!({"Number": "100", "Groups": [{"GroupId": 1}]})]
        );
        let bad = json!({"$expand": "Nope"});
        assert!(QueryOptions::default()
            .navigation(bad.as_object().unwrap(), &nav)
            .is_err());
    }

    fn rows() -> Vec<Value> {
        vec![
            json!({"Id": 1, "Number": "101", "LastName": "Byron", "Enabled": true}),
            json!({"Id": 2, "Number": "100", "LastName": "Austen", "Enabled": false}),
            json!({"Id": 3, "Number": "102", "LastName": "Byron", "Enabled": true}),
            json!({"Id": 4, "Number": "103", "LastName": null, "Enabled": true}),
        ]
    }

    fn q(input: Value) -> QueryOptions {
        QueryOptions::from_input(input.as_object().unwrap(), None).unwrap()
    }

    #[test]
    fn filter_order_page_select() {
        let page = q(json!({
            "$filter": "Enabled eq true",
            "$orderby": "LastName desc,Id desc",
            "$skip": 1, "$top": 1, "$count": true,
            "$select": ["Id", "LastName"]
        }))
        .apply(&rows());
        assert_eq!(page.matched, 3);
        assert_eq!(page.items, [json!({"Id": 1, "LastName": "Byron"})]);
    }

    #[test]
    fn nulls_sort_first_ascending() {
        let page = q(json!({"$orderby": ["LastName", "Id desc"]})).apply(&rows());
        let ids: Vec<_> = page
            .items
            .iter()
            .map(|r| r["Id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [4, 2, 3, 1]);
    }

    #[test]
    fn search_matches_any_text_field() {
        let page = q(json!({"$search": "aus"})).apply(&rows());
        assert_eq!(page.matched, 1);
    }

    #[test]
    fn unknown_properties_are_refused() {
        let known: BTreeSet<String> = ["Id", "Number"].iter().map(|s| s.to_string()).collect();
        for input in [
            json!({"$filter": "Nope eq 1"}),
            json!({"$orderby": "Nope"}),
            json!({"$select": "Id,Nope"}),
        ] {
            let e = QueryOptions::from_input(input.as_object().unwrap(), Some(&known)).unwrap_err();
            assert!(e.contains("'Nope'"), "{e}");
        }
        assert!(QueryOptions::from_input(
            json!({"$orderby": "Id sideways"}).as_object().unwrap(),
            None
        )
        .is_err());
    }
}
