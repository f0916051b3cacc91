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

    /// `GetCallLogData`: the call log in its period, narrowed by the source and destination
    /// filter texts (matched in any of the party's number, caller id or name).
    pub(super) fn call_log(&self, call: &Call<'_>) -> Reply {
        let (from, to) = (
            period_bound(call, "periodFrom"),
            period_bound(call, "periodTo"),
        );
        let source = filter_text(call, "sourceFilter");
        let destination = filter_text(call, "destinationFilter");
        let needs_extra = source.is_some() || destination.is_some();
        let extra = move |row: &Value| {
            has_text(row, &SOURCE_FIELDS, &source)
                && has_text(row, &DESTINATION_FIELDS, &destination)
        };
        self.history_list(
            call,
            &CALL_LOG,
            Some((from, to)),
            needs_extra.then_some(&extra as &dyn Fn(&Value) -> bool),
        )
    }

    /// A page of `view`, in `period` (all of it when `None`), keeping only rows `extra` accepts
    /// besides `$filter` and `$search`.
    pub(super) fn history_list(
        &self,
        call: &Call<'_>,
        view: &HistoryView,
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
        let (timeline, ctx) = self.snapshot(view.which);
        let (lo, hi) = match period {
            Some((from, to)) => timeline.range(from, to),
            None => (0, timeline.len),
        };
        let rows = Rows {
            timeline: &timeline,
            ctx: &ctx,
            row: view.row,
            lo,
            hi,
        };
        let wanted = q.top.unwrap_or(u64::MAX);
        let take = wanted.min(self.config.max_page_size);
        let filtered = q.filter.is_some() || q.search.is_some() || extra.is_some();
        let keeps = |r: &Value| q.keeps(r) && extra.is_none_or(|f| f(r));
        let page = match view.time_order(&q) {
            Some(desc) if !filtered => rows.page_in_time_order(&q, take, desc),
            Some(desc) => rows.filter_in_time_order(&q, &keeps, take, desc),
            None => match rows.sort_in_memory(&q, &keeps, take) {
                Some(page) => page,
                None => return too_many_to_sort(&q, view),
            },
        };
        let next = (page.more && take < wanted && page.items.len() as u64 == take)
            .then(|| self.next_link(call, q.skip + take, q.top.map(|t| t - take)));
        let count = if q.count { page.matched } else { None };
        Reply::json(200, collection(page.items, count, next))
    }

    /// A copy of `which`'s timeline and what rows are computed from; the lock is let go, so
    /// computing rows does not hold up other requests.
    pub(super) fn snapshot(&self, which: Which) -> (Timeline, RowContext) {
        let data = lock(&self.data);
        (
            which.timeline(&data).clone(),
            RowContext {
                seed: data.seed,
                users: data.sizes.users,
            },
        )
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

/// A date-time input (`periodFrom`), as a timestamp; absent or unreadable is no bound.
pub(super) fn period_bound(call: &Call<'_>, name: &str) -> Option<i64> {
    call.input
        .get(name)
        .and_then(Value::as_str)
        .and_then(time::parse)
}

/// A call log filter text, trimmed and lower-cased; blank is no filter.
fn filter_text(call: &Call<'_>, name: &str) -> Option<String> {
    call.input
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase)
}

const SOURCE_FIELDS: [&str; 3] = ["SourceDn", "SourceCallerId", "SourceDisplayName"];
const DESTINATION_FIELDS: [&str; 3] = [
    "DestinationDn",
    "DestinationCallerId",
    "DestinationDisplayName",
];

/// Whether one of `fields` of `row` contains `needle` (case-insensitive); no needle keeps all.
fn has_text(row: &Value, fields: &[&str], needle: &Option<String>) -> bool {
    match needle {
        None => true,
        Some(n) => fields.iter().any(|f| {
            row.get(*f)
                .and_then(Value::as_str)
                .is_some_and(|s| s.to_lowercase().contains(n.as_str()))
        }),
    }
}

/// The refusal of an order the sandbox would have to sort too many rows for.
fn too_many_to_sort(q: &QueryOptions, view: &HistoryView) -> Reply {
    Reply::error(
        400,
        format!(
            "The sandbox sorts at most {MAX_SORTED_ROWS} rows by '{}'; narrow the period or $filter, or order by {}",
            q.orderby[0].path.join("/"),
            view.time_field
        ),
    )
}

