//! The computed history views (call history, chat history, chat messages, the call log report)
//! paged, filtered and sorted like the entity store, and the purges that remove their rows.

use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::{lock, App, Call, Reply};
use crate::gen;
use crate::history::{self, RowContext, Timeline};
use crate::odata::query::{collection, QueryOptions};
use crate::store::Data;
use crate::time;

/// Rows a computed view sorts in memory at most (other orders are streamed).
const MAX_SORTED_ROWS: u64 = 200_000;

impl App {
    pub(super) fn purge(&self, call: &Call<'_>, which: Which) -> Reply {
        let Some(Value::Object(period)) = call.input.get("period") else {
            return Reply::error(400, "The parameter 'period' is required: {\"All\": true} or {\"Start\": ..., \"Stop\": ...}");
        };
        let mut data = lock(&self.data);
        let timeline = which.timeline_mut(&mut data);
        if period.get("All") == Some(&Value::Bool(true)) {
            timeline.purge(None, None);
            return Reply::empty(204);
        }
        let bound = |k: &str| -> Result<Option<i64>, Reply> {
            match period.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => time::parse(s).map(Some).ok_or_else(|| {
                    Reply::error(400, format!("period.{k} is not a date-time: {s}"))
                }),
                Some(other) => Err(Reply::error(
                    400,
                    format!("period.{k} is not a date-time: {other}"),
                )),
            }
        };
        let (start, stop) = match (bound("Start"), bound("Stop")) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        if start.is_none() && stop.is_none() {
            return Reply::error(
                400,
                "period needs \"All\": true, or a \"Start\" and/or \"Stop\"",
            );
        }
        if let (Some(a), Some(b)) = (start, stop) {
            if a > b {
                return Reply::error(400, "period.Start is after period.Stop");
            }
        }
        timeline.purge(start, stop);
        Reply::empty(204)
    }

    pub(super) fn call_log(&self, call: &Call<'_>) -> Reply {
        let bound = |k: &str| {
            call.input
                .get(k)
                .and_then(Value::as_str)
                .and_then(time::parse)
        };
        let (from, to) = (bound("periodFrom"), bound("periodTo"));
        let filter_text = |k: &str| {
            call.input
                .get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase)
        };
        let source = filter_text("sourceFilter");
        let destination = filter_text("destinationFilter");
        let extra = move |row: &Value| {
            let has = |fields: &[&str], needle: &Option<String>| match needle {
                None => true,
                Some(n) => fields.iter().any(|f| {
                    row.get(*f)
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.to_lowercase().contains(n.as_str()))
                }),
            };
            has(
                &["SourceDn", "SourceCallerId", "SourceDisplayName"],
                &source,
            ) && has(
                &[
                    "DestinationDn",
                    "DestinationCallerId",
                    "DestinationDisplayName",
                ],
                &destination,
            )
        };
        let needs_extra =
            filter_text("sourceFilter").is_some() || filter_text("destinationFilter").is_some();
        self.history_list(
            call,
            Which::Calls,
            history::call_log_row,
            "StartTime",
            "CallId",
            Some((from, to)),
            needs_extra.then_some(&extra as &dyn Fn(&Value) -> bool),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn history_list(
        &self,
        call: &Call<'_>,
        which: Which,
        row: RowFn,
        time_field: &str,
        id_field: &str,
        period: Option<(Option<i64>, Option<i64>)>,
        extra: Option<&dyn Fn(&Value) -> bool>,
    ) -> Reply {
        let schema = self.registry.output_schema(call.op);
        let known =
            gen::collection_item(&schema, &schema).map(|item| gen::property_names(item, &schema));
        let q = match QueryOptions::from_input(call.input, known.as_ref()) {
            Ok(q) => q,
            Err(e) => return Reply::error(400, e),
        };
        // Take what is needed and let go of the lock: rows are computed from a copy.
        let (timeline, ctx) = {
            let data = lock(&self.data);
            (
                which.timeline(&data).clone(),
                RowContext {
                    seed: data.seed,
                    users: data.sizes.users,
                },
            )
        };
        let (lo, hi) = match period {
            Some((from, to)) => timeline.range(from, to),
            None => (0, timeline.len),
        };
        let wanted = q.top.unwrap_or(u64::MAX);
        let take = wanted.min(self.config.max_page_size);
        let by_time = match q.orderby.as_slice() {
            [] => Some(false),
            [k] if k.path.len() == 1 && (k.path[0] == time_field || k.path[0] == id_field) => {
                Some(k.descending)
            }
            _ => None,
        };
        let filtered = q.filter.is_some() || q.search.is_some() || extra.is_some();
        let keeps = |r: &Value| q.keeps(r) && extra.is_none_or(|f| f(r));
        let (items, matched, more): (Vec<Value>, Option<u64>, bool) = match by_time {
            Some(desc) if !filtered => {
                let matched = timeline.visible(lo, hi);
                let items: Vec<Value> = timeline
                    .page(lo, hi, q.skip, take, desc)
                    .into_iter()
                    .map(|i| q.project(row(&timeline, &ctx, i)))
                    .collect();
                let more = q.skip + (items.len() as u64) < matched;
                (items, Some(matched), more)
            }
            Some(desc) => {
                let mut items = Vec::new();
                let mut matched = 0u64;
                let mut more = false;
                for i in timeline.iter(lo, hi, desc) {
                    let r = row(&timeline, &ctx, i);
                    if !keeps(&r) {
                        continue;
                    }
                    if matched >= q.skip && (items.len() as u64) < take {
                        items.push(q.project(r));
                    } else if (items.len() as u64) >= take {
                        more = true;
                        if !q.count {
                            break;
                        }
                    }
                    matched += 1;
                }
                (items, q.count.then_some(matched), more)
            }
            None => {
                let mut kept = Vec::new();
                for i in timeline.iter(lo, hi, false) {
                    let r = row(&timeline, &ctx, i);
                    if keeps(&r) {
                        kept.push(r);
                        if kept.len() as u64 > MAX_SORTED_ROWS {
                            return Reply::error(
                                400,
                                format!(
                                    "The sandbox sorts at most {MAX_SORTED_ROWS} rows by '{}'; narrow the period or $filter, or order by {time_field}",
                                    q.orderby[0].path.join("/")
                                ),
                            );
                        }
                    }
                }
                kept.sort_by(|a, b| q.order(a, b));
                let matched = kept.len() as u64;
                let items: Vec<Value> = kept
                    .into_iter()
                    .skip(q.skip as usize)
                    .take(take as usize)
                    .map(|r| q.project(r))
                    .collect();
                let more = q.skip + (items.len() as u64) < matched;
                (items, Some(matched), more)
            }
        };
        let next = (more && take < wanted && items.len() as u64 == take)
            .then(|| self.next_link(call, q.skip + take, q.top.map(|t| t - take)));
        let count = if q.count { matched } else { None };
        Reply::json(200, collection(items, count, next))
    }

    /// The URL of the next page: this request with `$skip` (and `$top`) moved on.
    fn next_link(&self, call: &Call<'_>, skip: u64, top: Option<u64>) -> String {
        let mut parts: Vec<String> = call
            .query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let k = p.split('=').next().unwrap_or("");
                let k = percent_decode_str(k).decode_utf8_lossy();
                k != "$skip" && k != "$top"
            })
            .map(str::to_owned)
            .collect();
        parts.push(format!("$skip={skip}"));
        if let Some(t) = top {
            parts.push(format!("$top={t}"));
        }
        format!("{}{}?{}", self.base_url, call.raw_path, parts.join("&"))
    }
}

/// Computes row `i` of a timeline.
pub(super) type RowFn = fn(&Timeline, &RowContext, u64) -> Value;

#[derive(Clone, Copy)]
pub(super) enum Which {
    Calls,
    Chats,
}

impl Which {
    pub(super) fn timeline(self, data: &Data) -> &Timeline {
        match self {
            Which::Calls => &data.calls,
            Which::Chats => &data.chats,
        }
    }

    pub(super) fn timeline_mut(self, data: &mut Data) -> &mut Timeline {
        match self {
            Which::Calls => &mut data.calls,
            Which::Chats => &mut data.chats,
        }
    }
}
