//! The `$filter` subset the sandbox understands: comparisons (`eq ne gt ge lt le`), `and`, `or`,
//! `not`, parentheses, `contains`, `startswith`, `endswith`, `tolower`, `toupper`, `length`;
//! string literals with `''` escapes, numbers, `true`/`false`/`null`, bare date-times; property
//! paths such as `Name` or `Props/Language`; the lambda operators over collections,
//! `Groups/any(g: g/GroupId eq 1)`, `Groups/all(g: g/Rights/RoleName eq 'users')`, `Groups/any()`.

use serde_json::Value;

use super::literal::bare_value;
use crate::time;

mod eval;
pub use eval::{compare, equal};

/// A parsed `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
    /// A property path: `["Props", "Language"]`.
    Prop(Vec<String>),
    /// `path/any(var: body)` (`all` false) or `path/all(var: body)`; `any()` has no body.
    Lambda {
        path: Vec<String>,
        all: bool,
        var: String,
        body: Option<Box<Expr>>,
    },
    Lit(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Contains,
    StartsWith,
    EndsWith,
    ToLower,
    ToUpper,
    Length,
}

impl Func {
    fn parse(name: &str) -> Option<(Func, usize)> {
        Some(match name {
            "contains" => (Func::Contains, 2),
            "startswith" => (Func::StartsWith, 2),
            "endswith" => (Func::EndsWith, 2),
            "tolower" => (Func::ToLower, 1),
            "toupper" => (Func::ToUpper, 1),
            "length" => (Func::Length, 1),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Comma,
    Str(String),
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            ',' => {
                chars.next();
                out.push(Token::Comma);
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\'')) => {
                            if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                                chars.next();
                                s.push('\'');
                            } else {
                                break;
                            }
                        }
                        Some((_, ch)) => s.push(ch),
                        None => {
                            return Err(format!(
                                "the string literal starting at position {i} is not closed"
                            ))
                        }
                    }
                }
                out.push(Token::Str(s));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, ch)) = chars.peek() {
                    if ch.is_whitespace() || matches!(ch, '(' | ')' | ',' | '\'') {
                        break;
                    }
                    word.push(ch);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

/// Parses a `$filter` value.
pub fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("the filter is empty".to_owned());
    }
    let mut p = Parser { tokens, pos: 0 };
    let expr = p.or()?;
    if let Some(t) = p.tokens.get(p.pos) {
        return Err(format!(
            "unexpected {} after a complete expression",
            show(t)
        ));
    }
    Ok(expr)
}

fn show(t: &Token) -> String {
    match t {
        Token::Open => "'('".to_owned(),
        Token::Close => "')'".to_owned(),
        Token::Comma => "','".to_owned(),
        Token::Str(s) => format!("string '{s}'"),
        Token::Word(w) => format!("'{w}'"),
    }
}

