//! `application/x-www-form-urlencoded` text, as a query string and as the token endpoint's form
//! body both are.

use percent_encoding::percent_decode_str;

/// `a=1&b=x%20y` → pairs, percent-decoded (`+` is a space, as ASP.NET reads it).
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}
