//! `--output csv` of `threecx call`: RFC 4180 text (the `csv` crate does the quoting) with one
//! header row taken from the action's output model, not from the answer, so the columns are the
//! same whatever a page holds (an empty first page, items without some properties).
//!
//! Columns: the model's properties in the order the registry's output schema gives them, which
//! is sorted by name (the `schemas/` files store `properties` sorted, so the spec's declared
//! order is not available at run time); navigation properties (`Groups` of a user) only when
//! `$expand`ed, since the PBX leaves them out otherwise. With `$select`, exactly the selected
//! properties, in the order selected (then any `$expand`ed ones).
//!
//! Cells: text as is, numbers and booleans as JSON writes them, objects and arrays as compact
//! JSON text, null or a missing property as an empty field. Properties the model does not know
//! (a newer PBX) are left out, with one note on stderr.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::rc::Rc;

use serde_json::{Map, Value};
use threecx_ops::core::ResponseKind;
use threecx_ops::registry_api::{schema_view, PreparedCall, Registry};

use crate::exit::{CliError, CliResult};

/// The header of a CSV answer, and how each item becomes a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    names: Vec<String>,
}

impl Columns {
    /// The columns of `call`'s answer, from its output schema and its `$select`/`$expand`; a
    /// usage error (before anything is sent) when the answer is not made of objects.
    pub fn of(registry: &Registry, call: &PreparedCall<'_>) -> CliResult<Columns> {
        let schema = registry.output_schema_ref(call.op());
        let root: &Value = &schema;
        let model = match call.response_kind() {
            Some(ResponseKind::Collection) => schema_view::property_schema(root, root, "value")
                .map(|v| schema_view::deref(v, root))
                .and_then(|v| v.get("items")),
            Some(ResponseKind::Json) | None => Some(root),
            Some(ResponseKind::Empty) | Some(ResponseKind::Download) => None,
        };
        let properties = model
            .map(|m| schema_view::property_names(m, root))
            .unwrap_or_default();
        let Some(model) = model.filter(|_| !properties.is_empty()) else {
            return Err(not_tabular(&call.meta().label()));
        };
        let navigation: BTreeSet<&str> = properties
            .iter()
            .filter(|p| is_navigation(schema_view::property_schema(model, root, p)))
            .map(String::as_str)
            .collect();
        let selected = names_of(call.input().get("$select"));
        let expanded: Vec<String> = names_of(call.input().get("$expand"))
            .into_iter()
            .filter(|n| properties.contains(n))
            .collect();
        let mut names: Vec<String> = if selected.is_empty() {
            properties
                .iter()
                .filter(|p| !navigation.contains(p.as_str()))
                .cloned()
                .collect()
        } else {
            selected
        };
        for name in expanded {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(Columns { names })
    }

    /// Columns named by the keys of `object` (in its order): for answers that are not an
    /// action's model, such as the summary of `--out`.
    pub fn of_keys(object: &Map<String, Value>) -> Columns {
        Columns {
            names: object.keys().cloned().collect(),
        }
    }

    #[cfg(test)]
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Writes CSV records to any `Write`, record by record: each record is encoded into a small
/// buffer that is handed on at once, so nothing but the current row is held.
pub struct CsvRows {
    columns: Columns,
    encoder: csv::Writer<Encoded>,
    /// What `encoder` wrote and was not handed on yet.
    encoded: Rc<RefCell<Vec<u8>>>,
    unknown_noted: bool,
}

/// The encoder's output buffer, shared with [`CsvRows`] so it can be emptied after each record.
struct Encoded(Rc<RefCell<Vec<u8>>>);

impl Write for Encoded {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl CsvRows {
    pub fn new(columns: Columns) -> CsvRows {
        let encoded = Rc::new(RefCell::new(Vec::with_capacity(1024)));
        CsvRows {
            columns,
            encoder: csv::WriterBuilder::new()
                .flexible(false)
                .from_writer(Encoded(Rc::clone(&encoded))),
            encoded,
            unknown_noted: false,
        }
    }

    /// The header row.
    pub fn write_header(&mut self, out: &mut impl Write) -> io::Result<()> {
        self.encoder
            .write_record(&self.columns.names)
            .map_err(csv_error)?;
        self.hand_on(out)
    }

    /// One item as a row; an item that is not an object is refused.
    pub fn write_item(&mut self, out: &mut impl Write, item: &Value) -> CliResult {
        let Value::Object(object) = item else {
            return Err(CliError::usage(format!(
                "--output csv needs objects, but an item of the answer is {}",
                kind_of(item)
            ))
            .hint("use --output json or ndjson for this action"));
        };
        if !self.unknown_noted {
            self.note_unknown(object);
        }
        let cells = self
            .columns
            .names
            .iter()
            .map(|name| object.get(name).map(cell).unwrap_or_default());
        self.encoder.write_record(cells).map_err(csv_error)?;
        self.hand_on(out)?;
        Ok(())
    }

    /// Moves the encoded record(s) to `out`.
    fn hand_on(&mut self, out: &mut impl Write) -> io::Result<()> {
        self.encoder.flush()?;
        let mut encoded = self.encoded.borrow_mut();
        out.write_all(&encoded)?;
        encoded.clear();
        Ok(())
    }

    fn note_unknown(&mut self, object: &Map<String, Value>) {
        let unknown: Vec<&str> = object
            .keys()
            .filter(|k| !k.starts_with('@') && !self.columns.names.contains(k))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            eprintln!(
                "note: left out of the CSV (not in the action's model or not selected): {}",
                unknown.join(", ")
            );
            self.unknown_noted = true;
        }
    }
}

/// A whole (non-paged) answer as CSV: a collection's items (or a JSON array) one row each, an
/// object one row; anything else is a usage error.
pub fn write_answer(out: &mut impl Write, columns: Columns, value: &Value) -> CliResult {
    let has_columns = !columns.names.is_empty();
    let mut rows = CsvRows::new(columns);
    let items: Vec<&Value> = match crate::output::items_of(value) {
        Some(items) => items.iter().collect(),
        None if value.is_object() && has_columns => vec![value],
        None => {
            return Err(CliError::usage(format!(
                "--output csv needs an object or a list of objects, but the answer is {}",
                kind_of(value)
            ))
            .hint("use --output json for this action"))
        }
    };
    rows.write_header(out)?;
    for item in items {
        rows.write_item(out, item)?;
    }
    Ok(())
}

/// An object (a summary of `--out`) as one header and one row, its keys as columns; anything
/// else is a usage error.
pub fn write_object(out: &mut impl Write, value: &Value) -> CliResult {
    let columns = match value {
        Value::Object(object) => Columns::of_keys(object),
        _ => Columns { names: Vec::new() },
    };
    write_answer(out, columns, value)
}

/// The text of one cell.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Property names of a `$select` or `$expand` input: an array of names, or one text with names
/// separated by commas; `Groups($select=Name)` and `Groups/Members` count as `Groups`.
fn names_of(option: Option<&Value>) -> Vec<String> {
    let parts: Vec<String> = match option {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(text)) => split_top_level(text),
        _ => Vec::new(),
    };
    let mut names = Vec::new();
    for part in parts {
        let name = part
            .split(['(', '/'])
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// `a,b(c,d),e` → `a`, `b(c,d)`, `e`: commas inside parentheses do not split.
fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().expect("never empty").push(c);
    }
    parts
}

/// Whether a property schema is marked as a navigation property (directly or in a nullable
/// `anyOf` branch).
fn is_navigation(property: Option<&Value>) -> bool {
    let marked = |s: &Value| s.get("x-threecx-navigation") == Some(&Value::Bool(true));
    property.is_some_and(|p| {
        marked(p)
            || p.get("anyOf")
                .and_then(Value::as_array)
                .is_some_and(|branches| branches.iter().any(marked))
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null (no content)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn not_tabular(label: &str) -> CliError {
    CliError::usage(format!(
        "--output csv needs an answer made of objects with known properties, but {label} does \
         not return one"
    ))
    .hint("use --output json (or ndjson) for this action")
}

fn csv_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(columns: &[&str], value: &Value) -> String {
        let columns = Columns {
            names: columns.iter().map(|c| (*c).to_owned()).collect(),
        };
        let mut out = Vec::new();
        write_answer(&mut out, columns, value).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quoting_nesting_and_nulls() {
        let value = json!({"value": [
            {"Id": 1, "Name": "O'Brien, \"Bob\"", "Groups": [{"Id": 2}], "Note": null},
            {"Id": 2, "Name": "line\nbreak", "Extra": true},
        ]});
        assert_eq!(
            render(&["Id", "Name", "Groups", "Note"], &value),
            "Id,Name,Groups,Note\n1,\"O'Brien, \"\"Bob\"\"\",\"[{\"\"Id\"\":2}]\",\n\
             2,\"line\nbreak\",,\n"
        );
    }

    #[test]
    fn one_object_is_one_row_and_scalars_are_refused() {
        assert_eq!(
            render(&["a", "b"], &json!({"a": 1.5, "b": false})),
            "a,b\n1.5,false\n"
        );
        assert_eq!(render(&["a"], &json!({"value": []})), "a\n");
        let mut out = Vec::new();
        let err = write_answer(&mut out, Columns::of_keys(&Map::new()), &json!(42)).unwrap_err();
        assert_eq!(err.code(), crate::exit::USAGE);
        assert!(out.is_empty());
    }

    #[test]
    fn select_and_expand_names() {
        assert_eq!(names_of(Some(&json!(["Number", "Id"]))), ["Number", "Id"]);
        assert_eq!(
            names_of(Some(&json!("Groups($select=Name,Id),Phones/Model, Id"))),
            ["Groups", "Phones", "Id"]
        );
        assert!(names_of(None).is_empty());
    }

    #[test]
    fn columns_follow_the_model_and_the_select() {
        let registry = threecx_ops::registry();
        let op = registry.find("Users", "List User").unwrap();
        let call = registry.prepare(op, json!({})).unwrap();
        let all = Columns::of(registry, &call).unwrap();
        assert!(all.names().windows(2).all(|w| w[0] < w[1]), "sorted");
        assert!(all.names().contains(&"Number".to_owned()));
        assert!(
            !all.names().contains(&"Phones".to_owned()),
            "navigation left out"
        );

        let call = registry
            .prepare(
                op,
                json!({"$select": ["Number", "Id"], "$expand": "Phones"}),
            )
            .unwrap();
        assert_eq!(
            Columns::of(registry, &call).unwrap().names(),
            ["Number", "Id", "Phones"]
        );

        let purge = registry.find("Purge Settings", "Purge Chats").unwrap();
        let call = registry
            .prepare(purge, json!({"period": {"All": true}}))
            .unwrap();
        assert_eq!(
            Columns::of(registry, &call).unwrap_err().code(),
            crate::exit::USAGE
        );
    }
}
