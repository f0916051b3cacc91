//! Call history and chat messages, computed on demand.
//!
//! Row `i` of a timeline is a pure function of `(seed, i)`; its timestamp grows with `i`, so a
//! period is an index range found by binary search. What is kept in memory is only the set of
//! removed index ranges (purges), never the rows: a million-row history costs a few bytes.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::gen::{hash, mix};
use crate::people::person;
use crate::time;

/// Sorted, disjoint, non-adjacent half-open index ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IntervalSet {
    ranges: Vec<(u64, u64)>,
}

impl IntervalSet {
    /// Adds `[lo, hi)`, merging with what touches it.
    pub fn insert(&mut self, lo: u64, hi: u64) {
        if lo >= hi {
            return;
        }
        let (mut lo, mut hi) = (lo, hi);
        let mut kept = Vec::with_capacity(self.ranges.len() + 1);
        for &(a, b) in &self.ranges {
            if b < lo || a > hi {
                kept.push((a, b));
            } else {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        kept.push((lo, hi));
        kept.sort_unstable();
        self.ranges = kept;
    }

    /// Whether index `i` is removed.
    #[cfg(test)]
    pub fn contains(&self, i: u64) -> bool {
        let k = self.ranges.partition_point(|&(_, b)| b <= i);
        self.ranges.get(k).is_some_and(|&(a, _)| a <= i)
    }

    /// How many indices of `[lo, hi)` are removed.
    pub fn covered(&self, lo: u64, hi: u64) -> u64 {
        self.ranges
            .iter()
            .map(|&(a, b)| b.min(hi).saturating_sub(a.max(lo)))
            .sum()
    }

    /// The runs of `[lo, hi)` that are not removed, in ascending order.
    pub fn gaps(&self, lo: u64, hi: u64) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut at = lo;
        for &(a, b) in &self.ranges {
            if b <= at {
                continue;
            }
            if a >= hi {
                break;
            }
            if a > at {
                out.push((at, a.min(hi)));
            }
            at = at.max(b);
            if at >= hi {
                break;
            }
        }
        if at < hi {
            out.push((at, hi));
        }
        out
    }

    /// The ranges, for tests.
    #[cfg(test)]
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// Bytes held on the heap.
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        self.ranges.capacity() * std::mem::size_of::<(u64, u64)>()
    }
}

/// First second of the seeded history: 2024-01-01T00:00:00Z.
pub const HISTORY_START: i64 = 1_704_067_200;
/// The seeded history spans the 366 days of 2024.
pub const HISTORY_SPAN: i64 = 366 * 86_400;

/// `len` rows spread over `[start, start + span)`, minus the removed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub len: u64,
    pub seed: u64,
    pub start: i64,
    pub span: i64,
    pub removed: IntervalSet,
}

impl Timeline {
    pub fn new(len: u64, seed: u64) -> Timeline {
        Timeline {
            len,
            seed,
            start: HISTORY_START,
            span: HISTORY_SPAN,
            removed: IntervalSet::default(),
        }
    }

    /// The same rows spread over `[start, start + span)` instead (`span` at least a second).
    pub fn spread_over(mut self, start: i64, span: i64) -> Timeline {
        self.start = start;
        self.span = span.max(1);
        self
    }

    /// Unix time of row `i`: non-decreasing in `i`.
    pub fn ts(&self, i: u64) -> i64 {
        if self.len == 0 {
            return self.start;
        }
        let base =
            self.start + (i128::from(i) * i128::from(self.span) / i128::from(self.len)) as i64;
        let gap = (self.span as u64) / self.len;
        let jitter = if gap > 1 { mix(self.seed ^ i) % gap } else { 0 };
        base + jitter as i64
    }

