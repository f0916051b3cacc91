//! Every registered action, called by name with the registry's example input, gets an answer
//! that is not a server error; JSON answers fit the action's output schema.

use std::collections::BTreeMap;

use threecx_core::{Error, Response};
use threecx_registry::ActionKind;

use threecx_test_support::sandbox::{sandbox_client, small_sandbox_config, start_sandbox};

#[tokio::test]
async fn every_action_answers_without_a_server_error() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let registry = threecx_ops::registry();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for op in registry.actions() {
        if op.meta().kind == ActionKind::Custom {
            continue;
        }
        let name = format!("{} / {}", op.meta().resource, op.meta().action);
        let input = registry.example_input(*op);
        let sent = async {
            registry
                .prepare(*op, input.clone())?
                .confirm(true)
                .send(&c)
                .await
        };
        let outcome = match sent.await {
            Ok(Response::Json(v)) => {
                let schema = registry.output_schema(*op);
                let validator = jsonschema::draft202012::options()
                    .should_validate_formats(false)
                    .build(&schema)
                    .unwrap();
                if let Some(e) = validator.iter_errors(&v).next() {
                    failures.push(format!(
                        "{name}: answer does not fit the output schema: {e} at {}",
                        e.instance_path().as_str()
                    ));
                }
                checked += 1;
                "2xx json"
            }
            Ok(Response::Empty { .. }) => "2xx empty",
            Ok(Response::Download(_)) => "2xx download",
            Err(Error::Api { status: 404, .. }) => "404 (no such key)",
            Err(Error::Api {
                status, message, ..
            }) if status < 500 => {
                *outcomes.entry(format!("{status}")).or_default() += 1;
                eprintln!("{name}: {status} {message} (input {input})");
                continue;
            }
            Err(e) => {
                failures.push(format!("{name}: {e} (input {input})"));
                "failed"
            }
        };
        *outcomes.entry(outcome.to_owned()).or_default() += 1;
    }
    eprintln!("every action by name against the sandbox: {outcomes:?}; {checked} JSON answers schema-checked");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let total: usize = outcomes.values().sum();
    assert_eq!(
        total,
        registry
            .actions()
            .iter()
            .filter(|o| o.meta().kind != ActionKind::Custom)
            .count()
    );
    assert!(
        outcomes.get("404 (no such key)").copied().unwrap_or(0) < total / 4,
        "{outcomes:?}"
    );
    assert_eq!(pbx.count("*", "/xapi/v1") as usize, total);
}
