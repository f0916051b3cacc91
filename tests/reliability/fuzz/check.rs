//! Checks of one fuzzed input: its refusal pointer, or the request built from it.

use std::panic::{catch_unwind, AssertUnwindSafe};

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};
use threecx_core::literal::odata_literal;
use threecx_core::{Error, Location, PreparedRequest, RequestTemplate};
use threecx_registry::{Operation, Registry};

// ---------------------------------------------------------------------------------------------
// Checks

/// `pointer` is a JSON pointer (RFC 6901) that leads into `input`: to a node, or to a missing
/// key of an object that is there.
pub(super) fn check_pointer(pointer: &str, input: &Value) -> Result<(), String> {
    if pointer.is_empty() {
        return Ok(());
    }
    if !pointer.starts_with('/') {
        return Err(format!("{pointer:?} is not a JSON pointer"));
    }
    let bad_escape = pointer
        .match_indices('~')
        .any(|(i, _)| !matches!(pointer.as_bytes().get(i + 1), Some(b'0' | b'1')));
    if bad_escape {
        return Err(format!("{pointer:?} has an invalid ~ escape"));
    }
    if input.pointer(pointer).is_some() {
        return Ok(());
    }
    let parent = &pointer[..pointer.rfind('/').unwrap_or(0)];
    match input.pointer(parent) {
        Some(Value::Object(_)) => Ok(()),
        _ => Err(format!("{pointer:?} leads nowhere in the input")),
    }
}

/// Characters a path literal may hold after encoding: unreserved, `'`, `:` and `%XX`.
pub(super) fn literal_safe(encoded: &str) -> bool {
    let b = encoded.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
                {
                    return false;
                }
                i += 3;
                continue;
            }
            c if c.is_ascii_alphanumeric() || b"-._~':".contains(&c) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

pub(super) enum Seg<'t> {
    Lit(&'t str),
    Var(&'t str),
}

pub(super) fn segments(template: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("balanced template");
        if open > 0 {
            out.push(Seg::Lit(&rest[..open]));
        }
        out.push(Seg::Var(&rest[open + 1..close]));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Seg::Lit(rest));
    }
    out
}

/// Matches `path` against the template's segments, each placeholder taking a run of
/// literal-safe characters; the placeholders' texts on success.
pub(super) fn match_path<'p>(segs: &[Seg<'_>], path: &'p str, caps: &mut Vec<&'p str>) -> bool {
    match segs.split_first() {
        None => path.is_empty(),
        Some((Seg::Lit(l), rest)) => path
            .strip_prefix(l)
            .is_some_and(|p| match_path(rest, p, caps)),
        Some((Seg::Var(_), rest)) => {
            let run = path
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || b"-._~':%".contains(c))
                .count();
            for end in (0..=run).rev() {
                caps.push(&path[..end]);
                if match_path(rest, &path[end..], caps) {
                    return true;
                }
                caps.pop();
            }
            false
        }
    }
}

pub(super) fn decode(s: &str) -> Result<String, String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|e| format!("{s:?} does not decode to UTF-8: {e}"))
}

/// The query text `build` gives a value (lists comma-joined).
pub(super) fn query_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        _ => None,
    }
}