    /// The first row at or after `t`.
    pub fn first_at_or_after(&self, t: i64) -> u64 {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.ts(mid) < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The index range of rows whose time is within `[from, to]` (either end open when `None`).
    pub fn range(&self, from: Option<i64>, to: Option<i64>) -> (u64, u64) {
        let lo = from.map_or(0, |t| self.first_at_or_after(t));
        let hi = to.map_or(self.len, |t| self.first_at_or_after(t.saturating_add(1)));
        (lo, hi.max(lo))
    }

    /// Removes the rows of `[from, to]`; returns how many were still there.
    pub fn purge(&mut self, from: Option<i64>, to: Option<i64>) -> u64 {
        let (lo, hi) = self.range(from, to);
        let before = self.visible(lo, hi);
        self.removed.insert(lo, hi);
        before
    }

    /// Rows of `[lo, hi)` that are not removed.
    pub fn visible(&self, lo: u64, hi: u64) -> u64 {
        (hi - lo) - self.removed.covered(lo, hi)
    }

    /// Rows not removed, in all.
    pub fn visible_total(&self) -> u64 {
        self.visible(0, self.len)
    }

    /// Up to `take` visible indices of `[lo, hi)` after skipping `skip` visible ones, ascending
    /// or descending.
    pub fn page(&self, lo: u64, hi: u64, skip: u64, take: u64, descending: bool) -> Vec<u64> {
        let mut gaps = self.removed.gaps(lo, hi);
        if descending {
            gaps.reverse();
        }
        let mut out = Vec::with_capacity(take.min(10_000) as usize);
        let mut skip = skip;
        for (a, b) in gaps {
            let n = b - a;
            if skip >= n {
                skip -= n;
                continue;
            }
            let avail = n - skip;
            let count = avail.min(take - out.len() as u64);
            for k in 0..count {
                out.push(if descending {
                    b - 1 - skip - k
                } else {
                    a + skip + k
                });
            }
            skip = 0;
            if out.len() as u64 >= take {
                break;
            }
        }
        out
    }

    /// Every visible index of `[lo, hi)`, in order, without materialising them.
    pub fn iter(&self, lo: u64, hi: u64, descending: bool) -> impl Iterator<Item = u64> {
        let mut gaps = self.removed.gaps(lo, hi);
        if descending {
            gaps.reverse();
        }
        gaps.into_iter().flat_map(move |(a, b)| {
            let run: Box<dyn Iterator<Item = u64>> = if descending {
                Box::new((a..b).rev())
            } else {
                Box::new(a..b)
            };
            run
        })
    }
}

/// What the rows refer to: the seeded user extensions.
#[derive(Debug, Clone, Copy)]
pub struct RowContext {
    pub seed: u64,
    /// Seeded users (extensions 100, 101, ...).
    pub users: u64,
}

impl RowContext {
    fn user(&self, k: u64) -> (String, String) {
        let n = k % self.users.max(1);
        let (first, last) = person(self.seed, n);
        ((100 + n).to_string(), format!("{first} {last}"))
    }

    fn external(&self, h: u64) -> String {
        format!("+4420{:07}", h % 10_000_000)
    }
}

fn uuid(h: u64) -> String {
    let g = mix(h);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        g >> 52,
        g & 0xffff_ffff_ffff
    )
}

/// One call of the history: who called whom, when, for how long.
struct Call {
    id: u64,
    start: i64,
    ring: i64,
    talk: i64,
    answered: bool,
    /// 0 inbound, 1 outbound, 2 internal.
    direction: u64,
    src: (String, String),
    dst: (String, String),
    h: u64,
}

fn call(t: &Timeline, ctx: &RowContext, i: u64) -> Call {
    let h = hash(&[t.seed, 0xCA11, i]);
    let direction = h % 3;
    let answered = (h >> 8) % 5 != 0;
    let me = ctx.user(h >> 16);
    let other = if direction == 2 {
        ctx.user(h >> 24)
    } else {
        (ctx.external(h >> 32), String::new())
    };
    let (src, dst) = if direction == 1 {
        (me, other)
    } else {
        (other, me)
    };
    Call {
        id: i + 1,
        start: t.ts(i),
        ring: ((h >> 40) % 25) as i64 + 2,
        talk: if answered {
            ((h >> 44) % 900) as i64 + 5
        } else {
            0
        },
        answered,
        direction,
        src,
        dst,
        h,
    }
}

/// A `CallHistoryView` row.
pub fn call_history_row(t: &Timeline, ctx: &RowContext, i: u64) -> Value {
    let c = call(t, ctx, i);
    let internal = |n: &str| !n.starts_with('+');
    json!({
        "SegmentId": c.id as i64,
        "SegmentType": 1,
        "SegmentActionId": if c.answered { 1 } else { 2 },
        "SegmentStartTime": time::format(c.start),
        "SegmentEndTime": time::format(c.start + c.ring + c.talk),
        "CallTime": time::duration(c.ring + c.talk),
        "CallAnswered": c.answered,
        "SrcDn": c.src.0,
        "SrcCallerNumber": c.src.0,
        "SrcDisplayName": c.src.1,
        "SrcExtendedDisplayName": c.src.1,
        "SrcDnType": if internal(&c.src.0) { 0 } else { 1 },
        "SrcId": (c.h % 1000) as i64,
        "SrcInternal": internal(&c.src.0),
        "SrcExternal": !internal(&c.src.0),
        "SrcParticipantId": (c.id * 2) as i64,
        "SrcRecId": null,
        "DstDn": c.dst.0,
        "DstCallerNumber": c.dst.0,
        "DstDisplayName": c.dst.1,
        "DstExtendedDisplayName": c.dst.1,
        "DstDnType": if internal(&c.dst.0) { 0 } else { 1 },
        "DstId": ((c.h >> 10) % 1000) as i64,
        "DstInternal": internal(&c.dst.0),
        "DstExternal": !internal(&c.dst.0),
        "DstParticipantId": (c.id * 2 + 1) as i64,
        "DstRecId": null,
    })
}

