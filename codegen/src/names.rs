//! Display names, codegen-written descriptions and lookup normalisation (FORMAT.md, "Display
//! names" and "Name normalisation").

/// Splits a PascalCase name into words: a boundary before an upper-case letter that follows a
/// lower-case letter or a digit, and before the last upper-case letter of an upper-case run that
/// is followed by a lower-case letter (`AISettings` → `AI`, `Settings`). Characters other than
/// ASCII letters and digits separate words and are dropped.
///
/// `keep` lists words that stay whole although the rule would split them (`OAuth`); they match
/// only where they start at a word boundary.
pub fn split_words(name: &str, keep: &[String]) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_ascii_alphanumeric() {
            flush(&mut current, &mut words);
            i += 1;
            continue;
        }
        if current.is_empty() {
            if let Some(word) = keep_word_at(&chars, i, keep) {
                words.push(word.to_string());
                i += word.chars().count();
                continue;
            }
        }
        if !current.is_empty() && c.is_ascii_uppercase() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let boundary = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_is_lower);
            if boundary {
                flush(&mut current, &mut words);
                if let Some(word) = keep_word_at(&chars, i, keep) {
                    words.push(word.to_string());
                    i += word.chars().count();
                    continue;
                }
            }
        }
        current.push(c);
        i += 1;
    }
    flush(&mut current, &mut words);
    words
}

fn flush(current: &mut String, words: &mut Vec<String>) {
    if !current.is_empty() {
        words.push(std::mem::take(current));
    }
}

/// A kept word starting at `i` that ends at a word boundary (end, non-alphanumeric, or an
/// upper-case letter / digit after it).
fn keep_word_at<'a>(chars: &[char], i: usize, keep: &'a [String]) -> Option<&'a str> {
    keep.iter().map(String::as_str).find(|word| {
        let n = word.chars().count();
        i + n <= chars.len()
            && chars[i..i + n].iter().copied().eq(word.chars())
            && chars.get(i + n).is_none_or(|c| !c.is_ascii_lowercase())
    })
}

/// `PurgeSettings` → `Purge Settings`.
pub fn display_name(name: &str, keep: &[String]) -> String {
    split_words(name, keep).join(" ")
}

/// `Purge Chats` → `Purge chats`: the first word as is; later words lower-cased when they are
/// plain capitalised words, so acronyms (`AI`, `CDR`, `E164`) keep their case.
pub fn sentence_case(display: &str) -> String {
    let mut out = Vec::new();
    for (i, word) in display.split(' ').enumerate() {
        let mut chars = word.chars();
        let plain = chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_lowercase());
        if i > 0 && plain {
            out.push(word.to_ascii_lowercase());
        } else {
            out.push(word.to_string());
        }
    }
    out.join(" ")
}

/// Lookup form: ASCII letters and digits only, lower-cased (`Purge Settings`, `purge-settings`
/// and `PURGESETTINGS` all give `purgesettings`).
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// "Purge chats. POST /PurgeChats"
pub fn action_description(display: &str, method: &str, path: &str) -> String {
    format!("{}. {method} {path}", sentence_case(display))
}

/// "3CX resource Purge Settings (3 actions)."
pub fn resource_description(display: &str, actions: usize) -> String {
    let noun = if actions == 1 { "action" } else { "actions" };
    format!("3CX resource {display} ({actions} {noun}).")
}

/// "3CX model User."
pub fn model_description(model: &str) -> String {
    format!("3CX model {model}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> String {
        split_words(s, &[]).join(" ")
    }

    #[test]
    fn splits_pascal_case() {
        assert_eq!(words("PurgeSettings"), "Purge Settings");
        assert_eq!(words("AISettings"), "AI Settings");
        assert_eq!(words("GetCallLogData"), "Get Call Log Data");
        assert_eq!(words("CIDFormatting"), "CID Formatting");
        assert_eq!(words("E164Settings"), "E164 Settings");
        assert_eq!(words("GetM365Users"), "Get M365 Users");
        assert_eq!(words("Microsoft365Integration"), "Microsoft365 Integration");
        assert_eq!(words("GetMCURequestStatus"), "Get MCU Request Status");
        assert_eq!(words("Users"), "Users");
        assert_eq!(words("CDR"), "CDR");
        assert_eq!(words("ODataErrors.MainError"), "O Data Errors Main Error");
        assert_eq!(words(""), "");
    }

    #[test]
    fn kept_words_stay_whole() {
        let keep = vec!["OAuth".to_string(), "OData".to_string()];
        assert_eq!(
            split_words("OAuthClients", &keep).join(" "),
            "OAuth Clients"
        );
        assert_eq!(
            split_words("SetOAuthState", &keep).join(" "),
            "Set OAuth State"
        );
        assert_eq!(split_words("GetOAuth", &keep).join(" "), "Get OAuth");
        // Only at a boundary: "OAuthority" is not the word "OAuth".
        assert_eq!(split_words("OAuthority", &keep).join(" "), "O Authority");
        assert_eq!(split_words("ODataError", &keep).join(" "), "OData Error");
    }

    #[test]
    fn sentence_case_keeps_acronyms() {
        assert_eq!(sentence_case("Purge Chats"), "Purge chats");
        assert_eq!(sentence_case("Get AI Settings"), "Get AI settings");
        assert_eq!(
            sentence_case("Update E164 Settings"),
            "Update E164 settings"
        );
        assert_eq!(sentence_case("Get M365 Users"), "Get M365 users");
        assert_eq!(sentence_case("List"), "List");
    }

    #[test]
    fn normalises_spellings() {
        for s in [
            "Purge Settings",
            "purge-settings",
            "purge_settings",
            "PURGESETTINGS",
        ] {
            assert_eq!(normalise(s), "purgesettings");
        }
        assert_eq!(normalise("E164 Settings"), "e164settings");
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            action_description("Purge Chats", "POST", "/PurgeChats"),
            "Purge chats. POST /PurgeChats"
        );
        assert_eq!(
            resource_description("Purge Settings", 3),
            "3CX resource Purge Settings (3 actions)."
        );
        assert_eq!(resource_description("X", 1), "3CX resource X (1 action).");
        assert_eq!(model_description("User"), "3CX model User.");
    }
}
