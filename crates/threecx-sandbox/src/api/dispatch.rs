//! Choosing the handler for a matched action.

use threecx_registry::ActionKind;

use super::history_views::Which;
use super::{App, Call, Reply};
use crate::entity_sets::{shape, Shape};
use crate::history;

impl App {
    pub(super) fn dispatch(&self, call: &Call<'_>) -> Reply {
        let meta = call.op.meta();
        let special = match (meta.resource, meta.action) {
            ("PurgeSettings", "PurgeChats") => Some(self.purge(call, Which::Chats)),
            ("PurgeSettings", "PurgeCalls") => Some(self.purge(call, Which::Calls)),
            ("Users", "BatchDelete") => Some(self.batch_delete(call)),
            ("Users", "GetFirstAvailableExtensionNumber") => Some(self.first_available()),
            ("SystemStatus", "GetSystemStatus") => Some(self.system_status(call)),
            ("LicenseStatus", "GetLicenseStatus") => Some(self.license_status(call)),
            ("Defs", "GetSystemParameters") => Some(self.system_parameters(call)),
            ("Fax", "InitFax") => Some(self.init_dn(call, "Fax", None)),
            ("Trunks", "InitTrunk") => Some(self.init_dn(call, "Trunks", Some("template"))),
            ("Trunks", "InitMasterBridge" | "InitSlaveBridge") => {
                Some(self.init_dn(call, "Trunks", None))
            }
            ("ReportCallLogData", "GetCallLogData") => Some(self.call_log(call)),
            ("CallHistoryView", "ListCallHistoryView") => Some(self.history_list(
                call,
                Which::Calls,
                history::call_history_row,
                "SegmentStartTime",
                "SegmentId",
                None,
                None,
            )),
            ("ChatHistoryView", "ListChatHistoryView") => Some(self.history_list(
                call,
                Which::Chats,
                history::chat_history_row,
                "TimeSent",
                "ConversationId",
                None,
                None,
            )),
            ("ChatMessagesHistoryView", "ListChatMessagesHistoryView") => Some(self.history_list(
                call,
                Which::Chats,
                history::chat_message_row,
                "TimeSent",
                "MessageId",
                None,
                None,
            )),
            ("ReportCallLogData", "DownloadCallLog")
            | ("CallHistoryView", "DownloadCallHistory") => {
                Some(self.history_csv(call, Which::Calls))
            }
            ("ChatHistoryView", "DownloadChatHistory")
            | ("ChatMessagesHistoryView", "DownloadChatMessagesHistory") => {
                Some(self.history_csv(call, Which::Chats))
            }
            _ => None,
        };
        if let Some(reply) = special {
            return reply;
        }
        let template = call.op.template().expect("routes only hold templates");
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