/// A `CallLogData` row (the call log report).
pub fn call_log_row(t: &Timeline, ctx: &RowContext, i: u64) -> Value {
    let c = call(t, ctx, i);
    let direction = ["Inbound", "Outbound", "Internal"][c.direction as usize];
    json!({
        "CallId": c.id as i64,
        "CdrId": uuid(c.h),
        "CallHistoryId": uuid(c.h ^ 1),
        "MainCallHistoryId": uuid(c.h ^ 1),
        "SegmentId": c.id as i64,
        "Indent": 0,
        "SubrowDescNumber": 0,
        "StartTime": time::format(c.start),
        "Answered": c.answered,
        "Status": if c.answered { "Answered" } else { "Unanswered" },
        "Direction": direction,
        "CallType": direction,
        "RingingDuration": time::duration(c.ring),
        "TalkingDuration": time::duration(c.talk),
        "SourceDn": c.src.0,
        "SourceCallerId": c.src.0,
        "SourceDisplayName": c.src.1,
        "SourceType": if c.direction == 0 { 1 } else { 0 },
        "DestinationDn": c.dst.0,
        "DestinationCallerId": c.dst.0,
        "DestinationDisplayName": c.dst.1,
        "DestinationType": if c.direction == 1 { 1 } else { 0 },
        "ActionType": null,
        "ActionDnType": null,
        "ActionDnCallerId": null,
        "ActionDnDisplayName": null,
        "actionDnDn": null,
        "Reason": if c.answered { "Call ended" } else { "No answer" },
        "CallCost": 0,
        "QualityReport": false,
        "RecordingUrl": null,
        "Recordings": [],
        "SentimentScore": null,
        "Summary": null,
        "Transcription": null,
        "SrcRecId": null,
        "DstRecId": null,
    })
}

const MESSAGES: &[&str] = &[
    "Hi, can you call me back?",
    "The customer confirmed the order.",
    "Meeting moved to 3 pm.",
    "Thanks!",
    "Could you send the invoice again?",
    "I'm on my way.",
    "Is the conference room free?",
    "Please check the voicemail from this morning.",
];

struct Chat {
    id: u64,
    conversation: u64,
    at: i64,
    text: &'static str,
    external: bool,
    from: (String, String),
    to: (String, String),
}

fn chat(t: &Timeline, ctx: &RowContext, i: u64) -> Chat {
    let h = hash(&[t.seed, 0xC4A7, i]);
    let external = h % 7 == 0;
    let from = if external {
        (ctx.external(h >> 8), "Web visitor".to_owned())
    } else {
        ctx.user(h >> 16)
    };
    Chat {
        id: i + 1,
        conversation: i / 4 + 1,
        at: t.ts(i),
        text: MESSAGES[((h >> 24) % MESSAGES.len() as u64) as usize],
        external,
        from,
        to: ctx.user(h >> 32),
    }
}

/// A `ChatMessagesHistoryView` row.
pub fn chat_message_row(t: &Timeline, ctx: &RowContext, i: u64) -> Value {
    let c = chat(t, ctx, i);
    json!({
        "MessageId": c.id as i64,
        "ConversationId": c.conversation as i64,
        "TimeSent": time::format(c.at),
        "Message": c.text,
        "IsExternal": c.external,
        "ParticipantsGroupsArray": [],
        "QueueNumber": null,
        "Recipients": c.to.0,
        "SenderParticipantName": c.from.1,
        "SenderParticipantNo": c.from.0,
        "SenderParticipantEmail": null,
        "SenderParticipantIp": null,
        "SenderParticipantPbx": null,
        "SenderParticipantPhone": if c.external { Value::String(c.from.0.clone()) } else { Value::Null },
    })
}

