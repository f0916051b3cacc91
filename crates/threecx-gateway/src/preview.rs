//! The purge preview: before a purge runs, how many rows it will remove, counted through the
//! matching history view with `$filter` and `$count` (and `$top=0`: no rows come back).
//!
//! Which purge is counted where is one table, [`COUNT_RULES`]; a purge without a row there
//! has no preview. The period is read as 3CX's purge reads it (and the sandbox's, so counts
//! match what is removed): `"All": true` is everything; otherwise `Start` and `Stop` are both
//! inclusive, and a `null` or absent one leaves that side open; neither and no `All` is no
//! period (the PBX refuses such a purge), so nothing is counted.

use serde::Serialize;
use serde_json::{json, Map, Value};
use threecx_core::{Client, Error, Response};
use threecx_registry::{Operation, PreparedCall, Registry};

use crate::audit::{send_audited, AuditContext, AuditLog};

/// How one destructive action's effect is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountRule {
    /// The action counted (canonical names: spec tag and operationId).
    pub resource: &'static str,
    pub action: &'static str,
    /// The input property holding the period (`{"All", "Start", "Stop"}`).
    pub period: &'static str,
    /// The list action counting the rows (canonical names).
    pub view_resource: &'static str,
    pub view_action: &'static str,
    /// The view's date-time field the period applies to.
    pub time_field: &'static str,
    /// What a row is, in the preview's message (plural).
    pub rows: &'static str,
}

/// Every purge with a preview.
pub const COUNT_RULES: &[CountRule] = &[
    CountRule {
        resource: "PurgeSettings",
        action: "PurgeChats",
        period: "period",
        view_resource: "ChatMessagesHistoryView",
        view_action: "ListChatMessagesHistoryView",
        time_field: "TimeSent",
        rows: "chat messages",
    },
    CountRule {
        resource: "PurgeSettings",
        action: "PurgeCalls",
        period: "period",
        view_resource: "CallHistoryView",
        view_action: "ListCallHistoryView",
        time_field: "SegmentStartTime",
        rows: "call-history rows",
    },
];

/// The rule counting `op`, if it has one.
pub fn count_rule(op: &dyn Operation) -> Option<&'static CountRule> {
    let meta = op.meta();
    COUNT_RULES
        .iter()
        .find(|r| r.resource == meta.resource && r.action == meta.action)
}

/// What a purge would remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    /// Rows in the period now.
    pub count: u64,
    /// What a row is (`chat messages`).
    pub rows: &'static str,
    /// Whether the whole history is purged (`"All": true`).
    pub all: bool,
    /// The period's bounds as sent (`None`: open on that side).
    pub start: Option<String>,
    pub stop: Option<String>,
    /// The count query: the view's list action and its `$filter` (`None`: every row).
    pub view: String,
    pub filter: Option<String>,
    /// `would remove 312 chat messages from the beginning to 2026-08-29T12:00:00Z`.
    pub message: String,
}

/// The period of a purge input, as the purge reads it; `None` when it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub all: bool,
    pub start: Option<String>,
    pub stop: Option<String>,
}

impl Period {
    /// The period of `input` under `rule`.
    pub fn of(rule: &CountRule, input: &Map<String, Value>) -> Option<Period> {
        let period = input.get(rule.period)?.as_object()?;
        if period.get("All") == Some(&Value::Bool(true)) {
            return Some(Period {
                all: true,
                start: None,
                stop: None,
            });
        }
        let bound = |k: &str| period.get(k).and_then(Value::as_str).map(str::to_owned);
        let (start, stop) = (bound("Start"), bound("Stop"));
        (start.is_some() || stop.is_some()).then_some(Period {
            all: false,
            start,
            stop,
        })
    }

    /// The `$filter` selecting the period's rows by `field` (`None`: every row). Date-times are
    /// bare OData literals.
    pub fn filter(&self, field: &str) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(start) = &self.start {
            parts.push(format!("{field} ge {start}"));
        }
        if let Some(stop) = &self.stop {
            parts.push(format!("{field} le {stop}"));
        }
        (!parts.is_empty()).then(|| parts.join(" and "))
    }

    fn words(&self) -> String {
        if self.all {
            return "(all of them)".to_owned();
        }
        format!(
            "from {} to {}",
            self.start.as_deref().unwrap_or("the beginning"),
            self.stop.as_deref().unwrap_or("the end")
        )
    }
}

/// The count query of a purge: the view's list action and its input; `None` when `input` has
/// no period.
pub fn count_query(rule: &CountRule, input: &Map<String, Value>) -> Option<(Period, Value)> {
    let period = Period::of(rule, input)?;
    let mut query = json!({"$count": true, "$top": 0});
    if let Some(filter) = period.filter(rule.time_field) {
        query["$filter"] = Value::String(filter);
    }
    Some((period, query))
}

