//! What a configuration snapshot reads and what it leaves out: two rule tables, the only place
//! where these decisions are written down.
//!
//! Candidates are found by shape, from the registry: a resource's `list` action of its own
//! entity set (`GET /Users`, paged) or its `get` action of a singleton (`GET /AISettings`), when
//! the action needs no input. Sub-paths (`/MyUser/Groups`, `/Defs/Codecs`) are parts of another
//! resource and never candidates. [`RESOURCE_RULES`] then decides per candidate, first matching
//! rule wins; [`FIELD_RULES`] names the properties dropped from every entity of a resource.

use threecx_ops::registry_api::{ActionKind, Operation, Registry};

/// How a resource is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// An entity set, paged through with its List action.
    List,
    /// A singleton, fetched with its Get action.
    Get,
}

impl Read {
    pub fn as_str(self) -> &'static str {
        match self {
            Read::List => "list",
            Read::Get => "get",
        }
    }
}

/// One include/exclude rule: `resource` is a name or a pattern with `*` at either end.
pub struct ResourceRule {
    pub resource: &'static str,
    /// The kind of read the rule applies to; `None` for both.
    pub read: Option<Read>,
    pub include: bool,
    pub why: &'static str,
}

const fn exclude(resource: &'static str, why: &'static str) -> ResourceRule {
    ResourceRule {
        resource,
        read: None,
        include: false,
        why,
    }
}

/// Which candidates a snapshot reads; the first rule that matches decides.
pub const RESOURCE_RULES: &[ResourceRule] = &[
    exclude(
        "*HistoryView",
        "call and chat history: a record of activity, and large",
    ),
    exclude("ActiveCalls", "calls in progress: live state"),
    exclude("EventLogs", "the event log: grows by itself"),
    exclude("Recordings", "call recordings: activity, not configuration"),
    exclude(
        "LastCdrAndChatMessageTimestamp",
        "time of the last call and chat: activity",
    ),
    exclude(
        "Backups",
        "backup files: made by the backup schedule, not by a change",
    ),
    exclude(
        "*Status",
        "SystemStatus, LicenseStatus: counters, disk space, registrations",
    ),
    exclude(
        "Firewall",
        "the result of the last firewall check, not a setting",
    ),
    exclude(
        "Services",
        "running services with CPU, memory and thread counts",
    ),
    exclude(
        "NetworkInterfaces",
        "the host's network interfaces, not PBX configuration",
    ),
    exclude(
        "DeviceInfos",
        "phones detected on the network, with the time each was seen",
    ),
    exclude(
        "Blocklist",
        "IP addresses blocked by anti-hacking on failed logins, with expiry",
    ),
    exclude(
        "*Tokens",
        "MyTokens, SecurityTokens: login sessions, and secret tokens",
    ),
    exclude(
        "My*",
        "MyUser, MyGroup: the API client's own user and group, already in Users and Groups",
    ),
    exclude(
        "Peers",
        "a directory of every extension number, each already in its own resource",
    ),
    exclude(
        "Countries",
        "reference data that ships with 3CX, not configured",
    ),
    exclude(
        "CountryCodes",
        "reference data that ships with 3CX, not configured",
    ),
    exclude("Defs", "reference data that ships with 3CX, not configured"),
    exclude("Firmwares", "firmware files the PBX downloads by itself"),
    ResourceRule {
        resource: "*",
        read: Some(Read::List),
        include: true,
        why: "an entity set: configuration, read page by page",
    },
    ResourceRule {
        resource: "*",
        read: Some(Read::Get),
        include: true,
        why: "a singleton: a settings object",
    },
];

/// Why a property is left out of snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Changes without a configuration change (registrations, presence, timestamps).
    Volatile,
    /// A password, PIN, key or secret: snapshots are meant to be kept in git.
    Credential,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Volatile => "volatile",
            Reason::Credential => "credential",
        }
    }
}

/// Properties dropped from the entities of the resources matching `resource` (top level of
/// each entity or singleton).
pub struct FieldRule {
    pub resource: &'static str,
    pub fields: &'static [&'static str],
    pub reason: Reason,
}

/// What is dropped, and why.
pub const FIELD_RULES: &[FieldRule] = &[
    // A phone (or app, queue, IVR endpoint) registers and unregisters all day.
    FieldRule {
        resource: "*",
        fields: &["IsRegistered"],
        reason: Reason::Volatile,
    },
    // The status the user picks in the app, and whether the agent is logged into queues.
    FieldRule {
        resource: "Users",
        fields: &["CurrentProfileName", "QueueStatus"],
        reason: Reason::Volatile,
    },
    // Whether the office is open right now, and when someone last logged in.
    FieldRule {
        resource: "Groups",
        fields: &["CurrentGroupHours", "LastLoginTime"],
        reason: Reason::Volatile,
    },
    // Whether the provider answers right now.
    FieldRule {
        resource: "Trunks",
        fields: &["IsOnline"],
        reason: Reason::Volatile,
    },
    // When the script last compiled (it recompiles on restarts too).
    FieldRule {
        resource: "CallFlowApps",
        fields: &["CompilationLastSuccess"],
        reason: Reason::Volatile,
    },
    // When the API client was last used.
    FieldRule {
        resource: "ServicePrincipals",
        fields: &["LastUsed"],
        reason: Reason::Volatile,
    },
    // The session bridge's live connection.
    FieldRule {
        resource: "Sbcs",
        fields: &["Connection", "HasConnection"],
        reason: Reason::Volatile,
    },
    FieldRule {
        resource: "*",
        fields: &[
            "AccessPassword",
            "APIKey",
            "AuthPassword",
            "ClientSecret",
            "DeskphonePassword",
            "LicenseKey",
            "MailPassword",
            "ManagementAPIKey",
            "Password",
            "PhoneWebPassword",
            "PrivateKey",
            "SbcPrivateKey",
            "Secret",
            "ServiceAccountCredentials",
            "TranscribeKeyGrok",
            "TranscribeSecretKey",
            "VMPIN",
        ],
        reason: Reason::Credential,
    },
];

