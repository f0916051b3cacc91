//! Finding the client secret in a server's text however it was encoded (percent, JSON, HTML
//! escapes, stacked): a token endpoint that echoes the request must not leak the secret into an
//! error message.

/// Whether `text` holds `secret` in a form a server may echo it in: as is, percent-encoded
/// (`+` or `%20` for a space, any hex case, even twice), JSON-escaped (`\/`, `\u00e9`) or
/// HTML-escaped (`&amp;`, `&#43;`), or any two of these on top of each other. The text is
/// decoded rather than the secret encoded: no list of encodings of the secret is complete.
pub(crate) fn echoes_secret(text: &str, secret: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    type Decode = fn(&str) -> String;
    const DECODERS: [Decode; 4] = [
        |t| {
            percent_encoding::percent_decode_str(t)
                .decode_utf8_lossy()
                .into_owned()
        },
        |t| {
            percent_encoding::percent_decode_str(&t.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        },
        json_unescape,
        html_unescape,
    ];
    let mut layer = vec![text.to_owned()];
    for depth in 0..=2 {
        if layer.iter().any(|t| t.contains(secret)) {
            return true;
        }
        if depth == 2 {
            break;
        }
        layer = layer
            .iter()
            .flat_map(|t| DECODERS.iter().map(move |d| (t, d(t))))
            .filter(|(t, decoded)| decoded != *t)
            .map(|(_, decoded)| decoded)
            .collect();
    }
    false
}

/// JSON string escapes (`\"`, `\/`, `\n`, `\u00e9`, surrogate pairs) decoded wherever they
/// appear; anything else is kept as is.
fn json_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let hex4 = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Option<u32> {
        let digits: String = (0..4).map_while(|_| chars.next()).collect();
        (digits.len() == 4)
            .then(|| u32::from_str_radix(&digits, 16).ok())
            .flatten()
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let Some(high) = hex4(&mut chars) else {
                    continue;
                };
                let code = if (0xD800..0xDC00).contains(&high) {
                    let mut ahead = chars.clone();
                    match (ahead.next(), ahead.next(), hex4(&mut ahead)) {
                        (Some('\\'), Some('u'), Some(low)) if (0xDC00..0xE000).contains(&low) => {
                            chars = ahead;
                            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                        }
                        _ => high,
                    }
                } else {
                    high
                };
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// HTML character references decoded: `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#43;`,
/// `&#x2B;`; anything else is kept as is.
fn html_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // Bytes, not a str slice: byte 12 may fall inside a character.
        let end = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|&b| b == b';');
        let decoded = end.and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let (digits, radix) = match name.strip_prefix(['#']) {
                        Some(n) => match n.strip_prefix(['x', 'X']) {
                            Some(h) => (h, 16),
                            None => (n, 10),
                        },
                        None => ("", 10),
                    };
                    u32::from_str_radix(digits, radix)
                        .ok()
                        .and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_of_the_secret_are_found_in_any_encoding() {
        let secret = "s3cr3t +/=&é\"<>'\\😀";
        for echo in [
            secret.to_owned(),
            "s3cr3t+%2B%2F%3D%26%C3%A9%22%3C%3E%27%5C%F0%9F%98%80".to_owned(),
            "s3cr3t%20%2b%2f%3d%26%c3%a9%22%3c%3e%27%5c%f0%9f%98%80".to_owned(),
            "s3cr3t%2520%252B%252F%253D%2526%25C3%25A9%2522%253C%253E%2527%255C%25F0%259F%2598%2580"
                .to_owned(),
            serde_json::to_string(secret).unwrap(),
            r#"s3cr3t \u002B\/\u003D\u0026\u00E9\"\u003C\u003E\u0027\\\uD83D\uDE00"#.to_owned(),
            "s3cr3t &#43;&#x2F;=&amp;&#233;&quot;&lt;&gt;&apos;\\&#x1F600;".to_owned(),
            // JSON-escaped, then percent-encoded.
            "s3cr3t%20%2B%5C%2F%3D%26%5Cu00e9%5C%22%3C%3E%27%5C%5C%F0%9F%98%80".to_owned(),
        ] {
            let text = format!("error: client_secret={echo}; bye");
            assert!(echoes_secret(&text, secret), "{echo}");
        }
        for clean in [
            "",
            "s3cr3t",
            "invalid_client",
            "&",
            "&é;&#xZZ;&#99999999;",
            "\\u12",
            "%",
        ] {
            assert!(!echoes_secret(clean, secret), "{clean}");
        }
        assert!(!echoes_secret("anything", ""));
        // Odd input never panics.
        for odd in [
            "&ééééééééééé;",
            "\\uD83D",
            "\\uD83D\\u0041",
            "\\",
            "%C3",
            "&#x110000;",
        ] {
            echoes_secret(odd, "x");
        }
        assert_eq!(json_unescape(r#"a\u00e9\/\uD83D\uDE00\n"#), "aé/😀\n");
        assert_eq!(
            html_unescape("a&amp;b&#43;&#x2f;&unknown;&"),
            "a&b+/&unknown;&"
        );
    }
}
