//! Must-show (a): the registry holds exactly the spec's actions, each once, with the spec's
//! method and path template.

use std::collections::BTreeMap;

#[test]
fn every_spec_operation_is_registered_once_with_its_method_and_path() {
    let spec = threecx_test_support::spec::load_spec();
    let mut expected = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (verb, op) in item.as_object().expect("path item") {
            if !["get", "post", "put", "patch", "delete"].contains(&verb.as_str()) {
                continue;
            }
            let id = op["operationId"].as_str().expect("operationId").to_owned();
            let tag = op["tags"][0].as_str().expect("tag").to_owned();
            let previous = expected.insert(id.clone(), (tag, verb.to_uppercase(), path.clone()));
            assert!(previous.is_none(), "operationId {id} twice in the spec");
        }
    }
    assert_eq!(expected.len(), 601, "the 20.0.10 spec has 601 operations");

    let registry = threecx_ops::registry();
    let mut seen = BTreeMap::new();
    for op in registry.actions() {
        let meta = op.meta();
        let template = op.template().expect("generated actions are HTTP actions");
        let previous = seen.insert(
            meta.action.to_owned(),
            (
                meta.resource.to_owned(),
                template.method.as_str().to_owned(),
                template.path.to_owned(),
            ),
        );
        assert!(previous.is_none(), "{} registered twice", meta.action);
    }
    assert_eq!(registry.len(), 601, "registry size");
    assert_eq!(seen, expected, "registered actions differ from the spec");
    assert_eq!(registry.resources().len(), 132, "resources = spec tags");
}

#[test]
fn lookup_accepts_every_spelling() {
    let registry = threecx_ops::registry();
    for (resource, action) in [
        ("Purge Settings", "Purge Chats"),
        ("purge-settings", "purge-chats"),
        ("purge_settings", "purge_chats"),
        ("PURGESETTINGS", "PURGECHATS"),
        ("PurgeSettings", "PurgeChats"),
    ] {
        let op = registry.find(resource, action).expect(resource);
        assert_eq!(op.meta().action, "PurgeChats");
        assert!(op.meta().destructive);
    }
    let err = registry
        .find("Purge Setings", "Purge Chats")
        .expect_err("unknown");
    assert!(err.to_string().contains("Purge Settings"), "{err}");
    let err = registry
        .find("Purge Settings", "Purge Chat")
        .expect_err("unknown");
    assert!(err.to_string().contains("Purge Chats"), "{err}");
}
