//! Evaluating a parsed `$filter` against a row, and OData's equality and order of values.

use std::cmp::Ordering;

use serde_json::Value;

use super::{CmpOp, Expr, Func};
use crate::time;

impl Expr {
    /// Top-level property names the expression refers to (to check them against the model).
    pub fn properties(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Or(a, b) | Expr::And(a, b) | Expr::Cmp(_, a, b) => {
                a.collect(out);
                b.collect(out);
            }
            Expr::Not(a) => a.collect(out),
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect(out)),
            Expr::Prop(path) => out.push(&path[0]),
            Expr::Lambda {
                path, var, body, ..
            } => {
                out.push(&path[0]);
                // Paths inside the body start with the variable, not a property of the row.
                if let Some(body) = body {
                    let mut inner = Vec::new();
                    body.collect(&mut inner);
                    out.extend(inner.into_iter().filter(|p| *p != var));
                }
            }
            Expr::Lit(_) => {}
        }
    }

    /// Whether `row` satisfies the expression.
    pub fn matches(&self, row: &Value) -> bool {
        self.eval(row) == Value::Bool(true)
    }

    fn eval(&self, row: &Value) -> Value {
        match self {
            Expr::Or(a, b) => Value::Bool(a.matches(row) || b.matches(row)),
            Expr::And(a, b) => Value::Bool(a.matches(row) && b.matches(row)),
            Expr::Not(a) => match a.eval(row) {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Null,
            },
            Expr::Cmp(op, a, b) => Value::Bool(op.holds(&a.eval(row), &b.eval(row))),
            Expr::Call(func, args) => {
                let vals: Vec<Value> = args.iter().map(|a| a.eval(row)).collect();
                func.apply(&vals)
            }
            Expr::Prop(path) => property(row, path),
            Expr::Lambda {
                path,
                all,
                var,
                body,
            } => Value::Bool(lambda(row, path, *all, var, body.as_deref())),
            Expr::Lit(v) => v.clone(),
        }
    }
}

impl CmpOp {
    /// Whether `a op b` holds.
    fn holds(self, a: &Value, b: &Value) -> bool {
        match self {
            CmpOp::Eq => equal(a, b),
            CmpOp::Ne => !equal(a, b),
            CmpOp::Gt => compare(a, b) == Some(Ordering::Greater),
            CmpOp::Ge => matches!(compare(a, b), Some(Ordering::Greater | Ordering::Equal)),
            CmpOp::Lt => compare(a, b) == Some(Ordering::Less),
            CmpOp::Le => matches!(compare(a, b), Some(Ordering::Less | Ordering::Equal)),
        }
    }
}

impl Func {
    /// The function's value for the argument values `vals`.
    fn apply(self, vals: &[Value]) -> Value {
        let s = |i: usize| vals.get(i).and_then(Value::as_str);
        match self {
            Func::Contains => match (s(0), s(1)) {
                (Some(a), Some(b)) => Value::Bool(a.contains(b)),
                _ => Value::Bool(false),
            },
            Func::StartsWith => match (s(0), s(1)) {
                (Some(a), Some(b)) => Value::Bool(a.starts_with(b)),
                _ => Value::Bool(false),
            },
            Func::EndsWith => match (s(0), s(1)) {
                (Some(a), Some(b)) => Value::Bool(a.ends_with(b)),
                _ => Value::Bool(false),
            },
            Func::ToLower => s(0).map_or(Value::Null, |a| a.to_lowercase().into()),
            Func::ToUpper => s(0).map_or(Value::Null, |a| a.to_uppercase().into()),
            Func::Length => s(0).map_or(Value::Null, |a| a.chars().count().into()),
        }
    }
}

/// The value at `path` in `row`; `null` when a step is missing.
fn property(row: &Value, path: &[String]) -> Value {
    let mut v = row;
    for part in path {
        match v.get(part) {
            Some(next) => v = next,
            None => return Value::Null,
        }
    }
    v.clone()
}

/// `path/any(var: body)` (or `all`); without a body, whether the collection has any item.
fn lambda(row: &Value, path: &[String], all: bool, var: &str, body: Option<&Expr>) -> bool {
    let items = match property(row, path) {
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    let Some(body) = body else {
        return !items.is_empty();
    };
    // The body sees the row's properties and the variable bound to one item.
    let holds = |item: Value| {
        let mut scope = row.clone();
        if let Value::Object(m) = &mut scope {
            m.insert(var.to_owned(), item);
        }
        body.matches(&scope)
    };
    if all {
        items.into_iter().all(holds)
    } else {
        items.into_iter().any(holds)
    }
}

/// OData `eq`: numbers by value, date-times by instant, `null` equal only to `null`.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        _ => match compare(a, b) {
            Some(o) => o == Ordering::Equal,
            None => a == b,
        },
    }
}

/// The order of two values of the same kind; `None` across kinds or with `null`.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return Some(x.cmp(&y));
            }
            x.as_f64()?.partial_cmp(&y.as_f64()?)
        }
        (Value::String(x), Value::String(y)) => {
            if looks_like_date(x) && looks_like_date(y) {
                if let (Some(tx), Some(ty)) = (time::parse(x), time::parse(y)) {
                    return Some(tx.cmp(&ty));
                }
            }
            Some(x.cmp(y))
        }
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && b[..4].iter().all(u8::is_ascii_digit)
}
