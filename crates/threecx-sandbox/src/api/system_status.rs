//! The answers that describe the PBX itself and agree with each other: `SystemStatus` (counts
//! from the store), `LicenseStatus` and `GetSystemParameters` (one licence, the emulated
//! version).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::{lock, App, Call, Reply};
use crate::gen;
use crate::odata::query::QueryOptions;

/// The product code of the sandbox's licence (an Enterprise edition).
const LICENSE_PRODUCT_CODE: &str = "3CXPSENTSANDBOX";

/// Sets the `facts` that `value` (an object) has a property for.
fn overlay(value: &mut Value, facts: &Value, names: &BTreeSet<String>) {
    if let (Value::Object(v), Value::Object(f)) = (value, facts) {
        for (k, x) in f {
            if names.contains(k) {
                v.insert(k.clone(), x.clone());
            }
        }
    }
}

impl App {
    /// The licence facts every answer that carries them agrees on (SystemStatus, LicenseStatus,
    /// GetSystemParameters): the emulated version, one edition, one key.
    fn license_facts(&self) -> Value {
        json!({
            "Version": self.config.emulate_version,
            "Activated": true,
            "LicenseActive": true,
            "ProductCode": LICENSE_PRODUCT_CODE,
            "LicenseKey": "SANDBOX-0000-0000-0000",
            "ResellerName": "threecx sandbox",
            "CompanyName": "threecx sandbox",
            "ExpirationDate": "2099-12-31T00:00:00Z",
            "MaintenanceExpiresAt": "2099-12-31T00:00:00Z",
            "MaxSimCalls": 16,
            "Support": true,
            "IsEnterprise": true,
            "IsProfessional": false,
            "IsMaintainceExpired": false,
        })
    }

    pub(super) fn license_status(&self, call: &Call<'_>) -> Reply {
        let def = &self.catalog.singletons["LicenseStatus"];
        let q = match QueryOptions::from_input(call.input, Some(&def.properties)) {
            Ok(q) => q,
            Err(e) => return Reply::error(400, e),
        };
        let data = lock(&self.data);
        let mut value = data
            .singletons
            .get("LicenseStatus")
            .cloned()
            .unwrap_or_else(|| json!({}));
        overlay(&mut value, &self.license_facts(), &def.properties);
        Reply::json(200, q.project(value))
    }

    pub(super) fn system_parameters(&self, call: &Call<'_>) -> Reply {
        let schema = self.registry.output_schema(call.op);
        let mut value = gen::value(&schema, &schema, self.seed_of(call.op));
        let facts = self.license_facts();
        let names = gen::property_names(&schema, &schema);
        overlay(
            &mut value,
            &json!({"Version": facts["Version"], "FQDN": "sandbox.localhost"}),
            &names,
        );
        if let Some(license) = value.get_mut("License").filter(|l| l.is_object()) {
            let license_names: BTreeSet<String> = license
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            overlay(license, &facts, &license_names);
        }
        Reply::json(200, value)
    }

    pub(super) fn system_status(&self, call: &Call<'_>) -> Reply {
        let def = self.catalog.singletons.get("SystemStatus");
        let q = match QueryOptions::from_input(call.input, def.map(|d| &d.properties)) {
            Ok(q) => q,
            Err(e) => return Reply::error(400, e),
        };
        let data = lock(&self.data);
        let mut status = match data.singletons.get("SystemStatus") {
            Some(Value::Object(o)) => o.clone(),
            _ => Map::new(),
        };
        let users = data.rows("Users") as i64;
        let trunks = data.rows("Trunks") as i64;
        let mut facts = json!({
            "FQDN": "sandbox.localhost",
            "Ip": "127.0.0.1",
            "IpV4": "127.0.0.1",
            "CurrentLocalIp": "127.0.0.1",
            "AvailableLocalIps": "127.0.0.1",
            "LocalIpValid": true,
            "UserExtensions": users,
            "MaxUserExtensions": users.max(10) * 2,
            "ExtensionsTotal": users + data.rows("Queues") as i64 + data.rows("RingGroups") as i64,
            "ExtensionsRegistered": data.tables.get("Users").map_or(0, |t| t.rows.iter().filter(|r| r.get("IsRegistered") == Some(&Value::Bool(true))).count()) as i64,
            "TrunksTotal": trunks,
            "TrunksRegistered": trunks,
            "OutboundRules": data.rows("OutboundRules") as i64,
            "CallsActive": data.rows("ActiveCalls") as i64,
            "MaxSimCalls": 16,
            "IsChatLogEnabled": true,
            "IsAuditLogEnabled": true,
            "HasNotRunningServices": false,
            "HasUnregisteredSystemExtensions": false,
            "DBMaintenanceInProgress": false,
            "Support": true,
            "AutoUpdateEnabled": false,
            "BackupScheduled": false,
            "RecordingStopped": false,
            "RecordingQuotaReached": false,
            "VoicemailStopped": false,
            "VoicemailQuotaReached": false,
            "TotalDiskSpace": 64_i64 << 30,
            "FreeDiskSpace": 40_i64 << 30,
            "DiskUsage": 37,
            "ChatUsedSpace": data.chats.visible_total() as i64 * 200,
            "LogUsedSpace": data.calls.visible_total() as i64 * 400,
        });
        if let (Value::Object(f), Value::Object(license)) = (&mut facts, self.license_facts()) {
            f.extend(license);
        }
        for (k, v) in facts.as_object().expect("object literal") {
            if def.is_none_or(|d| d.properties.contains(k)) {
                status.insert(k.clone(), v.clone());
            }
        }
        Reply::json(200, q.project(Value::Object(status)))
    }
}
