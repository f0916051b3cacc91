//! Loading the OpenAPI document (a file, or a PBX's `https://<pbx>/xapi/v1/swagger.yaml`) and
//! reading it as JSON, with `$ref` resolution for components.

use std::path::Path;

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The raw spec and where it came from.
#[derive(Debug, Clone)]
pub struct RawSpec {
    pub bytes: Vec<u8>,
    /// What the manifest records: the file name, or the URL without credentials, query or
    /// fragment. Never a local absolute path, so the output does not depend on the checkout.
    pub source: String,
    /// The last path segment, for version detection (`swagger-20.0.10.yaml`).
    pub file_name: String,
}

impl RawSpec {
    pub fn sha256(&self) -> String {
        let digest = Sha256::digest(&self.bytes);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Reads a spec from a path or an `http(s)://` URL. `insecure` skips TLS certificate checks
/// (a self-hosted PBX with a self-signed certificate).
pub fn load(location: &str, insecure: bool) -> Result<RawSpec> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return fetch(location, insecure);
    }
    let path = Path::new(location);
    let bytes = std::fs::read(path)
        .map_err(|e| Error::new(format!("cannot read spec file {location}: {e}")))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::new(format!("spec path {location} has no file name")))?;
    Ok(RawSpec {
        bytes,
        source: file_name.clone(),
        file_name,
    })
}

fn fetch(location: &str, insecure: bool) -> Result<RawSpec> {
    let mut url = reqwest::Url::parse(location)
        .map_err(|e| Error::new(format!("invalid spec URL {location}: {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the HTTP runtime: {e}")))?;
    let bytes = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(insecure)
            .build()
            .map_err(|e| Error::new(format!("cannot build the HTTP client: {e}")))?;
        let response = client.get(url.clone()).send().await.map_err(|e| {
            // The error's own text would repeat the URL, credentials and query included.
            let e = chain(&e.without_url());
            Error::new(format!(
                "cannot fetch the spec from {}: {e} (check the host, the port: 443 hosted, \
                 often 5001 self-hosted, and TLS; --insecure accepts a self-signed certificate)",
                redacted(&url)
            ))
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::new(format!(
                "fetching the spec from {} answered HTTP {status}",
                redacted(&url)
            )));
        }
        let body = response.bytes().await.map_err(|e| {
            Error::new(format!(
                "reading the spec body failed: {}",
                chain(&e.without_url())
            ))
        })?;
        Ok(body.to_vec())
    })?;
    url = redacted(&url);
    let file_name = url
        .path_segments()
        .and_then(|mut s| s.next_back().map(str::to_string))
        .unwrap_or_default();
    Ok(RawSpec {
        bytes,
        source: url.to_string(),
        file_name,
    })
}

/// An error with its causes: "error sending request: client error (Connect): ... refused".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The URL without user info, query and fragment: what may be printed and recorded.
fn redacted(url: &reqwest::Url) -> reqwest::Url {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// Parses YAML (JSON is YAML too) into a JSON value. Map keys become strings (`200:` → "200").
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_slice(bytes)
        .map_err(|e| Error::new(format!("the spec is not valid YAML/JSON: {e}")))?;
    yaml_to_json(yaml)
}

fn yaml_to_json(value: serde_yaml_ng::Value) -> Result<Value> {
    use serde_yaml_ng::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                Value::Number(
                    Number::from_f64(f)
                        .ok_or_else(|| Error::new(format!("unsupported number {n} in the spec")))?,
                )
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<Vec<_>>>()?,
        ),
        Y::Mapping(mapping) => {
            let mut map = Map::new();
            for (k, v) in mapping {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => {
                        return Err(Error::new(format!(
                            "unsupported map key {other:?} in the spec"
                        )))
                    }
                };
                map.insert(key, yaml_to_json(v)?);
            }
            Value::Object(map)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

/// The parsed document, with component lookups.
#[derive(Debug, Clone)]
pub struct Spec {
    pub doc: Value,
}

/// Reference prefix of component schemas.
pub const SCHEMA_REF: &str = "#/components/schemas/";

impl Spec {
    pub fn new(doc: Value) -> Result<Spec> {
        if !doc.is_object() {
            return Err(Error::new("the spec is not an object"));
        }
        let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
        if !version.starts_with("3.") {
            return Err(Error::new(format!(
                "expected an OpenAPI 3.x document, found openapi: {version:?}"
            )));
        }
        Ok(Spec { doc })
    }

    pub fn openapi_version(&self) -> &str {
        self.doc["openapi"].as_str().unwrap_or("")
    }

    /// `components.<kind>` (empty when absent).
    pub fn components(&self, kind: &str) -> Map<String, Value> {
        self.doc
            .get("components")
            .and_then(|c| c.get(kind))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    /// Follows `$ref: '#/components/<kind>/<name>'` (also chains of them) to the component;
    /// anything without `$ref` is returned as is.
    pub fn resolve<'a>(&'a self, mut value: &'a Value, kind: &str) -> Result<&'a Value> {
        let prefix = format!("#/components/{kind}/");
        for _ in 0..16 {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                return Ok(value);
            };
            let name = reference.strip_prefix(&prefix).ok_or_else(|| {
                Error::new(format!(
                    "unsupported $ref {reference:?} (expected {prefix}...)"
                ))
            })?;
            value = self
                .doc
                .get("components")
                .and_then(|c| c.get(kind))
                .and_then(|c| c.get(name))
                .ok_or_else(|| Error::new(format!("$ref {reference:?} points to nothing")))?;
        }
        Err(Error::new(format!("$ref chain too long at {kind}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_keys_become_strings() {
        let v = parse(b"openapi: 3.0.4\nresponses:\n  200: {a: 1}\n  '204': {b: 2.5}\n").unwrap();
        assert_eq!(v["responses"]["200"]["a"], 1);
        assert_eq!(v["responses"]["204"]["b"], 2.5);
    }

    #[test]
    fn resolves_component_refs() {
        let doc = parse(
            b"openapi: 3.0.4\ncomponents:\n  parameters:\n    top: {name: $top, in: query}\n    alias: {$ref: '#/components/parameters/top'}\n",
        )
        .unwrap();
        let spec = Spec::new(doc).unwrap();
        let p: Value = serde_json::json!({"$ref": "#/components/parameters/alias"});
        assert_eq!(spec.resolve(&p, "parameters").unwrap()["name"], "$top");
        let bad: Value = serde_json::json!({"$ref": "#/components/parameters/none"});
        assert!(spec.resolve(&bad, "parameters").is_err());
    }

    #[test]
    fn sha256_is_hex() {
        let raw = RawSpec {
            bytes: b"abc".to_vec(),
            source: "x".into(),
            file_name: "x".into(),
        };
        assert_eq!(
            raw.sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
