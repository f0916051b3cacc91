//! OData literals as they appear in a request path (keys and function parameters), read back
//! into JSON values: `'O''Brien'` → `"O'Brien"`, `42` → `42`, `true`, `null`, and bare
//! date-times, GUIDs and durations as strings.

use serde_json::Value;

/// One literal as written in the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawLiteral {
    /// `'...'`, with the inner `''` already turned back into `'`.
    Quoted(String),
    /// Anything else: `42`, `true`, `null`, `2024-01-01T00:00:00Z`.
    Bare(String),
}

/// Reads one literal at the start of `s`; returns it and how many bytes it took. `None` when
/// there is no literal (an empty value, an unterminated quote).
pub fn read_literal(s: &str) -> Option<(RawLiteral, usize)> {
    if let Some(rest) = s.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some((RawLiteral::Quoted(out), i + 2));
                }
            } else {
                out.push(c);
            }
        }
        return None;
    }
    let end = s.find([',', ')', '(', '/', '=', '\'']).unwrap_or(s.len());
    let text = s[..end].trim();
    if text.is_empty() {
        return None;
    }
    Some((RawLiteral::Bare(text.to_owned()), end))
}

/// The JSON value of a bare literal: `null`, booleans, integers, decimals; anything else
/// (date-times, GUIDs, durations, enum names) as a string.
pub fn bare_value(text: &str) -> Value {
    match text {
        "null" => return Value::Null,
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    let numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if numeric {
        if let Some(n) = text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    Value::String(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quoted_strings_undouble_quotes() {
        assert_eq!(
            read_literal("'O''Brien')"),
            Some((RawLiteral::Quoted("O'Brien".into()), 10))
        );
        assert_eq!(
            read_literal("''"),
            Some((RawLiteral::Quoted(String::new()), 2))
        );
        assert_eq!(
            read_literal("'a,b)/c'"),
            Some((RawLiteral::Quoted("a,b)/c".into()), 8))
        );
        assert_eq!(read_literal("'open"), None);
        assert_eq!(
            read_literal("'x'''"),
            Some((RawLiteral::Quoted("x'".into()), 5))
        );
        assert_eq!(read_literal("'x''"), None, "a doubled quote does not close");
    }

    #[test]
    fn bare_literals_stop_at_delimiters() {
        assert_eq!(
            read_literal("42)"),
            Some((RawLiteral::Bare("42".into()), 2))
        );
        assert_eq!(
            read_literal("2024-01-01T00:00:00Z,x"),
            Some((RawLiteral::Bare("2024-01-01T00:00:00Z".into()), 20))
        );
        assert_eq!(read_literal(")"), None);
        assert_eq!(read_literal(""), None);
    }

    #[test]
    fn bare_values() {
        assert_eq!(bare_value("null"), Value::Null);
        assert_eq!(bare_value("true"), json!(true));
        assert_eq!(bare_value("false"), json!(false));
        assert_eq!(bare_value("-12"), json!(-12));
        assert_eq!(bare_value("1.5"), json!(1.5));
        assert_eq!(
            bare_value("2024-01-01T00:00:00Z"),
            json!("2024-01-01T00:00:00Z")
        );
        assert_eq!(bare_value("PT0S"), json!("PT0S"));
        assert_eq!(
            bare_value("00000000-0000-0000-0000-000000000000"),
            json!("00000000-0000-0000-0000-000000000000")
        );
    }
}
