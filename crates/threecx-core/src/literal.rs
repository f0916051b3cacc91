//! OData literals in URL paths: `Users(Number='100')`, `Backups('a.zip')`, `GetX(from=2024-01-01T00:00:00Z)`.
//!
//! The spec types keys and function parameters only as "string", so clients that paste the raw
//! value into the path are both wrong (`Users(Number=100)` is a 404 on 3CX) and unsafe (a value
//! such as `1)/Pbx.BatchDelete` would change which action runs). Here every value becomes one
//! literal: strings are quoted with inner quotes doubled, then everything outside a small safe set
//! is percent-encoded, so no value can contribute `/`, `(`, `)`, `,`, `=`, `?` or `#` to the path.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

/// How a path value is written: OData `Edm.String` is quoted, numbers, booleans, date-times,
/// GUIDs and durations are bare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    Quoted,
    Bare,
}

/// Characters left as they are inside a path literal: RFC 3986 unreserved, plus `'` (the OData
/// quote, which must reach the server as is) and `:` (date-time separators). Everything else,
/// notably the OData delimiters `( ) , = /` and `%`, is percent-encoded.
const PATH_LITERAL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'\'')
    .remove(b':');

/// Characters left as they are in a query option value. `$filter` values carry spaces, quotes and
/// parentheses; spaces go as `%20` (not `+`, which OData would read as a literal plus). A quote
/// goes as `%27`: the URL parser under the HTTP client encodes it so in a query anyway (WHATWG's
/// special-query set), and writing it that way here makes `--dry-run` show the very bytes sent.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b',')
    .remove(b'(')
    .remove(b')')
    .remove(b'$')
    .remove(b'/');

/// Why a JSON value cannot be a path literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralError {
    pub expected: &'static str,
}

/// The OData literal of `value`, before percent-encoding: `'O''Brien'`, `100`, `true`, `null`.
pub fn odata_literal(value: &Value, literal: Literal) -> Result<String, LiteralError> {
    match (value, literal) {
        (Value::Null, _) => Ok("null".to_owned()),
        (Value::String(s), Literal::Quoted) => Ok(quote(s)),
        (Value::String(s), Literal::Bare) => Ok(s.clone()),
        (Value::Number(n), Literal::Bare) => Ok(n.to_string()),
        (Value::Bool(b), Literal::Bare) => Ok(b.to_string()),
        // A number given for a string key is still a string to OData: `Number='100'`.
        (Value::Number(n), Literal::Quoted) => Ok(quote(&n.to_string())),
        (Value::Bool(b), Literal::Quoted) => Ok(quote(&b.to_string())),
        (Value::Array(_) | Value::Object(_), _) => Err(LiteralError {
            expected: "a string, number or boolean",
        }),
    }
}

/// `'...'` with every `'` inside doubled, as OData requires.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The literal, percent-encoded for use inside a path segment.
pub fn encode_path_literal(value: &Value, literal: Literal) -> Result<String, LiteralError> {
    let mut out = String::new();
    push_path_literal(&mut out, value, literal)?;
    Ok(out)
}

/// [`encode_path_literal`] appended to `out`: every request builds its path this way, with no
/// string of its own per value. Quoting commutes with percent-encoding here (`'` is left as
/// is), and numbers, booleans and `null` are written only with characters left as they are.
pub(crate) fn push_path_literal(
    out: &mut String,
    value: &Value,
    literal: Literal,
) -> Result<(), LiteralError> {
    let quoted = literal == Literal::Quoted;
    let quote_if = |out: &mut String| {
        if quoted {
            out.push('\'');
        }
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::String(s) if quoted => {
            out.push('\'');
            for (i, part) in s.split('\'').enumerate() {
                if i > 0 {
                    out.push_str("''");
                }
                out.extend(utf8_percent_encode(part, PATH_LITERAL));
            }
            out.push('\'');
        }
        Value::String(s) => out.extend(utf8_percent_encode(s, PATH_LITERAL)),
        Value::Number(n) => {
            quote_if(out);
            push_number(out, n, PATH_LITERAL);
            quote_if(out);
        }
        Value::Bool(b) => {
            quote_if(out);
            out.push_str(bool_text(*b));
            quote_if(out);
        }
        Value::Array(_) | Value::Object(_) => {
            return Err(LiteralError {
                expected: "a string, number or boolean",
            })
        }
    }
    Ok(())
}

/// Percent-encodes a query option value (`$filter=Number eq '100'` → `Number%20eq%20%27100%27`).
pub fn encode_query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// [`encode_query_value`] appended to `out`.
pub(crate) fn push_query_value(out: &mut String, value: &str) {
    out.extend(utf8_percent_encode(value, QUERY_VALUE));
}

/// A boolean as JSON writes it: no character of it needs encoding anywhere.
pub(crate) fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// A number of a query option, as JSON writes it, percent-encoded.
pub(crate) fn push_query_number(out: &mut String, n: &serde_json::Number) {
    push_number(out, n, QUERY_VALUE);
}

