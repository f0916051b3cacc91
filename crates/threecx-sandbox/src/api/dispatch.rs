//! Choosing the handler for a matched action. The actions the sandbox computes are keyed by
//! their generated descriptors, so a renamed or removed action is a compile error here rather
//! than a silent fall back to a generated answer. Entity sets and singletons are recognised by
//! the shape of their path template (data-driven, for every set of the spec), and every other
//! action gets an answer generated from its output schema.

use threecx_ops::{
    call_history_view, chat_history_view, chat_messages_history_view, defs, fax, license_status,
    purge_settings, report_call_log_data, system_status, trunks, users,
};
use threecx_registry::{ActionKind, HttpAction, Operation};

use super::history_views::{HistoryView, Which, CALL_HISTORY, CHAT_HISTORY, CHAT_MESSAGES};
use super::{App, Call, Reply};
use crate::entity_sets::{shape, Shape};

/// What the sandbox computes for one of the actions in [`COMPUTED`].
#[derive(Clone, Copy)]
enum Handler {
    Purge(Which),
    BatchDelete,
    FirstAvailableNumber,
    SystemStatus,
    LicenseStatus,
    SystemParameters,
    /// `Init*` of a DN type: its entity set, and the parameter that names a template when the
    /// new entity is made from one.
    InitDn {
        set: &'static str,
        template: Option<&'static str>,
    },
    CallLog,
    HistoryList(&'static HistoryView),
    HistoryCsv(Which),
}

/// The actions with computed answers, by their generated descriptor.
static COMPUTED: [(&HttpAction, Handler); 19] = [
    (&purge_settings::PURGE_CHATS, Handler::Purge(Which::Chats)),
    (&purge_settings::PURGE_CALLS, Handler::Purge(Which::Calls)),
    (&users::BATCH_DELETE, Handler::BatchDelete),
    (
        &users::GET_FIRST_AVAILABLE_EXTENSION_NUMBER,
        Handler::FirstAvailableNumber,
    ),
    (&system_status::GET_SYSTEM_STATUS, Handler::SystemStatus),
    (&license_status::GET_LICENSE_STATUS, Handler::LicenseStatus),
    (&defs::GET_SYSTEM_PARAMETERS, Handler::SystemParameters),
    (
        &fax::INIT_FAX,
        Handler::InitDn {
            set: "Fax",
            template: None,
        },
    ),
    (
        &trunks::INIT_TRUNK,
        Handler::InitDn {
            set: "Trunks",
            template: Some("template"),
        },
    ),
    (
        &trunks::INIT_MASTER_BRIDGE,
        Handler::InitDn {
            set: "Trunks",
            template: None,
        },
    ),
    (
        &trunks::INIT_SLAVE_BRIDGE,
        Handler::InitDn {
            set: "Trunks",
            template: None,
        },
    ),
    (&report_call_log_data::GET_CALL_LOG_DATA, Handler::CallLog),
    (
        &call_history_view::LIST_CALL_HISTORY_VIEW,
        Handler::HistoryList(&CALL_HISTORY),
    ),
    (
        &chat_history_view::LIST_CHAT_HISTORY_VIEW,
        Handler::HistoryList(&CHAT_HISTORY),
    ),
    (
        &chat_messages_history_view::LIST_CHAT_MESSAGES_HISTORY_VIEW,
        Handler::HistoryList(&CHAT_MESSAGES),
    ),
    (
        &report_call_log_data::DOWNLOAD_CALL_LOG,
        Handler::HistoryCsv(Which::Calls),
    ),
    (
        &call_history_view::DOWNLOAD_CALL_HISTORY,
        Handler::HistoryCsv(Which::Calls),
    ),
    (
        &chat_history_view::DOWNLOAD_CHAT_HISTORY,
        Handler::HistoryCsv(Which::Chats),
    ),
    (
        &chat_messages_history_view::DOWNLOAD_CHAT_MESSAGES_HISTORY,
        Handler::HistoryCsv(Which::Chats),
    ),
];

/// The computed handler of `op`, if it has one. Compared by canonical names, not address: a
/// sandbox of another spec (`--spec`) runs its own descriptors of the same actions.
fn computed(op: &dyn Operation) -> Option<Handler> {
    let meta = op.meta();
    COMPUTED
        .iter()
        .find(|(action, _)| {
            action.meta.action == meta.action && action.meta.resource == meta.resource
        })
        .map(|(_, handler)| *handler)
}

impl App {
    pub(super) fn dispatch(&self, call: &Call<'_>) -> Reply {
        match computed(call.op) {
            Some(handler) => self.run_computed(call, handler),
            None => self.store_or_generated(call),
        }
    }

