//! Every registered action publishes a self-contained input schema that compiles, and the example
//! input built from it passes validation and builds a request without I/O.

#[test]
fn every_action_has_a_usable_schema_and_example() {
    let registry = threecx_ops::registry();
    let mut failures = Vec::new();
    for op in registry.actions() {
        let meta = op.meta();
        let schema = registry.input_schema(*op);
        if schema["type"] != "object" || schema["additionalProperties"] != false {
            failures.push(format!(
                "{}: input schema is not a closed object",
                meta.action
            ));
            continue;
        }
        let example = registry.example_input(*op);
        if let Err(e) = registry.validate(*op, &example) {
            failures.push(format!("{}: example {example} rejected: {e}", meta.action));
            continue;
        }
        if let Err(e) = registry.prepare(*op, example.clone()) {
            failures.push(format!(
                "{}: example {example} cannot be built: {e}",
                meta.action
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} actions failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn destructive_actions_need_confirmation() {
    let registry = threecx_ops::registry();
    let destructive: Vec<_> = registry
        .actions()
        .iter()
        .filter(|op| op.meta().destructive)
        .map(|op| op.meta().action)
        .collect();
    for expected in [
        "PurgeChats",
        "PurgeCalls",
        "BatchDelete",
        "DeleteUser",
        "Restore",
    ] {
        assert!(
            destructive.contains(&expected),
            "{expected} must be destructive"
        );
    }
    for safe in ["ListUser", "GetCallLogData", "GetUserByNumber"] {
        assert!(
            !destructive.contains(&safe),
            "{safe} must not be destructive"
        );
    }
    let purge = || {
        registry
            .prepare_named("Purge Settings", "Purge Chats", serde_json::json!({}))
            .unwrap()
    };
    let err = purge().check_confirmed().unwrap_err();
    assert!(err.to_string().contains("not confirmed"), "{err}");
    purge().confirm(true).check_confirmed().unwrap();
}