/// A JSON number as JSON writes it, percent-encoded with `set`. Integers (ids, counts: nearly
/// every number in a request) are written directly, without the formatting machinery.
pub(crate) fn push_number(out: &mut String, n: &serde_json::Number, set: &'static AsciiSet) {
    let mut digits = itoa::Buffer::new();
    if let Some(i) = n.as_i64() {
        out.push_str(digits.format(i));
    } else if let Some(u) = n.as_u64() {
        out.push_str(digits.format(u));
    } else {
        push_display(out, n, set);
    }
}

/// `value` as text, percent-encoded with `set`. Usually only letters, digits, `-` and `.`,
/// which no set here encodes, so it is written as is; anything else (the `+` of some exponents)
/// is encoded.
fn push_display(out: &mut String, value: impl std::fmt::Display, set: &'static AsciiSet) {
    use std::fmt::Write;
    let start = out.len();
    write!(out, "{value}").expect("writing to a String cannot fail");
    let plain = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    if !out[start..].bytes().all(plain) {
        let raw = out.split_off(start);
        out.extend(utf8_percent_encode(&raw, set));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_quoted_and_inner_quotes_doubled() {
        assert_eq!(
            odata_literal(&json!("100"), Literal::Quoted).unwrap(),
            "'100'"
        );
        assert_eq!(
            odata_literal(&json!("O'Brien"), Literal::Quoted).unwrap(),
            "'O''Brien'"
        );
        assert_eq!(odata_literal(&json!(""), Literal::Quoted).unwrap(), "''");
    }

    #[test]
    fn bare_values_stay_bare() {
        assert_eq!(odata_literal(&json!(42), Literal::Bare).unwrap(), "42");
        assert_eq!(odata_literal(&json!(true), Literal::Bare).unwrap(), "true");
        assert_eq!(
            odata_literal(&json!("2024-01-01T00:00:00Z"), Literal::Bare).unwrap(),
            "2024-01-01T00:00:00Z"
        );
        assert_eq!(
            odata_literal(&Value::Null, Literal::Quoted).unwrap(),
            "null"
        );
    }

    #[test]
    fn appended_literals_are_the_encoded_odata_literals() {
        let values = [
            json!("100"),
            json!("O'Brien"),
            json!("''"),
            json!(""),
            json!("1)/Pbx.BatchDelete"),
            json!("x') or ('1'='1"),
            json!("caf\u{e9} \u{1F600} %2F ~-._:"),
            json!(42),
            json!(-7),
            json!(1.5e-7),
            json!(1e300),
            json!(-2.5e+200),
            json!(f64::MAX),
            json!(12345678901234567890u64),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(0),
            json!(true),
            json!(null),
        ];
        for value in &values {
            for literal in [Literal::Quoted, Literal::Bare] {
                let raw = odata_literal(value, literal).unwrap();
                let expected = utf8_percent_encode(&raw, PATH_LITERAL).to_string();
                let mut out = "prefix/".to_owned();
                push_path_literal(&mut out, value, literal).unwrap();
                assert_eq!(out, format!("prefix/{expected}"), "{value} {literal:?}");
            }
        }
    }

    #[test]
    fn structural_characters_are_encoded() {
        let enc = encode_path_literal(&json!("1)/Pbx.BatchDelete"), Literal::Quoted).unwrap();
        assert_eq!(enc, "'1%29%2FPbx.BatchDelete'");
        let enc = encode_path_literal(&json!("x') or ('1'='1"), Literal::Quoted).unwrap();
        assert_eq!(enc, "'x''%29%20or%20%28''1''%3D''1'");
        for bad in ['/', '(', ')', ',', '=', '?', '#', '&', '%', ' '] {
            assert!(!enc.contains(bad) || bad == '%', "{bad} leaked into {enc}");
        }
    }

    #[test]
    fn containers_are_not_literals() {
        assert!(odata_literal(&json!([1]), Literal::Bare).is_err());
        assert!(odata_literal(&json!({"a": 1}), Literal::Quoted).is_err());
    }

    #[test]
    fn query_values_are_what_the_url_parser_sends() {
        // The URL as reqwest puts it on the wire equals the URL as built: nothing re-encoded.
        for value in ["Number eq 'O''Brien'", "a&b=c#d é", "x+y (1,2) $/:~"] {
            let url = format!(
                "https://pbx/xapi/v1/Users?$filter={}",
                encode_query_value(value)
            );
            assert_eq!(url::Url::parse(&url).unwrap().as_str(), url, "{value}");
        }
        let path = format!(
            "https://pbx/xapi/v1/Users(Number={})",
            encode_path_literal(&json!("O'B é/ 1"), Literal::Quoted).unwrap()
        );
        assert_eq!(url::Url::parse(&path).unwrap().as_str(), path);
    }

    #[test]
    fn query_values_use_percent_twenty_for_spaces() {
        assert_eq!(
            encode_query_value("Number eq '100' and x+y"),
            "Number%20eq%20%27100%27%20and%20x%2By"
        );
        assert_eq!(encode_query_value("a&b=c#d"), "a%26b%3Dc%23d");
    }
}
