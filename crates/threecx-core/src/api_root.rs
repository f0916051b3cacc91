//! Where the API of one PBX lives: the PBX URL as given (`pbx.example.com:5001`,
//! `https://pbx/xapi/v1/`...) normalised once into its base URL, API root and token endpoint.
//!
//! [`crate::Config`] holds one, and front ends use it alone for dry runs: a full URL for a
//! request needs no credentials.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::error::{Error, Result};

/// The API root below the base URL.
const API_PATH: &str = "/xapi/v1";
/// The OAuth2 token endpoint below the base URL.
const TOKEN_PATH: &str = "/connect/token";

/// The API root of a PBX, `<base>/xapi/v1`, parsed and checked from a PBX URL.
///
/// `Display` shows the API root. The full URL of a request is
/// [`ApiRoot::url_of`]`(req)`: the root followed by the request's `path_and_query`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiRoot {
    base_url: String,
    api_root: String,
    token_url: String,
    loopback: bool,
    /// The API root with a trailing `/`, parsed once: request URLs are resolved against it
    /// (see [`ApiRoot::request_url`]).
    dir: Url,
}

impl ApiRoot {
    /// Parses a PBX URL: `https://pbx.example.com`, `https://pbx.example.com:5001`; a trailing `/`
    /// or `/xapi/v1` is tolerated, and `https://` is assumed when no scheme is given. Plain
    /// `http://` is accepted only for loopback hosts (local simulators and tests): the secret must
    /// not cross a network unencrypted. A path prefix other than `/xapi/v1` is kept (a reverse
    /// proxy may mount the PBX below one). Errors are [`Error::Config`] for field `base_url`.
    pub fn parse(url: &str) -> Result<ApiRoot> {
        let (base_url, loopback) = normalize_base_url(url)?;
        let api_root = format!("{base_url}{API_PATH}");
        let dir = Url::parse(&format!("{api_root}/")).map_err(|e| Error::Config {
            field: "base_url",
            message: format!("the API root {api_root} is not a URL ({e})"),
        })?;
        Ok(ApiRoot {
            dir,
            api_root,
            token_url: format!("{base_url}{TOKEN_PATH}"),
            base_url,
            loopback,
        })
    }

    /// The normalised base URL, without a trailing `/`: `https://pbx.example.com:5001`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The API root every request path is relative to: `<base>/xapi/v1`.
    pub fn as_str(&self) -> &str {
        &self.api_root
    }

    /// The OAuth2 token endpoint: `<base>/connect/token`.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// Whether the PBX is on this machine (`localhost`, `127.0.0.0/8`, `::1`): the only hosts
    /// plain `http://` is accepted for.
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// The full URL of `path_and_query` (as in [`crate::PreparedRequest::path_and_query`]).
    pub fn join(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.api_root)
    }

    /// [`ApiRoot::join`] as the parsed URL an HTTP client sends to, the same URL a full parse of
    /// the joined text gives. Every request needs one, and a full parse (scheme, host and port
    /// again) costs more than building the rest of the request; resolving the path and query
    /// against the root parsed once does not. Paths that resolution could read differently
    /// (`//host`, a leading space or `\`, a `scheme:` first segment) are parsed in full.
    pub(crate) fn request_url(&self, path_and_query: &str) -> Result<Url> {
        let relative = path_and_query.strip_prefix('/').unwrap_or("");
        let first_segment = relative.split(['/', '\\', '?', '#']).next().unwrap_or("");
        let resolves_alike = relative
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
            && !first_segment.contains(':');
        let url = if resolves_alike {
            self.dir.join(relative)
        } else {
            Url::parse(&self.join(path_and_query))
        };
        url.map_err(|e| {
            Error::invalid(
                "",
                format!("a request path that is a valid URI ({e}): {path_and_query}"),
            )
        })
    }
}

impl FromStr for ApiRoot {
    type Err = Error;

    fn from_str(url: &str) -> Result<ApiRoot> {
        ApiRoot::parse(url)
    }
}

impl fmt::Display for ApiRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.api_root)
    }
}

