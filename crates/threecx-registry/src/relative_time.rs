//! Relative date-times in by-name inputs: `now`, `today`, `now-90d`, `today-1y`, `now+12h`.
//!
//! Retention jobs run unattended ("purge what is older than 90 days"), so a fixed date in a
//! cron line or a workflow is wrong the next day. Front ends (CLI, gateway, MCP) call
//! [`resolve_relative_times`] on the input *before* [`Registry::prepare`]; every string at a
//! place whose schema is a date-time and that reads as a relative time becomes an RFC 3339 UTC
//! date-time. Anything else is left as it is, so validation then refuses it as usual, naming
//! the field. Typed calls never go through here: a typed field already holds a real date-time.
//!
//! Grammar (lower case, no spaces):
//!
//! ```text
//! relative = base [ sign count unit ]
//! base     = "now"            the current time, to the second
//!          | "today"          00:00:00 UTC of the current day
//! sign     = "+" | "-"
//! count    = 1*DIGIT
//! unit     = "s" | "m" | "min" | "h" | "d" | "w" | "mo" | "y"
//!            (seconds, minutes, minutes, hours, days, weeks, months, years)
//! ```
//!
//! Seconds to weeks are fixed lengths. Months and years are calendar arithmetic: the same day
//! of the month N months (12·N for years) away, the last day of that month when it has no such
//! day (`2024-03-31` − 1 month = `2024-02-29`). A result out of range stays unresolved.

/// The date-time types of [`resolve_relative_times`]'s `now` (chrono's), for callers.
pub use chrono::{DateTime, Utc};
use chrono::{Months, SecondsFormat, TimeDelta, Timelike};
use serde_json::Value;

use crate::operation::Operation;
use crate::schema::string_kind;
use crate::schema_view::{deref, property_schema};
use crate::Registry;

/// One relative time that was replaced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResolvedTime {
    /// JSON pointer of the field in the input (`/period/Stop`).
    pub pointer: String,
    /// What the input said (`now-90d`).
    pub relative: String,
    /// What it became (`2026-08-29T12:00:00Z`).
    pub value: String,
}

/// `text` as a relative time at `now`, or `None` when it is not one (or out of range).
pub fn parse_relative(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (base, rest) = if let Some(rest) = text.strip_prefix("now") {
        (now, rest)
    } else if let Some(rest) = text.strip_prefix("today") {
        (now.date_naive().and_hms_opt(0, 0, 0)?.and_utc(), rest)
    } else {
        return None;
    };
    let base = base.with_nanosecond(0)?;
    if rest.is_empty() {
        return Some(base);
    }
    let mut chars = rest.chars();
    let negative = match chars.next()? {
        '+' => false,
        '-' => true,
        _ => return None,
    };
    let rest = chars.as_str();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let count: u32 = rest[..digits].parse().ok()?;
    let fixed = |seconds_per_unit: i64| {
        let delta = TimeDelta::try_seconds(i64::from(count).checked_mul(seconds_per_unit)?)?;
        if negative {
            base.checked_sub_signed(delta)
        } else {
            base.checked_add_signed(delta)
        }
    };
    let calendar = |months: u32| {
        let months = Months::new(months);
        if negative {
            base.checked_sub_months(months)
        } else {
            base.checked_add_months(months)
        }
    };
    match &rest[digits..] {
        "s" => fixed(1),
        "m" | "min" => fixed(60),
        "h" => fixed(3600),
        "d" => fixed(86_400),
        "w" => fixed(7 * 86_400),
        "mo" => calendar(count),
        "y" => calendar(count.checked_mul(12)?),
        _ => None,
    }
}

/// The current time, for [`resolve_relative_times`]'s `now` at call time.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// RFC 3339 in UTC to the second: `2026-08-29T12:00:00Z`.
pub fn format_utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Replaces, in `input`, every relative time (see the module documentation) that stands where
/// `schema_root` (a self-contained input schema, `$ref`s into its `$defs`) expects a
/// date-time, in nested objects and arrays too; returns what was replaced, in input order.
pub fn resolve_relative_times(
    schema_root: &Value,
    input: &mut Value,
    now: DateTime<Utc>,
) -> Vec<ResolvedTime> {
    let mut out = Vec::new();
    walk(
        schema_root,
        schema_root,
        input,
        &mut String::new(),
        now,
        &mut out,
        0,
    );
    out
}

/// Nesting followed at most (schemas can be recursive; inputs are small).
const MAX_DEPTH: usize = 32;