/// Whether `name` matches `pattern` (`*` alone, `*suffix`, `prefix*`, or the exact name).
pub fn matches(pattern: &str, name: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(suffix), _) => name.ends_with(suffix),
        (None, Some(prefix)) => name.starts_with(prefix),
        (None, None) => name == pattern,
    }
}

/// The rule deciding about `resource` read with `read`.
pub fn rule_for(resource: &str, read: Read) -> Option<&'static ResourceRule> {
    RESOURCE_RULES
        .iter()
        .find(|r| matches(r.resource, resource) && r.read.is_none_or(|k| k == read))
}

/// The properties dropped from `resource`'s entities, with the reason.
pub fn dropped_fields(resource: &str) -> impl Iterator<Item = (&'static str, Reason)> + '_ {
    FIELD_RULES
        .iter()
        .filter(move |r| matches(r.resource, resource))
        .flat_map(|r| r.fields.iter().map(move |f| (*f, r.reason)))
}

/// One resource a snapshot reads.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub op: &'static dyn Operation,
    pub read: Read,
}

impl Source {
    pub fn resource(&self) -> &'static str {
        self.op.meta().resource
    }
}

/// Every resource the rules include, in the registry's (sorted) order.
pub fn sources(registry: &Registry) -> Vec<Source> {
    candidates(registry)
        .filter(|s| rule_for(s.resource(), s.read).is_some_and(|r| r.include))
        .collect()
}

/// The candidates the rules leave out, with the reason.
pub fn excluded(registry: &Registry) -> Vec<(&'static str, &'static str)> {
    candidates(registry)
        .filter_map(|s| {
            let rule = rule_for(s.resource(), s.read);
            match rule {
                Some(r) if r.include => None,
                Some(r) => Some((s.resource(), r.why)),
                None => Some((s.resource(), "no rule includes it")),
            }
        })
        .collect()
}

/// One candidate per resource at most.
fn candidates(registry: &Registry) -> impl Iterator<Item = Source> + '_ {
    registry.resources().iter().filter_map(move |resource| {
        resource
            .actions()
            .iter()
            .find_map(|op| candidate(registry, *op))
    })
}

/// `op` as a snapshot candidate: a List of the resource's own set or a Get of a singleton, at a
/// path of one segment without parameters, needing no input.
fn candidate(registry: &Registry, op: &'static dyn Operation) -> Option<Source> {
    let read = match op.meta().kind {
        ActionKind::List => Read::List,
        ActionKind::Get => Read::Get,
        _ => return None,
    };
    let path = op.template()?.path;
    let one_segment = path.len() > 1 && !path[1..].contains(['/', '(']);
    let required = registry.input_schema_ref(op).get("required").cloned();
    let needs_input = required
        .as_ref()
        .and_then(|r| r.as_array())
        .is_some_and(|r| !r.is_empty());
    (one_segment && !needs_input).then_some(Source { op, read })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("*HistoryView", "CallHistoryView"));
        assert!(matches("My*", "MyUser"));
        assert!(matches("Users", "Users") && !matches("Users", "MyUsers"));
        assert!(matches("*", "anything"));
    }

    #[test]
    fn the_rules_pick_configuration_only() {
        let names: Vec<&str> = sources(threecx_ops::registry())
            .iter()
            .map(Source::resource)
            .collect();
        for wanted in [
            "Users",
            "Groups",
            "Queues",
            "Trunks",
            "AISettings",
            "OfficeHours",
        ] {
            assert!(names.contains(&wanted), "{wanted} missing: {names:?}");
        }
        for unwanted in [
            "CallHistoryView",
            "ActiveCalls",
            "EventLogs",
            "SystemStatus",
            "MyUser",
            "Defs",
            "Peers",
        ] {
            assert!(!names.contains(&unwanted), "{unwanted} included");
        }
        // One source per resource.
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(unique, names);
    }

    #[test]
    fn fields_dropped_per_resource() {
        let users: Vec<&str> = dropped_fields("Users").map(|(f, _)| f).collect();
        assert!(users.contains(&"IsRegistered") && users.contains(&"QueueStatus"));
        assert!(users.contains(&"VMPIN"));
        let groups: Vec<&str> = dropped_fields("Groups").map(|(f, _)| f).collect();
        assert!(!groups.contains(&"QueueStatus"));
    }
}
