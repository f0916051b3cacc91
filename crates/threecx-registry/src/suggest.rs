//! "Did you mean" suggestions for unknown resource and action names.

/// At most this many suggestions are given.
pub const MAX_SUGGESTIONS: usize = 5;

/// Names at least this similar (normalised Damerau-Levenshtein, 0..=1) are suggested; lower
/// lets unrelated names in (`Purge Setings` would also suggest `Google Settings` at 0.6).
const MIN_SIMILARITY: f64 = 0.7;

/// The display names of the candidates closest to `wanted`, best first.
///
/// `wanted` and the candidates' keys are normalised names; a candidate is suggested when it is
/// similar enough, one edit away (short names), or when one name contains the other
/// (`chat` → `Purge Chats`). Ties keep the candidates' order.
pub fn suggest<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .filter_map(|(key, display)| {
            let similarity = strsim::normalized_damerau_levenshtein(wanted, key);
            let contains = key.contains(wanted) || (key.len() >= 3 && wanted.contains(key));
            // A containment match ranks by similarity but never below plain fuzzy matches'
            // threshold, so a short fragment still finds its long name.
            let score = if contains {
                similarity.max(MIN_SIMILARITY)
            } else {
                similarity
            };
            let one_edit = || strsim::damerau_levenshtein(wanted, key) <= 1;
            (contains || similarity >= MIN_SIMILARITY || one_edit()).then_some((score, display))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, display)| display.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESOURCES: &[(&str, &str)] = &[
        ("activecalls", "Active Calls"),
        ("aisettings", "AI Settings"),
        ("purgesettings", "Purge Settings"),
        ("users", "Users"),
        ("googlesettings", "Google Settings"),
        ("usergroups", "User Groups"),
    ];

    #[test]
    fn typo_finds_the_name() {
        assert_eq!(
            suggest("purgesetings", RESOURCES.iter().copied()),
            ["Purge Settings"]
        );
        assert_eq!(suggest("user", RESOURCES.iter().copied())[0], "Users");
    }

    #[test]
    fn fragment_finds_containing_names() {
        assert_eq!(
            suggest("settings", RESOURCES.iter().copied()),
            ["AI Settings", "Purge Settings", "Google Settings"]
        );
        let actions = [
            ("purgechats", "Purge Chats"),
            ("purgealllogs", "Purge All Logs"),
            ("purgecalls", "Purge Calls"),
        ];
        assert_eq!(suggest("purgechat", actions), ["Purge Chats"]);
        assert_eq!(suggest("uesrs", RESOURCES.iter().copied()), ["Users"]);
    }

    #[test]
    fn nothing_close_gives_nothing() {
        assert!(suggest("zzzzzz", RESOURCES.iter().copied()).is_empty());
        assert!(suggest("", RESOURCES.iter().copied()).is_empty());
    }

    #[test]
    fn at_most_five() {
        let many: Vec<(String, String)> = (0..20)
            .map(|i| (format!("item{i}"), format!("Item {i}")))
            .collect();
        let got = suggest("item", many.iter().map(|(k, d)| (k.as_str(), d.as_str())));
        assert_eq!(got.len(), MAX_SUGGESTIONS);
    }
}
