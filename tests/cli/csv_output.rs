//! `--output csv` against the sandbox: strict RFC 4180, the header from the output model (or the
//! `$select`), streamed page by page with `--all`.

use serde_json::Value;

use crate::support::{threecx, TestPbx};

/// The properties of a model in `schemas/models.json`, sorted by name: what the header must be.
fn model_properties(model: &str) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/models.json");
    let models: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut names: Vec<String> = models["$defs"][model]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{model} has properties"))
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

/// Parses `text` with a strict reader (every record as long as the header): the header and the
/// records.
fn parse_strict(text: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .has_headers(true)
        .from_reader(text);
    let header = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .expect("strict RFC 4180 records");
    (header, records)
}

fn call_history_sandbox(rows: u64) -> TestPbx {
    TestPbx::start(threecx_sandbox::SandboxConfig {
        sizes: threecx_sandbox::SeedSizes {
            call_history: rows,
            ..threecx_test_support::sandbox::small_seed()
        },
        ..threecx_sandbox::SandboxConfig::default()
    })
}

#[test]
fn all_of_100k_call_history_rows_is_strict_csv_with_the_model_header() {
    let rows = 100_000;
    let pbx = call_history_sandbox(rows);
    let run = threecx([
        "call",
        "Call History View",
        "List Call History View",
        "--all",
        "--page-size",
        "1000",
        "--output",
        "csv",
    ])
    .sandbox(&pbx)
    .run();
    run.assert_code(0);
    let (header, records) = parse_strict(&run.stdout_bytes);
    assert_eq!(header, model_properties("CallHistoryView"));
    assert_eq!(records.len() as u64, rows);
    let id = header.iter().position(|h| h == "SegmentId").unwrap();
    assert_eq!(&records[0][id], "1");
    assert_eq!(&records[rows as usize - 1][id], rows.to_string());
}

#[test]
fn select_gives_exactly_the_selected_columns_in_order_and_the_same_values_as_json() {
    let pbx = TestPbx::small();
    let args = |format: &str| {
        vec![
            "call".to_owned(),
            "Call History View".into(),
            "List Call History View".into(),
            "--all".into(),
            "--page-size".into(),
            "100".into(),
            "--param".into(),
            r#"$select=["SrcDisplayName","SegmentId","CallTime","DstRecId"]"#.into(),
            "--output".into(),
            format.into(),
        ]
    };
    let run = threecx(args("csv")).sandbox(&pbx).run();
    run.assert_code(0);
    let (header, records) = parse_strict(&run.stdout_bytes);
    assert_eq!(
        header,
        ["SrcDisplayName", "SegmentId", "CallTime", "DstRecId"]
    );

    let json = threecx(args("ndjson")).sandbox(&pbx).run();
    json.assert_code(0);
    let items: Vec<Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), items.len());
    assert!(items.len() >= 1000, "{}", items.len());
    for (record, item) in records.iter().zip(&items) {
        for (i, name) in header.iter().enumerate() {
            let expected = match &item[name] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(record[i], expected, "{name} of {item}");
        }
    }
}

#[test]
fn an_empty_answer_still_has_the_header_and_a_single_object_is_one_row() {
    let pbx = TestPbx::small();
    let run = threecx([
        "call",
        "Users",
        "List User",
        "--all",
        "--param",
        "$filter=Number eq 'none'",
        "--output",
        "csv",
    ])
    .sandbox(&pbx)
    .run();
    run.assert_code(0);
    let (header, records) = parse_strict(&run.stdout_bytes);
    assert!(records.is_empty());
    assert!(header.iter().any(|h| h == "Number") && header.iter().any(|h| h == "Id"));
    assert!(
        !header.iter().any(|h| h == "Phones"),
        "navigation: {header:?}"
    );

    let run = threecx([
        "call",
        "Users",
        "Get User",
        "--param",
        "Id=1",
        "--param",
        "$select=Number,Id,Groups",
        "--param",
        "$expand=Groups",
        "--output",
        "csv",
    ])
    .sandbox(&pbx)
    .run();
    run.assert_code(0);
    let (header, records) = parse_strict(&run.stdout_bytes);
    assert_eq!(header, ["Number", "Id", "Groups"]);
    assert_eq!(records.len(), 1);
    assert_eq!(&records[0][0], "100");
    let groups: Value = serde_json::from_str(&records[0][2]).expect("nested value as JSON text");
    assert!(groups.is_array(), "{groups}");
}

#[test]
fn an_answer_without_objects_is_a_usage_error_before_anything_is_sent() {
    let pbx = TestPbx::small();
    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        r#"{"period":{"All":true}}"#,
        "--yes",
        "--output",
        "csv",
    ])
    .sandbox(&pbx)
    .run();
    run.assert_code(2);
    assert!(run.stderr.contains("--output csv"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    // Nothing was purged: the chats are all still there.
    let chats = threecx([
        "call",
        "Chat Messages History View",
        "List Chat Messages History View",
        "--param",
        "$count=true",
        "--param",
        "$top=0",
    ])
    .sandbox(&pbx)
    .run();
    chats.assert_code(0);
    assert_eq!(chats.json()["@odata.count"], 400);
}