/// Computes row `i` of a timeline.
pub(super) type RowFn = fn(&Timeline, &RowContext, u64) -> Value;

/// A computed history view: the timeline its rows come from, how a row is computed, and the
/// two fields whose order is the timeline's own (ordering by them needs no sort).
pub(super) struct HistoryView {
    which: Which,
    row: RowFn,
    time_field: &'static str,
    id_field: &'static str,
}

pub(super) static CALL_HISTORY: HistoryView = HistoryView {
    which: Which::Calls,
    row: history::call_history_row,
    time_field: "SegmentStartTime",
    id_field: "SegmentId",
};

pub(super) static CHAT_HISTORY: HistoryView = HistoryView {
    which: Which::Chats,
    row: history::chat_history_row,
    time_field: "TimeSent",
    id_field: "ConversationId",
};

pub(super) static CHAT_MESSAGES: HistoryView = HistoryView {
    which: Which::Chats,
    row: history::chat_message_row,
    time_field: "TimeSent",
    id_field: "MessageId",
};

static CALL_LOG: HistoryView = HistoryView {
    which: Which::Calls,
    row: history::call_log_row,
    time_field: "StartTime",
    id_field: "CallId",
};

impl HistoryView {
    /// `Some(descending)` when `$orderby` is the timeline's own order (or absent), `None` when
    /// the rows must be sorted.
    fn time_order(&self, q: &QueryOptions) -> Option<bool> {
        match q.orderby.as_slice() {
            [] => Some(false),
            [k] if k.path.len() == 1
                && (k.path[0] == self.time_field || k.path[0] == self.id_field) =>
            {
                Some(k.descending)
            }
            _ => None,
        }
    }
}

/// The rows of one request: a view's timeline between `lo` and `hi`.
struct Rows<'a> {
    timeline: &'a Timeline,
    ctx: &'a RowContext,
    row: RowFn,
    lo: u64,
    hi: u64,
}

/// One page of a view, before it becomes the collection answer.
struct Page {
    items: Vec<Value>,
    /// How many rows match, when known.
    matched: Option<u64>,
    /// Whether rows follow this page.
    more: bool,
}

impl Rows<'_> {
    fn row(&self, i: u64) -> Value {
        (self.row)(self.timeline, self.ctx, i)
    }

    /// Unfiltered, in time order: the page is computed straight from the timeline, and only
    /// its rows are built.
    fn page_in_time_order(&self, q: &QueryOptions, take: u64, desc: bool) -> Page {
        let matched = self.timeline.visible(self.lo, self.hi);
        let items: Vec<Value> = self
            .timeline
            .page(self.lo, self.hi, q.skip, take, desc)
            .into_iter()
            .map(|i| q.project(self.row(i)))
            .collect();
        let more = q.skip + (items.len() as u64) < matched;
        Page {
            items,
            matched: Some(matched),
            more,
        }
    }

    /// Filtered, in time order: rows are streamed, and counting stops at the page's end
    /// unless `$count` asks for the total.
    fn filter_in_time_order(
        &self,
        q: &QueryOptions,
        keeps: &dyn Fn(&Value) -> bool,
        take: u64,
        desc: bool,
    ) -> Page {
        let mut items = Vec::new();
        let mut matched = 0u64;
        let mut more = false;
        for i in self.timeline.iter(self.lo, self.hi, desc) {
            let r = self.row(i);
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
        Page {
            items,
            matched: q.count.then_some(matched),
            more,
        }
    }

    /// Any other order: the kept rows are sorted in memory; `None` when more than
    /// [`MAX_SORTED_ROWS`] are kept.
    fn sort_in_memory(
        &self,
        q: &QueryOptions,
        keeps: &dyn Fn(&Value) -> bool,
        take: u64,
    ) -> Option<Page> {
        let mut kept = Vec::new();
        for i in self.timeline.iter(self.lo, self.hi, false) {
            let r = self.row(i);
            if keeps(&r) {
                kept.push(r);
                if kept.len() as u64 > MAX_SORTED_ROWS {
                    return None;
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
        Some(Page {
            items,
            matched: Some(matched),
            more,
        })
    }
}

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