    fn run_computed(&self, call: &Call<'_>, handler: Handler) -> Reply {
        match handler {
            Handler::Purge(which) => self.purge(call, which),
            Handler::BatchDelete => self.batch_delete(call),
            Handler::FirstAvailableNumber => self.first_available(),
            Handler::SystemStatus => self.system_status(call),
            Handler::LicenseStatus => self.license_status(call),
            Handler::SystemParameters => self.system_parameters(call),
            Handler::InitDn { set, template } => self.init_dn(call, set, template),
            Handler::CallLog => self.call_log(call),
            Handler::HistoryList(view) => self.history_list(call, view, None, None),
            Handler::HistoryCsv(which) => self.history_csv(call, which),
        }
    }

    /// Entity sets and singletons by the shape of their template; the rest generated.
    fn store_or_generated(&self, call: &Call<'_>) -> Reply {
        let template = call.op.template().expect("routes only hold templates");
        let meta = call.op.meta();
        match (meta.kind, shape(template.path)) {
            (ActionKind::List, Shape::Set(set)) if self.catalog.sets.contains_key(set) => {
                self.list_rows(call, &self.catalog.sets[set])
            }
            (ActionKind::List, Shape::Navigation(set, param, nav))
                if self.catalog.sets.contains_key(set) =>
            {
                self.navigation(call, &self.catalog.sets[set], param, nav)
            }
            (ActionKind::Get, Shape::Keyed(set, param)) if self.catalog.sets.contains_key(set) => {
                self.get_row(call, &self.catalog.sets[set], param, None)
            }
            (ActionKind::Get, Shape::Alternate(set, prop))
                if self.catalog.sets.contains_key(set) =>
            {
                self.get_row(call, &self.catalog.sets[set], prop, Some(prop))
            }
            (ActionKind::Create, Shape::Set(set)) if self.catalog.sets.contains_key(set) => {
                self.create_row(call, &self.catalog.sets[set])
            }
            (ActionKind::Update, Shape::Keyed(set, param))
                if self.catalog.sets.contains_key(set) =>
            {
                self.update_row(call, &self.catalog.sets[set], param)
            }
            (ActionKind::Delete, Shape::Keyed(set, param))
                if self.catalog.sets.contains_key(set) =>
            {
                self.delete_row(call, &self.catalog.sets[set], param)
            }
            (ActionKind::Get, Shape::Set(name)) if self.catalog.singletons.contains_key(name) => {
                self.get_singleton(call, name)
            }
            (ActionKind::Update, Shape::Set(name))
                if self.catalog.singletons.contains_key(name) =>
            {
                self.update_singleton(call, name)
            }
            _ => self.generic(call),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_computed_action_is_registered_once_in_the_table() {
        let registry = threecx_ops::registry();
        for (i, (action, _)) in COMPUTED.iter().enumerate() {
            assert!(
                registry
                    .actions()
                    .iter()
                    .any(|op| std::ptr::addr_eq(*op, *action)),
                "{:?} is not in the registry",
                action.meta
            );
            assert!(
                COMPUTED[..i]
                    .iter()
                    .all(|(other, _)| !std::ptr::eq(*other, *action)),
                "{:?} is listed twice",
                action.meta
            );
        }
    }
}
