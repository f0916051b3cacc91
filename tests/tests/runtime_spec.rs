//! Importing the 20.0.10 spec at run time gives exactly the compiled-in actions and models.

use std::collections::BTreeMap;

use threecx_ops::registry_api::Registry;
use threecx_spec::{FromSpec, SpecDiff, SpecSet};
use threecx_test_support::spec::spec_path;

fn imported() -> SpecSet {
    let path = spec_path();
    let bytes = std::fs::read(&path).unwrap();
    SpecSet::import(bytes, "swagger-20.0.10.yaml", None).unwrap()
}

#[test]
fn the_runtime_import_of_20_0_10_equals_the_compiled_in_set() {
    let runtime = imported();
    let builtin = SpecSet::builtin();
    assert_eq!(runtime.version, "20.0.10");
    assert_eq!(runtime.sha256, threecx_ops::SPEC_SHA256);
    assert_eq!(runtime.actions.len(), 601);

    let by_name = |set: &SpecSet| -> BTreeMap<(String, String), _> {
        set.actions
            .iter()
            .map(|d| ((d.resource.clone(), d.action.clone()), d.clone()))
            .collect()
    };
    let (a, b) = (by_name(&runtime), by_name(&builtin));
    assert_eq!(a.len(), b.len());
    for (name, d) in &a {
        assert_eq!(Some(d), b.get(name), "descriptor of {name:?}");
    }

    // Every imported model is the compiled-in one; the compiled-in registry may hold more (a
    // linked extension's), never fewer.
    let models = runtime.model_map().unwrap();
    let compiled = threecx_ops::registry().models();
    assert_eq!(models.len(), 597);
    for (name, schema) in &models {
        assert_eq!(Some(schema), compiled.get(name), "model {name}");
    }
    assert!(SpecDiff::between(&builtin, &runtime).unwrap().is_empty());
}

#[test]
fn a_registry_from_the_spec_validates_and_builds_like_the_compiled_in_one() {
    let runtime = imported();
    let registry = Registry::from_spec(&runtime).unwrap();
    let compiled = threecx_ops::registry();
    assert_eq!(registry.len(), compiled.len());
    // Built once per spec: asking again gives the same registry.
    assert!(std::ptr::eq(
        registry,
        Registry::from_spec(&runtime).unwrap()
    ));
    for &op in compiled.actions() {
        let meta = op.meta();
        let other = registry.find(meta.resource, meta.action).unwrap();
        assert_eq!(registry.input_schema(other), compiled.input_schema(op));
        assert_eq!(registry.output_schema(other), compiled.output_schema(op));
    }
    let input = serde_json::json!({"period": {"Start": "2024-01-01T00:00:00Z", "Stop": null}});
    let a = registry.prepare_named("PurgeSettings", "PurgeChats", input.clone());
    let b = compiled.prepare_named("PurgeSettings", "PurgeChats", input);
    assert_eq!(a.unwrap().request(), b.unwrap().request());
    let bad = serde_json::json!({"period": {"Start": "later"}});
    let err = registry
        .prepare_named("PurgeSettings", "PurgeChats", bad)
        .unwrap_err();
    assert!(err.to_string().contains("/period/Start"), "{err}");
}

#[test]
fn the_openapi_document_written_from_the_registry_imports_back_to_the_same_actions() {
    let compiled = threecx_ops::registry();
    let document = threecx_ops::registry_api::openapi_document(compiled, "20.0.10");
    let bytes = serde_json::to_vec(&document).unwrap();
    let set = SpecSet::import(bytes, "swagger.yaml", Some("20.0.10")).unwrap();
    let builtin = SpecSet::builtin();
    // Every generated action (an extension's composed actions are no HTTP request).
    let generated: Vec<_> = builtin.actions.iter().collect();
    let imported: BTreeMap<_, _> = set
        .actions
        .iter()
        .map(|d| ((d.resource.as_str(), d.action.as_str()), d))
        .collect();
    assert_eq!(imported.len(), generated.len());
    for d in generated {
        assert_eq!(
            imported.get(&(d.resource.as_str(), d.action.as_str())),
            Some(&d),
            "{}/{}",
            d.resource,
            d.action
        );
    }
    let diff = SpecDiff::between(&builtin, &set).unwrap();
    assert!(diff.is_empty(), "{diff:?}");
}
