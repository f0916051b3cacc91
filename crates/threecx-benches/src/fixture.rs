//! What the stand-in answers: a token, a ~300-byte user, and call-history pages shaped like the
//! sandbox's `CallHistoryView` rows (same fields, same kinds of values).

use serde_json::{json, Value};

pub fn token_body() -> Vec<u8> {
    format!(
        r#"{{"access_token":"{}","expires_in":3600,"token_type":"Bearer"}}"#,
        crate::TOKEN
    )
    .into_bytes()
}

/// A user as 3CX sends it for `GET /Users(1)` (~300 bytes).
pub fn user_body() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@odata.context": "https://pbx.example.com/xapi/v1/$metadata#Users/$entity",
        "Id": crate::USER_ID,
        "Number": "100",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "DisplayName": "Ada Lovelace",
        "EmailAddress": "ada.lovelace@example.com",
        "Mobile": "+447700900123",
        "Enabled": true,
        "IsRegistered": true,
        "VMEnabled": true,
    }))
    .expect("serialisable")
}

const FIRST: &[&str] = &[
    "Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus",
];
const LAST: &[&str] = &[
    "Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton",
    "Wirth",
];
/// 2024-01-01T00:00:00Z.
const HISTORY_START: i64 = 1_704_067_200;

fn mix(mut x: u64) -> u64 {
    // splitmix64: deterministic, well-spread rows without a dependency.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Extension number and display name of seeded user `k` (of 50).
fn user(k: u64) -> (String, String) {
    let n = k % 50;
    let h = mix(n ^ 0x05E2);
    let first = FIRST[(h % FIRST.len() as u64) as usize];
    let last = LAST[((h >> 20) % LAST.len() as u64) as usize];
    ((100 + n).to_string(), format!("{first} {last}"))
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn timestamp(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let rem = unix.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || (h == 0 && m == 0) {
        out.push_str(&format!("{s}S"));
    }
    out
}

/// Call-history row `i` (the sandbox's `call_history_row` shape).
pub fn call_history_row(i: u64) -> Value {
    let h = mix(i ^ 0xCA11);
    let direction = h % 3; // 0 inbound, 1 outbound, 2 internal
    let answered = (h >> 8) % 5 != 0;
    let me = user(h >> 16);
    let other = if direction == 2 {
        user(h >> 24)
    } else {
        (format!("+4420{:07}", (h >> 32) % 10_000_000), String::new())
    };
    let (src, dst) = if direction == 1 {
        (me, other)
    } else {
        (other, me)
    };
    let start = HISTORY_START + (i as i64) * 31;
    let ring = ((h >> 40) % 25) as i64 + 2;
    let talk = if answered {
        ((h >> 44) % 900) as i64 + 5
    } else {
        0
    };
    let internal = |n: &str| !n.starts_with('+');
    json!({
        "SegmentId": i as i64 + 1,
        "SegmentType": 1,
        "SegmentActionId": if answered { 1 } else { 2 },
        "SegmentStartTime": timestamp(start),
        "SegmentEndTime": timestamp(start + ring + talk),
        "CallTime": duration(ring + talk),
        "CallAnswered": answered,
        "SrcDn": src.0,
        "SrcCallerNumber": src.0,
        "SrcDisplayName": src.1,
        "SrcExtendedDisplayName": src.1,
        "SrcDnType": if internal(&src.0) { 0 } else { 1 },
        "SrcId": (h % 1000) as i64,
        "SrcInternal": internal(&src.0),
        "SrcExternal": !internal(&src.0),
        "SrcParticipantId": (i * 2) as i64,
        "SrcRecId": null,
        "DstDn": dst.0,
        "DstCallerNumber": dst.0,
        "DstDisplayName": dst.1,
        "DstExtendedDisplayName": dst.1,
        "DstDnType": if internal(&dst.0) { 0 } else { 1 },
        "DstId": ((h >> 10) % 1000) as i64,
        "DstInternal": internal(&dst.0),
        "DstExternal": !internal(&dst.0),
        "DstParticipantId": (i * 2 + 1) as i64,
        "DstRecId": null,
    })
}

/// A `GET /CallHistoryView` page of `count` rows (rows 0..count; every page of one size has the
/// same bytes, which is what lets the server answer without computing anything).
pub fn history_page(count: u64) -> Vec<u8> {
    let rows: Vec<Value> = (0..count).map(call_history_row).collect();
    serde_json::to_vec(&json!({
        "@odata.context": "https://pbx.example.com/xapi/v1/$metadata#CallHistoryView",
        "value": rows,
    }))
    .expect("serialisable")
}
