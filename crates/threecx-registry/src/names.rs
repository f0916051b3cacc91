//! Resource and action names: normalisation for lookup, display names for people.

/// The lookup key of a name: ASCII letters and digits only, lower-cased, so that
/// `Purge Settings`, `purge-settings`, `purge_settings` and `PURGESETTINGS` are the same name.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    out.extend(
        name.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase()),
    );
    out
}

/// Runs `f` with the normalised `name`, without allocating for names of usual length (lookups are
/// on the hot path of every by-name call).
pub(crate) fn with_normalized<R>(name: &str, f: impl FnOnce(&str) -> R) -> R {
    const INLINE: usize = 96;
    if name.len() > INLINE {
        return f(&normalize(name));
    }
    let mut buf = [0u8; INLINE];
    let mut len = 0;
    for b in name.bytes().filter(u8::is_ascii_alphanumeric) {
        buf[len] = b.to_ascii_lowercase();
        len += 1;
    }
    // Only ASCII alphanumerics were copied, so this is valid UTF-8.
    f(std::str::from_utf8(&buf[..len]).unwrap_or_default())
}

/// Splits a PascalCase name into words the way the schemas' display names are made (for
/// extensions that have no display names of their own): `PurgeSettings` → `Purge Settings`,
/// `AISettings` → `AI Settings`, `GetCallLogData` → `Get Call Log Data`.
///
/// A word starts at an upper-case letter that follows a lower-case letter or digit, and at the
/// last upper-case letter of an upper-case run that is followed by a lower-case letter; other
/// characters than ASCII letters and digits separate words and are dropped.
pub fn display_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    let mut word_open = false;
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            word_open = false;
            continue;
        }
        let boundary = word_open && c.is_ascii_uppercase() && {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_is_lower)
        };
        if (boundary || !word_open) && !out.is_empty() {
            out.push(' ');
        }
        out.push(c);
        word_open = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_normalise_the_same() {
        for s in [
            "Purge Settings",
            "purge-settings",
            "purge_settings",
            "PURGESETTINGS",
            "PurgeSettings",
            " purge.settings ",
        ] {
            assert_eq!(normalize(s), "purgesettings", "{s}");
            with_normalized(s, |n| assert_eq!(n, "purgesettings"));
        }
        assert_eq!(normalize("Get Call Log Data 2"), "getcalllogdata2");
        assert_eq!(normalize("Ümlaut"), "mlaut");
    }

    #[test]
    fn long_names_normalise_too() {
        let long = "Ab-".repeat(60);
        with_normalized(&long, |n| assert_eq!(n, "ab".repeat(60)));
    }

    #[test]
    fn display_names_split_words() {
        assert_eq!(display_name("PurgeSettings"), "Purge Settings");
        assert_eq!(display_name("AISettings"), "AI Settings");
        assert_eq!(display_name("GetCallLogData"), "Get Call Log Data");
        assert_eq!(display_name("CIDFormatting"), "CID Formatting");
        assert_eq!(display_name("Users"), "Users");
        assert_eq!(display_name("Get2FA"), "Get2 FA");
        assert_eq!(display_name("purge_settings"), "purge settings");
        assert_eq!(display_name("Office365Users"), "Office365 Users");
        assert_eq!(display_name(""), "");
    }
}
