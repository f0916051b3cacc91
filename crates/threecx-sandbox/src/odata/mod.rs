//! OData pieces: literals in paths, `$filter`, and the other query options.

pub mod filter;
pub mod literal;
pub mod query;
