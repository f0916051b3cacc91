//! Test support (feature `test-util`): counters that let tests prove how much work a call did.

use std::cell::Cell;

thread_local! {
    static VALIDATIONS: Cell<u64> = const { Cell::new(0) };
    static LOOKUPS: Cell<u64> = const { Cell::new(0) };
}

pub(crate) fn count_validation() {
    VALIDATIONS.with(|n| n.set(n.get() + 1));
}

/// Input validations run on this thread so far. Per thread, so tests running side by side do
/// not see each other's calls; a current-thread runtime keeps a whole call on one thread.
pub fn validations() -> u64 {
    VALIDATIONS.with(Cell::get)
}

pub(crate) fn count_lookup() {
    LOOKUPS.with(|n| n.set(n.get() + 1));
}

/// Lookups of an operation in a registry (by name, or of an operation's cache slot) on this
/// thread so far; per thread, like [`validations`].
pub fn lookups() -> u64 {
    LOOKUPS.with(Cell::get)
}