/// Counts what the call of `op` with `input` (validated, relative times resolved) would
/// remove: `Ok(None)` when `op` has no rule or `input` no period.
pub async fn preview(
    registry: &Registry,
    client: &Client,
    op: &dyn Operation,
    input: &Map<String, Value>,
) -> Result<Option<Preview>, Error> {
    let Some(rule) = count_rule(op) else {
        return Ok(None);
    };
    let Some((period, query)) = count_query(rule, input) else {
        return Ok(None);
    };
    let view = registry.action(rule.view_resource, rule.view_action)?;
    let answer = view.prepare(query.clone())?.send(client).await?;
    let answer = answer.to_json();
    let count = answer
        .get("@odata.count")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::Decode {
            what: view.meta().label(),
            message: "the answer has no @odata.count to preview the purge with".to_owned(),
        })?;
    let message = format!("would remove {count} {} {}", rule.rows, period.words());
    Ok(Some(Preview {
        count,
        rows: rule.rows,
        all: period.all,
        start: period.start,
        stop: period.stop,
        view: view.meta().label(),
        filter: query
            .get("$filter")
            .and_then(Value::as_str)
            .map(str::to_owned),
        message,
    }))
}

/// How the gateway and MCP send a call: relative times already resolved; a confirmed
/// destructive call is previewed (when it has a rule), sent and audited. A preview that fails
/// is logged and left out; the confirmed call is sent all the same.
pub(crate) async fn send_previewed(
    registry: &Registry,
    client: &Client,
    call: PreparedCall<'_>,
    log: Option<&AuditLog>,
    who: &AuditContext,
) -> (Result<Response, Error>, Option<Preview>) {
    let preview = if call.is_destructive() && call.check_confirmed().is_ok() {
        match preview(registry, client, call.op(), call.input()).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(action = %call.meta().label(), error = %e, "could not count what the purge removes");
                None
            }
        }
    } else {
        None
    };
    let sent = send_audited(call, client, log, who, preview.as_ref().map(|p| p.count)).await;
    (sent.result, preview)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn every_rule_names_real_actions_and_fields() {
        let registry = threecx_ops::registry();
        for rule in COUNT_RULES {
            let op = registry.find(rule.resource, rule.action).unwrap();
            assert!(op.meta().destructive, "{rule:?}");
            assert_eq!(count_rule(op), Some(rule));
            let view = registry.find(rule.view_resource, rule.view_action).unwrap();
            let schema = registry.output_schema(view);
            assert!(
                schema
                    .to_string()
                    .contains(&format!("\"{}\"", rule.time_field)),
                "{} has no {}",
                rule.view_action,
                rule.time_field
            );
            // The count query passes the view's own validation.
            let (_, query) = count_query(
                rule,
                &input(json!({"period": {"Start": "2024-01-01T00:00:00Z", "Stop": null}})),
            )
            .unwrap();
            registry.prepare(view, query).unwrap();
        }
        let other = registry.find("Purge Settings", "Purge All Logs").unwrap();
        assert_eq!(count_rule(other), None);
    }

    #[test]
    fn periods_read_as_the_purge_reads_them() {
        let rule = &COUNT_RULES[0];
        let q = |v: Value| count_query(rule, &input(v)).map(|(p, q)| (p.words(), q));
        assert_eq!(
            q(json!({"period": {"Start": null, "Stop": "2026-08-29T12:00:00Z"}})),
            Some((
                "from the beginning to 2026-08-29T12:00:00Z".into(),
                json!({"$count": true, "$top": 0, "$filter": "TimeSent le 2026-08-29T12:00:00Z"})
            ))
        );
        assert_eq!(
            q(json!({"period": {"Start": "2024-01-01T00:00:00Z", "Stop": "2024-06-30T23:59:59Z"}}))
                .unwrap()
                .1["$filter"],
            "TimeSent ge 2024-01-01T00:00:00Z and TimeSent le 2024-06-30T23:59:59Z"
        );
        assert_eq!(
            q(json!({"period": {"All": true, "Stop": "2024-06-30T23:59:59Z"}})),
            Some(("(all of them)".into(), json!({"$count": true, "$top": 0})))
        );
        assert_eq!(
            q(json!({"period": {"Start": "2024-01-01T00:00:00Z"}}))
                .unwrap()
                .0,
            "from 2024-01-01T00:00:00Z to the end"
        );
        assert_eq!(q(json!({"period": {"All": false}})), None);
        assert_eq!(q(json!({"period": {"Start": null, "Stop": null}})), None);
        assert_eq!(q(json!({})), None);
    }
}
