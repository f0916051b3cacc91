//! Finding the action a request is for: the request path is matched against every registered
//! path template (literal text, `{param}` placeholders, function parameter lists such as
//! `Pbx.F(a={a},b={b})`), and the OData literals in it are read back into JSON values.

use serde_json::Value;
use threecx_core::{Literal, Location, Method};
use threecx_registry::Operation;

use crate::odata::literal::{bare_value, read_literal, RawLiteral};

#[derive(Debug, Clone)]
enum Piece {
    Lit(&'static str),
    Param {
        name: &'static str,
        literal: Literal,
    },
}

struct Route {
    op: &'static dyn Operation,
    method: Method,
    pieces: Vec<Piece>,
    /// Characters of literal text: the more, the more specific the template.
    literal_len: usize,
}

/// Every action's path template, ready to match requests against.
pub struct RouteTable {
    routes: Vec<Route>,
}

/// The action a request is for, with its path parameters as JSON values.
#[derive(Debug)]
pub struct Matched {
    pub op: &'static dyn Operation,
    pub params: Vec<(&'static str, Value)>,
}

/// Why no action answers a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// No template has this path.
    NotFound,
    /// A template has this path, but not with this method.
    MethodNotAllowed,
    /// A template matched, but a key or function parameter is not a literal of the right kind
    /// (e.g. an unquoted string key); 3CX answers 404.
    BadLiteral {
        param: &'static str,
        message: String,
    },
}

fn pieces(template: &'static str, op: &dyn Operation) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').unwrap_or(rest.len() - open);
        if open > 0 {
            out.push(Piece::Lit(&rest[..open]));
        }
        let name = &rest[open + 1..close];
        let literal = op
            .template()
            .and_then(|t| {
                t.params
                    .iter()
                    .find(|p| p.name == name && p.location == Location::Path)
            })
            .map_or(Literal::Quoted, |p| p.literal);
        out.push(Piece::Param { name, literal });
        rest = rest.get(close + 1..).unwrap_or("");
    }
    if !rest.is_empty() {
        out.push(Piece::Lit(rest));
    }
    out
}

/// Matches `path` against `pieces`; the raw literal of each placeholder on success.
fn match_pieces(pieces: &[Piece], path: &str) -> Option<Vec<(&'static str, Literal, RawLiteral)>> {
    let mut at = 0;
    let mut found = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Lit(text) => {
                if !path[at..].starts_with(text) {
                    return None;
                }
                at += text.len();
            }
            Piece::Param { name, literal } => {
                let (raw, used) = read_literal(&path[at..])?;
                found.push((*name, *literal, raw));
                at += used;
            }
        }
    }
    (at == path.len()).then_some(found)
}

/// The JSON value of a placeholder's literal, or why it is not acceptable.
fn convert(name: &'static str, literal: Literal, raw: RawLiteral) -> Result<Value, RouteError> {
    match (literal, raw) {
        (Literal::Quoted, RawLiteral::Quoted(s)) => Ok(Value::String(s)),
        (Literal::Quoted, RawLiteral::Bare(b)) if b == "null" => Ok(Value::Null),
        (Literal::Quoted, RawLiteral::Bare(b)) => Err(RouteError::BadLiteral {
            param: name,
            message: format!(
                "the value of '{name}' must be a quoted string literal ('{b}'), not {b}"
            ),
        }),
        (Literal::Bare, RawLiteral::Bare(b)) => Ok(bare_value(&b)),
        (Literal::Bare, RawLiteral::Quoted(s)) => Err(RouteError::BadLiteral {
            param: name,
            message: format!(
                "the value of '{name}' must not be quoted ('{s}'): it is not a string parameter"
            ),
        }),
    }
}