impl Parser {
    fn peek_word(&self) -> Option<&str> {
        match self.tokens.get(self.pos) {
            Some(Token::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn expect(&mut self, want: Token) -> Result<(), String> {
        match self.tokens.get(self.pos) {
            Some(t) if *t == want => {
                self.pos += 1;
                Ok(())
            }
            Some(t) => Err(format!("expected {} but found {}", show(&want), show(t))),
            None => Err(format!("expected {} at the end", show(&want))),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek_word() == Some("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.not()?;
        while self.peek_word() == Some("and") {
            self.pos += 1;
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.peek_word() == Some("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.primary()?;
        let op = match self.peek_word() {
            Some("eq") => CmpOp::Eq,
            Some("ne") => CmpOp::Ne,
            Some("gt") => CmpOp::Gt,
            Some("ge") => CmpOp::Ge,
            Some("lt") => CmpOp::Lt,
            Some("le") => CmpOp::Le,
            Some(w @ ("has" | "in" | "add" | "sub" | "mul" | "div" | "mod")) => {
                return Err(format!(
                    "the operator '{w}' is not supported by the sandbox (eq ne gt ge lt le and or \
                     not are)"
                ))
            }
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.primary()?;
        Ok(Expr::Cmp(op, Box::new(left), Box::new(right)))
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let Some(token) = self.tokens.get(self.pos).cloned() else {
            return Err("the expression ends too early".to_owned());
        };
        self.pos += 1;
        match token {
            Token::Open => {
                let inner = self.or()?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            Token::Str(s) => Ok(Expr::Lit(Value::String(s))),
            Token::Close | Token::Comma => Err(format!("unexpected {}", show(&token))),
            Token::Word(w) => {
                if self.tokens.get(self.pos) == Some(&Token::Open) {
                    if let Some(lambda) = self.lambda(&w)? {
                        return Ok(lambda);
                    }
                    let (func, arity) = Func::parse(&w).ok_or_else(|| {
                        format!(
                            "the function '{w}' is not supported by the sandbox (contains, \
                             startswith, endswith, tolower, toupper, length are)"
                        )
                    })?;
                    self.pos += 1;
                    let mut args = vec![self.or()?];
                    while self.tokens.get(self.pos) == Some(&Token::Comma) {
                        self.pos += 1;
                        args.push(self.or()?);
                    }
                    self.expect(Token::Close)?;
                    if args.len() != arity {
                        return Err(format!(
                            "{w} takes {arity} argument(s), {} given",
                            args.len()
                        ));
                    }
                    return Ok(Expr::Call(func, args));
                }
                let first = w.chars().next().unwrap_or(' ');
                if matches!(w.as_str(), "true" | "false" | "null")
                    || first.is_ascii_digit()
                    || (first == '-' && w.len() > 1)
                {
                    let v = bare_value(&w);
                    if v.is_string() && time::parse(&w).is_none() && !is_guid(&w) {
                        return Err(format!("'{w}' is not a valid literal"));
                    }
                    return Ok(Expr::Lit(v));
                }
                if matches!(
                    w.as_str(),
                    "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "and" | "or" | "not"
                ) {
                    return Err(format!("'{w}' needs an operand before it"));
                }
                if !w
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '@' | '.'))
                {
                    return Err(format!("'{w}' is not a property name"));
                }
                Ok(Expr::Prop(w.split('/').map(str::to_owned).collect()))
            }
        }
    }
}

impl Parser {
    /// `Groups/any(g: g/GroupId eq 1)` after its word `w` (the `(` not yet taken); `None`
    /// when `w` is no lambda (a function call).
    fn lambda(&mut self, w: &str) -> Result<Option<Expr>, String> {
        let (path, all) = match w.rsplit_once('/') {
            Some((path, "any")) => (path, false),
            Some((path, "all")) => (path, true),
            _ => return Ok(None),
        };
        self.pos += 1; // (
        let path: Vec<String> = path.split('/').map(str::to_owned).collect();
        if self.tokens.get(self.pos) == Some(&Token::Close) {
            self.pos += 1;
            if all {
                return Err(format!("{w}() needs a condition: {w}(x: ...)"));
            }
            return Ok(Some(Expr::Lambda {
                path,
                all,
                var: String::new(),
                body: None,
            }));
        }
        // `g:` or `g:g/GroupId` (the tokenizer keeps `:` inside words).
        let Some(Token::Word(head)) = self.tokens.get(self.pos).cloned() else {
            return Err(format!(
                "{w}(...) must start with a variable, e.g. {w}(x: x/Id eq 1)"
            ));
        };
        let Some((var, rest)) = head.split_once(':') else {
            return Err(format!(
                "{w}(...) must start with a variable and ':', e.g. {w}(x: x/Id eq 1)"
            ));
        };
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("'{var}' is not a lambda variable name"));
        }
        if rest.is_empty() {
            self.pos += 1;
        } else {
            self.tokens[self.pos] = Token::Word(rest.to_owned());
        }
        let body = self.or()?;
        self.expect(Token::Close)?;
        Ok(Some(Expr::Lambda {
            path,
            all,
            var: var.to_owned(),
            body: Some(Box::new(body)),
        }))
    }
}

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            matches!(i, 8 | 13 | 18 | 23) == (b == b'-') && (b == b'-' || b.is_ascii_hexdigit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(filter: &str, row: Value) -> bool {
        parse(filter)
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .matches(&row)
    }

    #[test]
    fn comparisons() {
        let row = json!({"Number": "100", "Id": 7, "Enabled": true, "Name": null, "Score": 1.5});
        assert!(m("Number eq '100'", row.clone()));
        assert!(!m("Number ne '100'", row.clone()));
        assert!(m(
            "Id gt 6 and Id ge 7 and Id lt 8 and Id le 7",
            row.clone()
        ));
        assert!(!m("Id gt 7", row.clone()));
        assert!(m("Enabled eq true", row.clone()));
        assert!(m("Name eq null", row.clone()));
        assert!(!m("Name ne null", row.clone()));
        assert!(!m("Name gt 'a'", row.clone()), "null compares as false");
        assert!(m("Score gt 1 and Score lt 2.0", row.clone()));
        assert!(m("Id eq -7 or Id eq 7", row.clone()));
        assert!(m("Missing eq null", row));
    }

    #[test]
    fn logic_and_parentheses() {
        let row = json!({"A": 1, "B": 2});
        assert!(m("A eq 1 and (B eq 3 or B eq 2)", row.clone()));
        assert!(!m("(A eq 1 and B eq 3) or B eq 4", row.clone()));
        assert!(m("not (A eq 2)", row.clone()));
        assert!(m("not A eq 2", row.clone()));
        assert!(
            m("A eq 2 or A eq 1 and B eq 2", row.clone()),
            "and binds tighter"
        );
        assert!(!m("not(A eq 1)", row));
    }

    #[test]
    fn functions_and_escapes() {
        let row =
            json!({"LastName": "O'Brien", "Email": "ob@example.com", "Props": {"Lang": "EN"}});
        assert!(m("LastName eq 'O''Brien'", row.clone()));
        assert!(m("contains(LastName,'''B')", row.clone()));
        assert!(m(
            "startswith(Email, 'ob@') and endswith(Email,'.com')",
            row.clone()
        ));
        assert!(!m("contains(Email,'EXAMPLE')", row.clone()));
        assert!(m("contains(toupper(Email),'EXAMPLE')", row.clone()));
        assert!(m("tolower(Props/Lang) eq 'en'", row.clone()));
        assert!(m("length(LastName) eq 7", row.clone()));
        assert!(!m("contains(Missing,'x')", row));
    }

    #[test]
    fn date_times_compare_as_instants() {
        let row = json!({"TimeSent": "2024-03-01T12:00:00Z"});
        assert!(m(
            "TimeSent ge 2024-03-01T00:00:00Z and TimeSent lt 2024-03-02T00:00:00Z",
            row.clone()
        ));
        assert!(m("TimeSent eq 2024-03-01T13:00:00+01:00", row.clone()));
        assert!(m("TimeSent gt '2024-02-29T23:59:59Z'", row));
    }

    #[test]
    fn lambda_operators_range_over_collections() {
        let row = json!({"Id": 1, "Groups": [{"GroupId": 1, "Rights": {"RoleName": "users"}},
            {"GroupId": 3, "Rights": {"RoleName": "admins"}}], "Empty": []});
        for (filter, want) in [
            ("Groups/any(g: g/GroupId eq 1)", true),
            ("Groups/any(g:g/GroupId eq 2)", false),
            ("Groups/all(g: g/GroupId ge 1)", true),
            ("Groups/all(g: g/Rights/RoleName eq 'users')", false),
            ("Groups/any()", true),
            ("Empty/any()", false),
            ("Empty/all(x: x/GroupId eq 9)", true),
            (
                "Id eq 1 and Groups/any(g: g/GroupId eq 3 and g/Rights/RoleName eq 'admins')",
                true,
            ),
        ] {
            let e = parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
            assert_eq!(e.matches(&row), want, "{filter}");
        }
        assert_eq!(
            parse("Groups/any(g: g/GroupId eq 1)").unwrap().properties(),
            ["Groups"]
        );
    }

    #[test]
    fn properties_are_reported() {
        let e = parse("A eq 1 and (contains(B/C,'x') or not D)").unwrap();
        assert_eq!(e.properties(), ["A", "B", "D"]);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (bad, want) in [
            ("", "empty"),
            ("Name eq 'x", "not closed"),
            ("Name eq", "ends too early"),
            ("(Name eq 'x'", "expected ')'"),
            ("Name eq 'x' 'y'", "unexpected"),
            ("matchesPattern(Name,'x')", "not supported"),
            ("Id in (1,2)", "not supported"),
            ("contains(Name)", "takes 2"),
            ("Id eq 12abc", "not a valid literal"),
            ("Groups/all()", "needs a condition"),
            ("Groups/any(g/Id eq 1)", "variable"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }
}