/// A `ChatHistoryView` row.
pub fn chat_history_row(t: &Timeline, ctx: &RowContext, i: u64) -> Value {
    let c = chat(t, ctx, i);
    json!({
        "ConversationId": c.conversation as i64,
        "ChatName": format!("{} / {}", c.from.1, c.to.1),
        "FromName": c.from.1,
        "FromNo": c.from.0,
        "IsExternal": c.external,
        "Message": c.text,
        "ParticipantEmail": null,
        "ParticipantIp": null,
        "ParticipantPhone": if c.external { Value::String(c.from.0.clone()) } else { Value::Null },
        "ParticipantsGroupsArray": [],
        "ProviderName": if c.external { "Live chat" } else { "3CX" },
        "ProviderType": if c.external { "LiveChat" } else { "Internal" },
        "QueueNumber": null,
        "Source": if c.external { "LiveChat" } else { "Internal" },
        "TimeSent": time::format(c.at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_set_merges_and_counts() {
        let mut s = IntervalSet::default();
        s.insert(10, 20);
        s.insert(30, 40);
        s.insert(20, 25); // touches [10,20)
        assert_eq!(s.ranges(), [(10, 25), (30, 40)]);
        s.insert(5, 12);
        s.insert(24, 31);
        assert_eq!(s.ranges(), [(5, 40)]);
        s.insert(50, 50);
        assert_eq!(s.ranges(), [(5, 40)]);
        assert_eq!(s.covered(0, 100), 35);
        assert_eq!(s.covered(0, 10), 5);
        assert!(s.contains(5) && s.contains(39) && !s.contains(40) && !s.contains(4));
        assert_eq!(s.gaps(0, 100), [(0, 5), (40, 100)]);
        assert_eq!(s.gaps(6, 30), []);
        assert_eq!(s.gaps(0, 3), [(0, 3)]);
    }

    #[test]
    fn timestamps_grow_and_periods_are_ranges() {
        let t = Timeline::new(10_000, 42);
        let mut last = i64::MIN;
        for i in 0..t.len {
            let ts = t.ts(i);
            assert!(ts >= last, "row {i}");
            assert!((HISTORY_START..HISTORY_START + HISTORY_SPAN).contains(&ts));
            last = ts;
        }
        let march = (
            time::parse("2024-03-01T00:00:00Z"),
            time::parse("2024-03-31T23:59:59Z"),
        );
        let (lo, hi) = t.range(march.0, march.1);
        assert!(lo > 0 && hi > lo && hi < t.len);
        assert!(t.ts(lo) >= march.0.unwrap() && t.ts(lo - 1) < march.0.unwrap());
        assert!(t.ts(hi - 1) <= march.1.unwrap() && t.ts(hi) > march.1.unwrap());
    }

    #[test]
    fn a_timeline_spreads_over_any_window() {
        let (start, span) = (1_800_000_000, 730 * 86_400);
        let t = Timeline::new(1000, 3).spread_over(start, span);
        assert!(t.ts(0) >= start && t.ts(999) < start + span);
        let (lo, hi) = t.range(None, Some(start + span / 2));
        assert!(lo == 0 && hi > 400 && hi < 600, "{hi}");
    }

    #[test]
    fn purge_and_page() {
        let mut t = Timeline::new(100, 1);
        let (lo, hi) = (t.ts(10), t.ts(19));
        let removed = t.purge(Some(lo), Some(hi));
        assert!(removed >= 10, "{removed}");
        assert_eq!(
            t.purge(Some(lo), Some(hi)),
            0,
            "purging twice removes nothing more"
        );
        assert_eq!(t.visible_total(), 100 - removed);
        let page = t.page(0, 100, 8, 4, false);
        assert_eq!(page[..2], [8, 9]);
        assert!(page[2] >= 20);
        let all: Vec<u64> = t.iter(0, 100, false).collect();
        assert_eq!(all.len() as u64, t.visible_total());
        let desc = t.page(0, 100, 0, 3, true);
        assert_eq!(desc, [99, 98, 97]);
        let rev: Vec<u64> = t.iter(0, 100, true).collect();
        assert_eq!(rev[..3], [99, 98, 97]);
        t.purge(None, None);
        assert_eq!(t.visible_total(), 0);
        assert!(t.page(0, 100, 0, 10, false).is_empty());
    }

    #[test]
    fn a_million_rows_cost_almost_nothing() {
        let mut t = Timeline::new(1_000_000, 9);
        for day in 0..300 {
            let from = HISTORY_START + day * 86_400;
            t.purge(Some(from), Some(from + 3600));
        }
        // 300 purges, 300 ranges: the only per-timeline memory.
        assert_eq!(t.removed.ranges().len(), 300);
        assert!(
            t.removed.heap_bytes() < 16 * 1024,
            "{}",
            t.removed.heap_bytes()
        );
        let total = t.visible_total();
        assert!(total < 1_000_000 && total > 950_000, "{total}");
        let page = t.page(0, t.len, 999_000, 100, false);
        assert!(page.len() <= 100);
        let ctx = RowContext { seed: 9, users: 10 };
        let row = call_log_row(&t, &ctx, 999_999);
        assert_eq!(row["CallId"], 1_000_000);
    }

    #[test]
    fn rows_are_deterministic() {
        let t = Timeline::new(1000, 5);
        let ctx = RowContext { seed: 5, users: 20 };
        assert_eq!(call_log_row(&t, &ctx, 7), call_log_row(&t, &ctx, 7));
        assert_ne!(call_log_row(&t, &ctx, 7), call_log_row(&t, &ctx, 8));
        let other = Timeline::new(1000, 6);
        assert_ne!(
            chat_message_row(&t, &ctx, 7),
            chat_message_row(&other, &ctx, 7)
        );
    }
}