impl RouteTable {
    /// The table of every operation that is one HTTP request.
    pub fn new(ops: &[&'static dyn Operation]) -> RouteTable {
        let mut routes: Vec<Route> = ops
            .iter()
            .filter_map(|op| {
                let t = op.template()?;
                let pieces = pieces(t.path, *op);
                let literal_len = pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Lit(s) => s.len(),
                        Piece::Param { .. } => 0,
                    })
                    .sum();
                Some(Route {
                    op: *op,
                    method: t.method,
                    pieces,
                    literal_len,
                })
            })
            .collect();
        routes.sort_by_key(|r| std::cmp::Reverse(r.literal_len));
        RouteTable { routes }
    }

    /// The action for `method` and `path` (percent-decoded, relative to `/xapi/v1`).
    pub fn resolve(&self, method: &str, path: &str) -> Result<Matched, RouteError> {
        let mut other_method = false;
        let mut bad_literal = None;
        'routes: for route in &self.routes {
            let Some(found) = match_pieces(&route.pieces, path) else {
                continue;
            };
            if !route.method.as_str().eq_ignore_ascii_case(method) {
                other_method = true;
                continue;
            }
            let mut params = Vec::with_capacity(found.len());
            for (name, literal, raw) in found {
                match convert(name, literal, raw) {
                    Ok(v) => params.push((name, v)),
                    Err(e) => {
                        bad_literal.get_or_insert(e);
                        continue 'routes;
                    }
                }
            }
            return Ok(Matched {
                op: route.op,
                params,
            });
        }
        Err(match bad_literal {
            Some(e) => e,
            None if other_method => RouteError::MethodNotAllowed,
            None => RouteError::NotFound,
        })
    }

    /// Number of templates.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.routes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table() -> RouteTable {
        RouteTable::new(threecx_ops::registry().actions())
    }

    fn find(t: &RouteTable, method: &str, path: &str) -> (String, Vec<(&'static str, Value)>) {
        let m = t
            .resolve(method, path)
            .unwrap_or_else(|e| panic!("{method} {path}: {e:?}"));
        (
            format!("{}/{}", m.op.meta().resource, m.op.meta().action),
            m.params,
        )
    }

    #[test]
    fn every_template_is_in_the_table() {
        assert_eq!(table().len(), threecx_ops::registry().len());
    }

    #[test]
    fn entity_sets_keys_and_alternate_keys() {
        let t = table();
        assert_eq!(find(&t, "GET", "/Users").0, "Users/ListUser");
        assert_eq!(find(&t, "POST", "/Users").0, "Users/CreateUser");
        assert_eq!(
            find(&t, "GET", "/Users(42)"),
            ("Users/GetUser".into(), vec![("Id", json!(42))])
        );
        assert_eq!(find(&t, "PATCH", "/Users(42)").0, "Users/UpdateUser");
        assert_eq!(find(&t, "DELETE", "/Users(42)").0, "Users/DeleteUser");
        assert_eq!(
            find(&t, "GET", "/Users(Number='O''Brien')"),
            (
                "Users/GetUserByNumber".into(),
                vec![("Number", json!("O'Brien"))]
            )
        );
        assert_eq!(
            find(&t, "GET", "/Users(Number='a)/b,c')").1,
            vec![("Number", json!("a)/b,c"))]
        );
        assert_eq!(find(&t, "GET", "/Users(7)/Groups").0, "Users/ListGroups");
        assert_eq!(
            find(&t, "POST", "/Users/Pbx.BatchDelete").0,
            "Users/BatchDelete"
        );
        assert_eq!(
            find(&t, "GET", "/Users/Pbx.GetFirstAvailableExtensionNumber()").0,
            "Users/GetFirstAvailableExtensionNumber"
        );
        assert_eq!(
            find(&t, "DELETE", "/Backups('a.zip')").1,
            vec![("FileName", json!("a.zip"))]
        );
    }

    #[test]
    fn unquoted_string_keys_and_quoted_numbers_are_404() {
        let t = table();
        assert!(matches!(
            t.resolve("GET", "/Users(Number=100)"),
            Err(RouteError::BadLiteral {
                param: "Number",
                ..
            })
        ));
        assert!(matches!(
            t.resolve("GET", "/Users('5')"),
            Err(RouteError::BadLiteral { param: "Id", .. })
        ));
        assert_eq!(
            t.resolve("GET", "/Users(Number='open").unwrap_err(),
            RouteError::NotFound
        );
        assert_eq!(t.resolve("GET", "/Nope").unwrap_err(), RouteError::NotFound);
        assert_eq!(
            t.resolve("GET", "/Users()").unwrap_err(),
            RouteError::NotFound
        );
        assert_eq!(
            t.resolve("PUT", "/Users").unwrap_err(),
            RouteError::MethodNotAllowed
        );
    }

    #[test]
    fn function_parameter_lists() {
        let t = table();
        let path = "/ReportCallLogData/Pbx.GetCallLogData(periodFrom=2024-01-01T00:00:00Z,\
                    periodTo=2024-02-01T00:00:00+01:00,sourceType=0,sourceFilter='',\
                    destinationType=0,destinationFilter='O''B',callsType=0,callTimeFilterType=0,\
                    callTimeFilterFrom=null,callTimeFilterTo='0:00:20',hidePcalls=true)";
        let (name, params) = find(&t, "GET", path);
        assert_eq!(name, "ReportCallLogData/GetCallLogData");
        assert_eq!(
            params,
            vec![
                ("periodFrom", json!("2024-01-01T00:00:00Z")),
                ("periodTo", json!("2024-02-01T00:00:00+01:00")),
                ("sourceType", json!(0)),
                ("sourceFilter", json!("")),
                ("destinationType", json!(0)),
                ("destinationFilter", json!("O'B")),
                ("callsType", json!(0)),
                ("callTimeFilterType", json!(0)),
                ("callTimeFilterFrom", Value::Null),
                ("callTimeFilterTo", json!("0:00:20")),
                ("hidePcalls", json!(true)),
            ]
        );
        // A missing argument, or arguments in another shape, match nothing.
        let short = "/ReportCallLogData/Pbx.GetCallLogData(periodFrom=2024-01-01T00:00:00Z)";
        assert_eq!(t.resolve("GET", short).unwrap_err(), RouteError::NotFound);
        let bad = path.replace("sourceFilter=''", "sourceFilter=x");
        assert!(matches!(
            t.resolve("GET", &bad),
            Err(RouteError::BadLiteral {
                param: "sourceFilter",
                ..
            })
        ));
    }

    #[test]
    fn every_example_request_finds_its_own_action() {
        let registry = threecx_ops::registry();
        let t = table();
        for op in registry.actions() {
            let input = registry.example_input(*op);
            let req = registry
                .prepare(*op, input)
                .unwrap()
                .into_request()
                .unwrap();
            let raw = req.path_and_query.split('?').next().unwrap();
            let path = percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .unwrap();
            let m = t
                .resolve(req.method.as_str(), &path)
                .unwrap_or_else(|e| panic!("{op:?} {path}: {e:?}"));
            assert!(
                std::ptr::addr_eq(m.op as *const dyn Operation, *op as *const dyn Operation),
                "{path} resolved to {:?}, not {op:?}",
                m.op
            );
        }
    }
}
