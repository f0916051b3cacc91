//! Rust identifiers from 3CX names: snake_case fields and modules, PascalCase types and variants,
//! SCREAMING_SNAKE statics, keyword escaping and per-scope uniqueness.

use std::collections::BTreeSet;

/// Words of a name: split at non-alphanumerics and at case boundaries, using the display-name rule
/// of FORMAT.md (a boundary before an upper-case letter that follows a lower-case letter or digit,
/// and before the last upper-case letter of an upper-case run followed by a lower-case letter).
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        if part.is_empty() {
            continue;
        }
        let chars: Vec<char> = part.chars().collect();
        let mut current = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if i > 0 && c.is_ascii_uppercase() {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
                if prev.is_ascii_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_ascii_uppercase() && next_lower)
                {
                    out.push(std::mem::take(&mut current));
                }
            }
            current.push(c);
        }
        if !current.is_empty() {
            out.push(current);
        }
    }
    out
}

/// `IPAddress` → `ip_address`, `$top` → `top`, `@odata.type` → `odata_type`. Not escaped.
pub fn snake(name: &str) -> String {
    let w: Vec<String> = words(name).iter().map(|w| w.to_ascii_lowercase()).collect();
    let s = w.join("_");
    if s.is_empty() {
        "field".to_owned()
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("n{s}")
    } else {
        s
    }
}

/// `PurgeChats` → `PURGE_CHATS`.
pub fn screaming(name: &str) -> String {
    let s = snake(name).to_ascii_uppercase();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("N{s}")
    } else {
        s
    }
}

