//! The people of the seeded PBX: the names of its users, which call and chat rows name too.

use crate::gen::hash;

const FIRST: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "Niklaus",
    "Katherine",
    "John",
    "Sophie",
    "Donald",
    "Joan",
    "Bjarne",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Wirth",
    "Johnson",
    "Backus",
    "Wilson",
    "Knuth",
    "Clarke",
    "Stroustrup",
    "O'Brien",
];
/// The name of seeded user `n` (also used by call and chat rows).
pub fn person(seed: u64, n: u64) -> (&'static str, &'static str) {
    let h = hash(&[seed, 0x05E2, n]);
    (
        FIRST[(h % FIRST.len() as u64) as usize],
        LAST[((h >> 20) % LAST.len() as u64) as usize],
    )
}