/// `https://pbx:5001/xapi/v1/` → `https://pbx:5001`, and whether the host is loopback. A path
/// prefix other than `/xapi/v1` is kept (a reverse proxy may mount the PBX below one).
fn normalize_base_url(raw: &str) -> Result<(String, bool)> {
    let bad = |message: String| Error::Config {
        field: "base_url",
        message,
    };
    let trimmed = raw.trim();
    // Never echo a URL that may carry credentials (`https://user:pw@host`).
    let shown = if trimmed.contains('@') {
        "the URL"
    } else {
        trimmed
    };
    if trimmed.is_empty() {
        return Err(bad(
            "empty; give the PBX URL, e.g. https://pbx.example.com".to_owned()
        ));
    }
    // `pbx.example.com:5001` would otherwise parse as scheme `pbx.example.com`.
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| {
        bad(format!(
            "\"{shown}\" is not a URL ({e}); give e.g. https://pbx.example.com"
        ))
    })?;
    let host = match url.host() {
        Some(h) => h,
        None => return Err(bad(format!("\"{shown}\" has no host name"))),
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(bad(format!(
                "\"{shown}\" uses plain http, which would send the client secret unencrypted; \
                 use https:// (3CX serves the API over HTTPS only)"
            )))
        }
        other => return Err(bad(format!("unsupported scheme \"{other}\"; use https://"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "must not contain a user name or password; give the API client's ID and secret \
             separately"
                .to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(format!(
            "\"{shown}\" must not have a query or fragment; give e.g. https://pbx.example.com"
        )));
    }

    let mut path = url.path().trim_end_matches('/').to_owned();
    if let Some(prefix) = path.strip_suffix(API_PATH) {
        path = prefix.trim_end_matches('/').to_owned();
    }
    // `Url` drops the default port (443 for https), so the normalised form is canonical.
    let mut base = format!("{}://{}", url.scheme(), host_for_url(&host));
    if let Some(port) = url.port() {
        base.push_str(&format!(":{port}"));
    }
    base.push_str(&path);
    Ok((base, is_loopback(&host)))
}

fn host_for_url(host: &url::Host<&str>) -> String {
    match host {
        url::Host::Domain(d) => (*d).to_owned(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => format!("[{ip}]"),
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> Result<ApiRoot> {
        ApiRoot::parse(url)
    }

    #[test]
    fn base_url_forms_normalise() {
        for (input, base) in [
            ("https://pbx.example.com", "https://pbx.example.com"),
            ("https://pbx.example.com/", "https://pbx.example.com"),
            ("https://pbx.example.com/xapi/v1", "https://pbx.example.com"),
            (
                "https://pbx.example.com/xapi/v1/",
                "https://pbx.example.com",
            ),
            ("https://pbx:5001", "https://pbx:5001"),
            ("https://pbx:5001/xapi/v1", "https://pbx:5001"),
            ("https://PBX.Example.com:443/", "https://pbx.example.com"),
            ("pbx.example.com:5001", "https://pbx.example.com:5001"),
            ("  https://pbx.example.com  ", "https://pbx.example.com"),
            (
                "https://proxy.example.com/3cx/",
                "https://proxy.example.com/3cx",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:8080/xapi/v1", "http://localhost:8080"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            let c = config(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(c.base_url(), base, "{input}");
            let loopback = ["127.0.0.1", "localhost", "[::1]"]
                .iter()
                .any(|h| base.contains(h));
            assert_eq!(c.is_loopback(), loopback, "{input}");
        }
        let c = config("https://pbx:5001/").unwrap();
        assert_eq!(c.as_str(), "https://pbx:5001/xapi/v1");
        assert_eq!(c.to_string(), "https://pbx:5001/xapi/v1");
        assert_eq!(c.token_url(), "https://pbx:5001/connect/token");
        assert_eq!(
            c.join("/Users(Number='1')?$top=1"),
            "https://pbx:5001/xapi/v1/Users(Number='1')?$top=1"
        );
        assert_eq!("pbx:5001".parse::<ApiRoot>().unwrap(), c);
    }

    #[test]
    fn request_urls_are_what_a_full_parse_of_the_joined_text_gives() {
        for base in [
            "https://pbx:5001",
            "http://127.0.0.1:8080/3cx/",
            "https://[::1]",
        ] {
            let root = ApiRoot::parse(base).unwrap();
            for path in [
                "/Users",
                "/Users(42)?$select=Id,Number&$expand=Groups",
                "/Users(Number='100')",
                "/Users(Number='a%27b c')?$filter=contains(Name,'x y')",
                "/Users(Number='a:b')/Pbx.GetPhones()",
                "/Pbx.GetSystemStatus()",
                "/Defs?$top=1&$skip=2#frag",
                "/Users/../Groups/./x",
                "/Users?$filter=Name eq '\"q\"'&x=<>{}`^|",
                "/Users('\u{e9}\u{1F600}')",
                "//evil.example.com/x",
                "/\\evil.example.com/x",
                "/ Users",
                "/javascript:alert(1)",
                "/?$top=1",
                "/",
                "",
                "Users",
                "/Users\t(1)\n",
            ] {
                let full = Url::parse(&root.join(path)).unwrap();
                let resolved = root.request_url(path).unwrap();
                assert_eq!(resolved.as_str(), full.as_str(), "{base} + {path:?}");
            }
        }
    }

    #[test]
    fn bad_urls_name_the_field() {
        for input in [
            "",
            "http://pbx.example.com",
            "ftp://pbx.example.com",
            "https://user:pw@pbx.example.com",
            "https://pbx.example.com/?x=1",
            "https://",
        ] {
            match config(input) {
                Err(Error::Config { field, message }) => {
                    assert_eq!(field, "base_url", "{input}");
                    assert!(!message.is_empty());
                }
                other => panic!("{input}: {other:?}"),
            }
        }
    }
}
