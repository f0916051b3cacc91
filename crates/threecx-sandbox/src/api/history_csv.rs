//! CSV downloads of the call log and the chat history (`DownloadCallLog`,
//! `DownloadChatHistory`...): the same computed rows as the views, as 3CX's report columns.

use serde_json::Value;

use super::history_views::{period_bound, RowFn, Which};
use super::{App, Call, Reply};
use crate::history;
use crate::reply::download;

/// Rows written into a CSV download at most.
const MAX_CSV_ROWS: u64 = 100_000;

impl App {
    pub(super) fn history_csv(&self, call: &Call<'_>, which: Which) -> Reply {
        let (timeline, ctx) = self.snapshot(which);
        let (lo, hi) = timeline.range(
            period_bound(call, "periodFrom"),
            period_bound(call, "periodTo"),
        );
        let (columns, row): (&[&str], RowFn) = match which {
            Which::Calls => (
                &[
                    "CallId",
                    "StartTime",
                    "Direction",
                    "Status",
                    "SourceDn",
                    "SourceDisplayName",
                    "DestinationDn",
                    "DestinationDisplayName",
                    "RingingDuration",
                    "TalkingDuration",
                ],
                history::call_log_row,
            ),
            Which::Chats => (
                &[
                    "MessageId",
                    "ConversationId",
                    "TimeSent",
                    "SenderParticipantNo",
                    "SenderParticipantName",
                    "Recipients",
                    "Message",
                ],
                history::chat_message_row,
            ),
        };
        let mut out = columns.join(",");
        out.push_str("\r\n");
        for i in timeline.iter(lo, hi, false).take(MAX_CSV_ROWS as usize) {
            let r = row(&timeline, &ctx, i);
            let cells: Vec<String> = columns.iter().map(|c| csv_cell(&r[*c])).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        download(call.op, "text/csv; charset=utf-8", "csv", out.into_bytes())
    }
}

fn csv_cell(v: &Value) -> String {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_cells_are_quoted_when_needed() {
        assert_eq!(csv_cell(&json!("a,b")), "\"a,b\"");
        assert_eq!(csv_cell(&json!("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell(&json!(5)), "5");
        assert_eq!(csv_cell(&Value::Null), "");
    }
}
