//! Rendering to stdout: pretty JSON, NDJSON lines, and plain text tables.

use std::io::{self, Write};

use serde_json::{Map, Value};

/// Longest cell of a table before it is cut with `…` (JSON of nested objects can be long).
const MAX_CELL: usize = 60;

/// `value` as pretty JSON plus a newline.
pub fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}

/// `value` as one compact JSON line.
pub fn write_ndjson_line(out: &mut impl Write, value: &Value) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

/// The items of an answer when it is a list: an OData collection's `value`, or a JSON array.
pub fn items_of(value: &Value) -> Option<&Vec<Value>> {
    match value {
        Value::Array(items) => Some(items),
        Value::Object(obj) => match obj.get("value") {
            Some(Value::Array(items)) if obj.keys().all(|k| k == "value" || k.starts_with('@')) => {
                Some(items)
            }
            _ => None,
        },
        _ => None,
    }
}

/// An answer as NDJSON: a list's items one per line, anything else on one line.
pub fn write_ndjson(out: &mut impl Write, value: &Value) -> io::Result<()> {
    match items_of(value) {
        Some(items) => items
            .iter()
            .try_for_each(|item| write_ndjson_line(out, item)),
        None => write_ndjson_line(out, value),
    }
}

/// An answer as a table: a list of objects gets one column per key (in order of first
/// appearance; an object's keys come sorted), an object one row per property, a scalar is printed as is, no content nothing.
pub fn write_value_table(out: &mut impl Write, value: &Value) -> io::Result<()> {
    if let Some(items) = items_of(value) {
        return write_items_table(out, items);
    }
    match value {
        Value::Null => Ok(()),
        Value::Object(obj) => {
            let rows = obj
                .iter()
                .filter(|(k, _)| !k.starts_with("@odata."))
                .map(|(k, v)| vec![printable(k), cell(v)])
                .collect::<Vec<_>>();
            write_table(out, &["PROPERTY", "VALUE"], &rows)
        }
        other => writeln!(out, "{}", cell(other)),
    }
}

/// A list as a table; items that are not objects go into one `VALUE` column.
pub fn write_items_table(out: &mut impl Write, items: &[Value]) -> io::Result<()> {
    if items.is_empty() {
        return writeln!(out, "(no items)");
    }
    if !items.iter().all(Value::is_object) {
        let rows: Vec<Vec<String>> = items.iter().map(|v| vec![cell(v)]).collect();
        return write_table(out, &["VALUE"], &rows);
    }
    let mut columns: Vec<&str> = Vec::new();
    for item in items {
        for key in item.as_object().map(Map::keys).into_iter().flatten() {
            if !key.starts_with("@odata.") && !columns.contains(&key.as_str()) {
                columns.push(key);
            }
        }
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| item.get(*c).map(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    let headers: Vec<String> = columns.iter().map(|c| printable(c)).collect();
    write_table(out, &headers, &rows)
}

/// A plain table: headers, then rows, columns padded with two spaces between them.
pub fn write_table<S: AsRef<str>>(
    out: &mut impl Write,
    headers: &[S],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h.as_ref())).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(width(c));
            }
        }
    }
    let line = |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
        let mut text = String::new();
        for (i, c) in cells.enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(c);
            if i + 1 < widths.len() {
                text.extend(std::iter::repeat_n(' ', widths[i].saturating_sub(width(c))));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &mut headers.iter().map(AsRef::as_ref))?;
    for row in rows {
        line(out, &mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

/// A JSON value as a table cell: text as is, `null` empty, anything else compact JSON; cut to
/// [`MAX_CELL`] characters, on one line.
pub fn cell(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // Line breaks and tabs read as spaces in a one-line cell; other controls are escaped.
    let text = printable(&text.replace(['\n', '\r', '\t'], " "));
    if text.chars().count() > MAX_CELL {
        let mut cut: String = text.chars().take(MAX_CELL - 1).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

/// Text from the PBX made safe for a terminal: control characters (escape sequences that could
/// recolour, move the cursor or retitle the terminal, line breaks in a cell) and bidirectional
/// overrides are shown as `\u{..}` escapes instead of acting.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn width(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn terminal_escapes_from_the_pbx_are_shown_not_obeyed() {
        let hostile = json!([{"Name\u{1b}]0;pwned\u{7}": "a\u{1b}[31mred\u{1b}[0m\r\nb"}]);
        let text = render(|out| write_value_table(out, &hostile));
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(text.contains("\\u{1b}[31mred"), "{text:?}");
        assert_eq!(text.lines().count(), 2, "one header and one row: {text:?}");
        assert!(
            text.contains("red\\u{1b}[0m  b") || text.contains("red\\u{1b}[0m b"),
            "{text:?}"
        );
    }

    fn render(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut buf = Vec::new();
        f(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn collection_table_has_columns_from_keys() {
        let v = json!({"@odata.context": "x", "value": [
            {"Id": 1, "Number": "100"},
            {"Id": 22, "Name": "Ann", "Groups": [1, 2]}
        ]});
        let text = render(|b| write_value_table(b, &v));
        assert_eq!(
            text,
            "Id  Number  Groups  Name\n1   100\n22          [1,2]   Ann\n"
        );
    }

    #[test]
    fn ndjson_splits_collections() {
        let v = json!({"value": [{"a": 1}, {"a": 2}], "@odata.count": 2});
        assert_eq!(render(|b| write_ndjson(b, &v)), "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(render(|b| write_ndjson(b, &json!({"a": 1}))), "{\"a\":1}\n");
        assert_eq!(render(|b| write_ndjson(b, &Value::Null)), "null\n");
    }

    #[test]
    fn long_cells_are_cut() {
        let long = "x".repeat(100);
        let c = cell(&json!(long));
        assert_eq!(c.chars().count(), MAX_CELL);
        assert!(c.ends_with('…'));
        assert_eq!(cell(&json!("a\nb")), "a b");
    }

    #[test]
    fn object_table_and_scalars() {
        let text = render(|b| write_value_table(b, &json!({"Id": 1, "Name": "x"})));
        assert_eq!(text, "PROPERTY  VALUE\nId        1\nName      x\n");
        assert_eq!(render(|b| write_value_table(b, &json!(42))), "42\n");
        assert_eq!(render(|b| write_value_table(b, &Value::Null)), "");
    }
}