/// A built request is the template's path with each value confined to its placeholder.
/// `Ok(true)` when some key value held a character that would have been structural unencoded.
pub(super) fn check_built(
    t: &RequestTemplate,
    input: &Map<String, Value>,
    req: &PreparedRequest,
) -> Result<bool, String> {
    let mut hostile = false;
    let full = &req.path_and_query;
    if full.contains('#') {
        return Err(format!("'#' in {full}"));
    }
    let (path, query) = full.split_once('?').unwrap_or((full, ""));
    let prefix = &t.path[..t.path.find('{').unwrap_or(t.path.len())];
    if !path.starts_with(prefix) {
        return Err(format!("{path} does not start with {prefix}"));
    }
    let segs = segments(t.path);
    let mut caps = Vec::new();
    if !match_path(&segs, path, &mut caps) {
        return Err(format!("{path} does not fit the template {}", t.path));
    }
    let names = segs.iter().filter_map(|s| match s {
        Seg::Var(n) => Some(*n),
        Seg::Lit(_) => None,
    });
    for (name, encoded) in names.zip(caps) {
        if !literal_safe(encoded) {
            return Err(format!("{name}: {encoded:?} holds structural characters"));
        }
        let param = t
            .params
            .iter()
            .find(|p| p.name == name && p.location == Location::Path)
            .ok_or_else(|| format!("no path parameter {name}"))?;
        let value = input
            .get(name)
            .ok_or_else(|| format!("{name} was not given"))?;
        let literal = odata_literal(value, param.literal).map_err(|e| e.expected.to_owned())?;
        if decode(encoded)? != literal {
            return Err(format!(
                "{name}: {encoded:?} does not decode to {literal:?}"
            ));
        }
        let inner = literal.trim_matches('\'');
        hostile |= inner.contains(['/', '?', '#', '(', ')', ',', '=', '\'', '%', '&', ' ']);
    }
    if !query.is_empty() {
        for pair in query.split('&') {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("query pair {pair:?} has no '='"))?;
            if v.contains(['=', '?', ' ']) {
                return Err(format!("query value {v:?} holds a structural character"));
            }
            let name = decode(k)?;
            let known = t
                .params
                .iter()
                .any(|p| p.name == name && p.location == Location::Query);
            if !known {
                return Err(format!("query option {name:?} is not one of the action's"));
            }
            let given = input
                .get(&name)
                .and_then(query_text)
                .ok_or_else(|| format!("query option {name} was not given as text"))?;
            if decode(v)? != given {
                return Err(format!(
                    "query option {name}: {v:?} does not decode to {given:?}"
                ));
            }
        }
    }
    Ok(hostile)
}

#[derive(Default)]
pub(super) struct Tally {
    pub(super) inputs: usize,
    pub(super) valid: usize,
    pub(super) built: usize,
    /// Built requests whose path keys held `/ ? # ( ) , = ' % &` or a space.
    pub(super) hostile_keys: usize,
    /// Valid for the schema, refused by the request builder (still `InvalidInput`).
    pub(super) refused_by_builder: usize,
    /// Valid, for an action composed in Rust (no single request to build).
    pub(super) composed: usize,
    pub(super) invalid: usize,
    pub(super) panics: usize,
    pub(super) failures: Vec<String>,
    /// Some refused inputs, for the networked part.
    pub(super) refused: Vec<(&'static dyn Operation, Value)>,
}

pub(super) fn check_one(
    registry: &Registry,
    op: &'static dyn Operation,
    input: &Value,
    tally: &mut Tally,
    keep_refused: bool,
) {
    tally.inputs += 1;
    let fail = |tally: &mut Tally, what: String| {
        tally
            .failures
            .push(format!("{op:?}: {what}; input {}", excerpt(input)));
    };
    let Ok(validated) = catch_unwind(AssertUnwindSafe(|| registry.validate(op, input))) else {
        tally.panics += 1;
        return fail(tally, "validate panicked".to_owned());
    };
    match validated {
        Err(Error::InvalidInput { pointer, .. }) => {
            tally.invalid += 1;
            if keep_refused {
                tally.refused.push((op, input.clone()));
            }
            if let Err(e) = check_pointer(&pointer, input) {
                fail(tally, e);
            }
            return;
        }
        Err(other) => return fail(tally, format!("validate gave {other:?}")),
        Ok(()) => tally.valid += 1,
    }
    let Some(template) = op.template() else {
        // Composed in Rust: no single request to build.
        tally.composed += 1;
        return;
    };
    let built = || registry.prepare(op, input.clone())?.into_request();
    let Ok(prepared) = catch_unwind(AssertUnwindSafe(built)) else {
        tally.panics += 1;
        return fail(tally, "prepare panicked".to_owned());
    };
    match prepared {
        Ok(req) => {
            tally.built += 1;
            let object = input.as_object().expect("valid, so an object");
            match check_built(template, object, &req) {
                Ok(hostile) => tally.hostile_keys += usize::from(hostile),
                Err(e) => fail(tally, e),
            }
        }
        // Schema-valid, but not encodable faithfully: still refused before any I/O.
        Err(Error::InvalidInput { pointer, .. }) => {
            tally.refused_by_builder += 1;
            if let Err(e) = check_pointer(&pointer, input) {
                fail(tally, e);
            }
        }
        Err(other) => fail(tally, format!("prepare gave {other:?}")),
    }
}

pub(super) fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s,
    }
}