fn walk(
    schema: &Value,
    root: &Value,
    value: &mut Value,
    pointer: &mut String,
    now: DateTime<Utc>,
    out: &mut Vec<ResolvedTime>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let schema = deref(schema, root);
    match value {
        Value::String(text) => {
            let is_date_time = schema
                .as_object()
                .is_some_and(|s| string_kind(s) == Some("date-time"));
            if !is_date_time {
                return;
            }
            if let Some(at) = parse_relative(text, now) {
                let value = format_utc(at);
                out.push(ResolvedTime {
                    pointer: pointer.clone(),
                    relative: std::mem::replace(text, value.clone()),
                    value,
                });
            }
        }
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let Some(child_schema) = property_schema(schema, root, key) else {
                    continue;
                };
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                walk(child_schema, root, child, pointer, now, out, depth + 1);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            let Some(item_schema) = schema.get("items") else {
                return;
            };
            for (i, child) in items.iter_mut().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                walk(item_schema, root, child, pointer, now, out, depth + 1);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

impl Registry {
    /// [`resolve_relative_times`] with `op`'s input schema: call it on a by-name input before
    /// [`Registry::prepare`] (which does not, so typed calls are unchanged). A front end that
    /// also prepares the call uses [`crate::ActionRef::resolve_relative_times`] (one lookup).
    pub fn resolve_relative_times(
        &self,
        op: &dyn Operation,
        input: &mut Value,
        now: DateTime<Utc>,
    ) -> Vec<ResolvedTime> {
        resolve_relative_times(&self.input_schema_ref(op), input, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn rel(text: &str, now: &str) -> Option<String> {
        parse_relative(text, at(now)).map(format_utc)
    }

    const NOW: &str = "2026-11-27T12:34:56.789Z";

    #[test]
    fn grammar() {
        for (text, want) in [
            ("now", "2026-11-27T12:34:56Z"),
            ("today", "2026-11-27T00:00:00Z"),
            ("now-90d", "2026-08-29T12:34:56Z"),
            ("now+1d", "2026-11-28T12:34:56Z"),
            ("now-12h", "2026-11-27T00:34:56Z"),
            ("now-30s", "2026-11-27T12:34:26Z"),
            ("now-5m", "2026-11-27T12:29:56Z"),
            ("now-5min", "2026-11-27T12:29:56Z"),
            ("today-2w", "2026-11-13T00:00:00Z"),
            ("today-1y", "2025-11-27T00:00:00Z"),
            ("today-3mo", "2026-08-27T00:00:00Z"),
            ("now-0d", "2026-11-27T12:34:56Z"),
        ] {
            assert_eq!(rel(text, NOW).as_deref(), Some(want), "{text}");
        }
        for bad in [
            "",
            "later",
            "Now",
            "now-",
            "now-d",
            "now90d",
            "now - 90d",
            "now-90",
            "now-90x",
            "now-1.5d",
            "yesterday",
            "today-1yr",
            "2024-01-01T00:00:00Z",
            "now-99999999999999999999d",
            "now-4294967295y",
        ] {
            assert_eq!(rel(bad, NOW), None, "{bad:?}");
        }
    }

    #[test]
    fn months_and_years_are_calendar_arithmetic() {
        for (text, now, want) in [
            ("now-1mo", "2024-03-31T10:00:00Z", "2024-02-29T10:00:00Z"),
            ("today-1y", "2024-02-29T10:00:00Z", "2023-02-28T00:00:00Z"),
            ("now+2y", "2024-01-15T00:00:00Z", "2026-01-15T00:00:00Z"),
            // 90 days is not 3 months.
            ("now-90d", "2024-03-31T00:00:00Z", "2024-01-01T00:00:00Z"),
        ] {
            assert_eq!(rel(text, now).as_deref(), Some(want), "{text} at {now}");
        }
    }

    fn schema() -> Value {
        let date_time = json!({"type": ["string", "null"], "format": "date-time"});
        json!({
            "type": "object",
            "properties": {
                "period": {"$ref": "#/$defs/Period"},
                "periods": {"type": "array", "items": {"$ref": "#/$defs/Period"}},
                "maybe": {"anyOf": [{"$ref": "#/$defs/Period"}, {"type": "null"}]},
                "Name": {"type": "string"},
                "body": {"allOf": [{"$ref": "#/$defs/Entity"}]},
                "a/b": date_time,
            },
            "$defs": {
                "Period": {"type": "object", "properties": {
                    "Start": date_time, "Stop": date_time, "All": {"type": "boolean"}
                }},
                "Entity": {"type": "object", "properties": {
                    "When": {"type": "string", "pattern": "^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]$"},
                    "Note": {"type": "string"}
                }}
            }
        })
    }

    #[test]
    fn only_date_time_places_are_resolved() {
        let schema = schema();
        let mut input = json!({
            "period": {"Start": null, "Stop": "now-90d", "All": false},
            "periods": [{"Start": "today"}, {"Stop": "2024-01-01T00:00:00Z"}],
            "maybe": {"Start": "today-1y"},
            "Name": "now",
            "body": {"When": "now+1h", "Note": "today"},
            "a/b": "now",
            "unknown": "now",
        });
        let resolved = resolve_relative_times(&schema, &mut input, at(NOW));
        assert_eq!(
            input,
            json!({
                "period": {"Start": null, "Stop": "2026-08-29T12:34:56Z", "All": false},
                "periods": [{"Start": "2026-11-27T00:00:00Z"}, {"Stop": "2024-01-01T00:00:00Z"}],
                "maybe": {"Start": "2025-11-27T00:00:00Z"},
                "Name": "now",
                "body": {"When": "2026-11-27T13:34:56Z", "Note": "today"},
                "a/b": "2026-11-27T12:34:56Z",
                "unknown": "now",
            })
        );
        let mut pointers: Vec<&str> = resolved.iter().map(|r| r.pointer.as_str()).collect();
        pointers.sort_unstable();
        assert_eq!(
            pointers,
            [
                "/a~1b",
                "/body/When",
                "/maybe/Start",
                "/period/Stop",
                "/periods/0/Start"
            ]
        );
        let stop = resolved
            .iter()
            .find(|r| r.pointer == "/period/Stop")
            .unwrap();
        assert_eq!(stop.relative, "now-90d");
        assert_eq!(stop.value, "2026-08-29T12:34:56Z");
    }

    #[test]
    fn text_outside_the_grammar_is_left_for_validation() {
        let schema = schema();
        let mut input = json!({"period": {"Stop": "later"}});
        assert!(resolve_relative_times(&schema, &mut input, at(NOW)).is_empty());
        assert_eq!(input, json!({"period": {"Stop": "later"}}));
    }
}
