//! The official 3CX spec beside the repository.

use std::path::PathBuf;

use serde_json::Value;

/// The official spec (`../shared/xapi/swagger-20.0.10.yaml` from the workspace root). A missing
/// spec is a failure, never a skip.
pub fn spec_path() -> PathBuf {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/xapi/swagger-20.0.10.yaml");
    assert!(
        p.exists(),
        "the 3CX spec is expected at {} (clone the repository beside shared/)",
        p.display()
    );
    p
}

/// The official spec, parsed.
pub fn load_spec() -> Value {
    let text = std::fs::read_to_string(spec_path()).expect("read spec");
    serde_yaml_ng::from_str(&text).expect("parse spec")
}

/// A variant of the official spec made at test time (never committed): some actions removed,
/// one added, one changed, as another 3CX version would differ.
#[derive(Debug, Clone)]
pub struct Variant {
    /// `swagger-20.0.77.yaml` in the folder given (the name tells the version).
    pub path: PathBuf,
    pub version: &'static str,
    /// `Resource/Action` names, sorted.
    pub removed: Vec<&'static str>,
    pub added: Vec<&'static str>,
    /// Purge Chats, with a new required input property `reason`.
    pub changed: Vec<&'static str>,
}

/// Writes [`Variant`] into `dir`: without Get Request Help Link, Is Request Help Enabled and Has
/// System Owner; with a new System Status function Is Variant Enabled; and Purge Chats
/// requiring a `reason` besides its `period`.
pub fn write_variant(dir: &std::path::Path) -> Variant {
    let mut doc = load_spec();
    let paths = doc["paths"].as_object_mut().expect("paths");
    let cloned = paths["/SystemStatus/Pbx.IsRequestHelpEnabled()"].clone();
    for removed in [
        "/SystemStatus/Pbx.GetRequestHelpLink(grantPeriodDays={grantPeriodDays})",
        "/SystemStatus/Pbx.IsRequestHelpEnabled()",
        "/Defs/Pbx.HasSystemOwner()",
    ] {
        assert!(paths.remove(removed).is_some(), "{removed} is in the spec");
    }
    let mut added = cloned;
    added["get"]["operationId"] = Value::String("IsVariantEnabled".into());
    paths.insert("/SystemStatus/Pbx.IsVariantEnabled()".into(), added);
    let body =
        &mut paths["/PurgeChats"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    body["properties"]["reason"] = serde_json::json!({"type": "string", "minLength": 1});
    body["required"] = serde_json::json!(["reason"]);

    let path = dir.join("swagger-20.0.77.yaml");
    std::fs::write(&path, serde_yaml_ng::to_string(&doc).expect("YAML")).expect("write variant");
    Variant {
        path,
        version: "20.0.77",
        removed: vec![
            "Defs/HasSystemOwner",
            "SystemStatus/GetRequestHelpLink",
            "SystemStatus/IsRequestHelpEnabled",
        ],
        added: vec!["SystemStatus/IsVariantEnabled"],
        changed: vec!["PurgeSettings/PurgeChats"],
    }
}
