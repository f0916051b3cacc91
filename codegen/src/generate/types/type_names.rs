//! Rust type names for models and actions: unique, and never one the generated code uses
//! unqualified.

use crate::generate::rust_names::{self, Namer};

/// Names that must not be model or action type names: the generated code and its users refer to
/// these unqualified.
pub const RESERVED_TYPE_NAMES: &[&str] = &[
    "AsMut",
    "AsRef",
    "Box",
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "Drop",
    "Eq",
    "Err",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "Hash",
    "Into",
    "IntoIterator",
    "Iterator",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Self",
    "Send",
    "Sized",
    "Some",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "TryFrom",
    "TryInto",
    "Value",
    "Vec",
];

/// A type name that avoids [`RESERVED_TYPE_NAMES`] (`String` → `StringModel`), unique in `namer`.
pub fn unique_type_name(namer: &mut Namer, name: &str) -> String {
    let mut base = rust_names::type_name(name);
    if RESERVED_TYPE_NAMES.contains(&base.as_str()) {
        base.push_str("Model");
    }
    namer.unique(&base)
}
