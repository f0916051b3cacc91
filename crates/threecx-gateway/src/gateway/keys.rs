//! What makes the gateway's API key acceptable: long, varied and not a sequence, so that it
//! cannot be guessed (the gateway holds the PBX's credentials: its key is as good as them).

/// Shortest API key accepted, in characters.
pub const MIN_API_KEY_LEN: usize = 16;
/// Fewest different characters an API key must have (`openssl rand -hex 32` gives 64
/// characters from 16 different ones).
pub const MIN_API_KEY_DISTINCT: usize = 8;

/// `Ok` for an acceptable key, else the message saying what is expected (never the key).
pub(super) fn check(key: &str) -> Result<(), String> {
    let how = "make one with `openssl rand -hex 32`";
    let chars: Vec<char> = key.trim().chars().collect();
    if chars.len() < MIN_API_KEY_LEN {
        return Err(format!(
            "the gateway's API key must have at least {MIN_API_KEY_LEN} characters (it \
             protects the PBX); {how}"
        ));
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_API_KEY_DISTINCT {
        return Err(format!(
            "the gateway's API key is too easy to guess: it has {} different characters, it \
             needs at least {MIN_API_KEY_DISTINCT} (and {MIN_API_KEY_LEN} characters in all); \
             {how}",
            distinct.len()
        ));
    }
    // `abcdefghijklmnop`, `0123456789...`, `zyxw...`: every step the same.
    let step = |w: &[char]| i64::from(u32::from(w[1])) - i64::from(u32::from(w[0]));
    let first = step(&chars[..2]);
    if chars.windows(2).all(|w| step(w) == first) {
        return Err(format!(
            "the gateway's API key is too easy to guess: it is a run of consecutive \
             characters; {how}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn guessable_keys_are_refused() {
        for (key, says) in [
            ("short", "at least 16 characters"),
            ("       short-key         ", "at least 16 characters"),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1 different characters"),
            ("abababababababababababababab", "2 different characters"),
            ("1234123412341234", "4 different characters"),
            ("abcdefghijklmnopqrstuvwxyz", "consecutive"),
            ("zyxwvutsrqponmlkj", "consecutive"),
        ] {
            let e = check(key).expect_err(key);
            assert!(e.contains(says), "{key}: {e}");
            assert!(e.contains("openssl rand -hex 32"), "{e}");
            assert!(!e.contains(key.trim()), "the key is not echoed: {e}");
        }
        for key in [
            "0123456789abcdef-key",
            "embedding-test-key-0123456789abcdef",
            "gateway-test-key-0123456789",
            "4f9c2a7e1b3d8065c4e2a9f17d3b5e08",
        ] {
            check(key).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
    }
}