/// A type name: the 3CX name with separators removed and the letter after each separator made
/// upper case (`ODataErrors.MainError` → `ODataErrorsMainError`); otherwise the spelling is kept,
/// so `DN` stays `DN` as users know it.
pub fn type_name(name: &str) -> String {
    let mut out = String::new();
    let mut upper_next = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if upper_next {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper_next = false;
        } else {
            upper_next = true;
        }
    }
    if out.is_empty() {
        out.push_str("Unnamed");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// PascalCase from words: `some-value` → `SomeValue`, `lower` → `Lower`.
pub fn pascal(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &cs.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect()
}

/// The variant identifier of an enum value. A value that already is a CamelCase identifier is kept
/// (`MS`, `Nothing`); others are converted: `-INF` → `NegInf`, `some_value` → `SomeValue`,
/// `0` → `V0`, `` → `Empty`. Uniqueness is the caller's job ([`Namer`]).
pub fn variant_name(value: &str) -> String {
    let is_camel_ident = value.starts_with(|c: char| c.is_ascii_uppercase())
        && value.chars().all(|c| c.is_ascii_alphanumeric());
    if is_camel_ident {
        return value.to_owned();
    }
    let mut out = String::new();
    if value.starts_with('-') {
        out.push_str("Neg");
    } else if value.starts_with('+') {
        out.push_str("Pos");
    }
    out.push_str(&pascal(value));
    if out.is_empty() {
        return "Empty".to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// Strict and reserved keywords of Rust 2021 (and `gen`, reserved from 2024).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// `type` → `r#type`; `self`, `super`, `crate`, `Self` (which cannot be raw) → `self_` etc.
pub fn escape_keyword(ident: &str) -> String {
    match ident {
        "self" | "super" | "crate" | "Self" | "_" => format!("{ident}_"),
        _ if KEYWORDS.contains(&ident) => format!("r#{ident}"),
        _ => ident.to_owned(),
    }
}

/// Hands out identifiers unique within one scope, in call order: the second `id` becomes `id_2`.
#[derive(Debug, Default)]
pub struct Namer {
    taken: BTreeSet<String>,
    /// Separator before the counter: `_` for snake/SCREAMING names, empty for CamelCase ones.
    sep: &'static str,
}

impl Namer {
    pub fn snake() -> Self {
        Namer {
            taken: BTreeSet::new(),
            sep: "_",
        }
    }

    pub fn camel() -> Self {
        Namer {
            taken: BTreeSet::new(),
            sep: "",
        }
    }

    /// Marks names as taken without handing them out (reserved words of the scope).
    pub fn reserve(&mut self, names: &[&str]) {
        for n in names {
            self.taken.insert((*n).to_owned());
        }
    }

    /// `base`, or `base{sep}2`, `base{sep}3`... whichever is free; keyword-escaped.
    pub fn unique(&mut self, base: &str) -> String {
        let mut candidate = base.to_owned();
        let mut n = 2;
        while self.taken.contains(&candidate) {
            candidate = format!("{base}{}{n}", self.sep);
            n += 1;
        }
        self.taken.insert(candidate.clone());
        escape_keyword(&candidate)
    }
}

/// A raw string literal holding `text`, with enough `#`s that the text cannot end it.
pub fn raw_string(text: &str) -> String {
    let mut hashes = 1;
    loop {
        let closing = format!("\"{}", "#".repeat(hashes));
        if !text.contains(&closing) {
            let h = "#".repeat(hashes);
            return format!("r{h}\"{text}\"{h}");
        }
        hashes += 1;
    }
}

/// A normal string literal (escaped), for short names.
pub fn str_lit(text: &str) -> String {
    format!("{text:?}")
}

/// Text safe for a `///` doc line: one line, no characters rustdoc would read as markup links or
/// HTML.
pub fn doc_line(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    one_line
        .replace('[', "\\[")
        .replace(']', "\\]")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_the_display_name_rule() {
        assert_eq!(words("PurgeSettings"), ["Purge", "Settings"]);
        assert_eq!(words("AISettings"), ["AI", "Settings"]);
        assert_eq!(words("GetCallLogData"), ["Get", "Call", "Log", "Data"]);
        assert_eq!(words("CIDFormatting"), ["CID", "Formatting"]);
        assert_eq!(words("E164Settings"), ["E164", "Settings"]);
        assert_eq!(words("@odata.type"), ["odata", "type"]);
    }

    #[test]
    fn snake_and_screaming() {
        assert_eq!(snake("PurgeSettings"), "purge_settings");
        assert_eq!(snake("IPAddress"), "ip_address");
        assert_eq!(snake("$top"), "top");
        assert_eq!(snake("If-Match"), "if_match");
        assert_eq!(snake("DNProperties"), "dn_properties");
        assert_eq!(snake("Sip2Name"), "sip2_name");
        assert_eq!(snake("2fa"), "n2fa");
        assert_eq!(snake("$"), "field");
        assert_eq!(screaming("PurgeChats"), "PURGE_CHATS");
        assert_eq!(screaming("GetAIResources"), "GET_AI_RESOURCES");
    }

    #[test]
    fn type_names_keep_spelling() {
        assert_eq!(type_name("User"), "User");
        assert_eq!(type_name("DN"), "DN");
        assert_eq!(type_name("ODataErrors.MainError"), "ODataErrorsMainError");
        assert_eq!(type_name("odata.thing"), "OdataThing");
        assert_eq!(type_name("1x"), "T1x");
    }

    #[test]
    fn variant_names() {
        assert_eq!(variant_name("MS"), "MS");
        assert_eq!(variant_name("Nothing"), "Nothing");
        assert_eq!(variant_name("-INF"), "NegInf");
        assert_eq!(variant_name("INF"), "INF");
        assert_eq!(variant_name("NaN"), "NaN");
        assert_eq!(variant_name("some-value"), "SomeValue");
        assert_eq!(variant_name("lower_case"), "LowerCase");
        assert_eq!(variant_name("0"), "V0");
        assert_eq!(variant_name(""), "Empty");
        assert_eq!(variant_name("Has_Underscore"), "HasUnderscore");
    }

    #[test]
    fn keywords_and_uniqueness() {
        assert_eq!(escape_keyword("type"), "r#type");
        assert_eq!(escape_keyword("self"), "self_");
        assert_eq!(escape_keyword("user"), "user");
        let mut n = Namer::snake();
        assert_eq!(n.unique("id"), "id");
        assert_eq!(n.unique("id"), "id_2");
        assert_eq!(n.unique("id"), "id_3");
        assert_eq!(n.unique("type"), "r#type");
        let mut c = Namer::camel();
        c.reserve(&["Unknown"]);
        assert_eq!(c.unique("Unknown"), "Unknown2");
        assert_eq!(c.unique("Ms"), "Ms");
        assert_eq!(c.unique("Ms"), "Ms2");
    }

    #[test]
    fn raw_strings_cannot_be_closed_early() {
        assert_eq!(raw_string(r#"{"a":1}"#), r##"r#"{"a":1}"#"##);
        assert_eq!(raw_string(r##"x"#y"##), r###"r##"x"#y"##"###);
    }

    #[test]
    fn doc_lines_are_inert() {
        assert_eq!(doc_line("a [b] <c>\nd"), "a \\[b\\] &lt;c&gt; d");
    }
}
