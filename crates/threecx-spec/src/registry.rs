//! The registry of a [`SpecSet`]: its actions as leaked `'static` operations, plus the actions
//! of linked extension crates, built once per spec (by hash) for the life of the process.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use threecx_registry::{ModelDefs, Operation, Registration, Registry};

use crate::{SpecError, SpecSet};

/// `Registry::from_spec(&set)`: the registry of exactly a spec's actions (and any extension's).
pub trait FromSpec {
    /// Builds it on first use for this spec (by SHA-256), then returns the same registry.
    fn from_spec(set: &SpecSet) -> Result<&'static Registry, SpecError>;
}

impl FromSpec for Registry {
    fn from_spec(set: &SpecSet) -> Result<&'static Registry, SpecError> {
        registry_of(set)
    }
}

/// See [`FromSpec::from_spec`].
pub fn registry_of(set: &SpecSet) -> Result<&'static Registry, SpecError> {
    // Keyed by hash so a fleet of PBXs at one version shares one registry: the leaked
    // descriptors are then bounded by the number of distinct specs, not of PBXs.
    static BUILT: Mutex<Option<HashMap<String, &'static Registry>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(registry) = built.get(&set.sha256) {
        return Ok(registry);
    }
    let spec_ops = set
        .actions
        .iter()
        .cloned()
        .map(|d| d.leak() as &'static dyn Operation);
    let models = std::iter::once(set.models.as_str())
        .chain(inventory::iter::<ModelDefs>.into_iter().map(|m| m.0));
    let registry =
        Registry::from_operations(spec_ops.chain(extensions()), models).map_err(|e| {
            SpecError::new(format!(
                "the actions of {} clash with a linked extension: {e}",
                set.source
            ))
        })?;
    let registry: &'static Registry = Box::leak(Box::new(registry));
    built.insert(set.sha256.clone(), registry);
    Ok(registry)
}

/// Operations registered with `inventory` that are not generated actions: extensions, which
/// keep working on top of any spec.
pub fn extensions() -> Vec<&'static dyn Operation> {
    // Referring to the ops crate keeps its registrations linked, so they can be told apart.
    let generated: HashSet<*const ()> = threecx_ops::ALL_ACTIONS
        .iter()
        .map(|a| *a as *const _ as *const ())
        .collect();
    inventory::iter::<Registration>
        .into_iter()
        .map(|r| r.0)
        .filter(|op| !generated.contains(&(*op as *const dyn Operation as *const ())))
        .collect()
}
