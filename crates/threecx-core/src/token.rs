//! OAuth2 client-credentials tokens for 3CX: one cache per (API root, client ID) per process,
//! one fetch in flight at a time, a backoff after failed token requests, and optionally a file
//! shared with other processes.
//!
//! 3CX keeps only ONE active token per API client: fetching a second one can invalidate the
//! first. So every [`crate::Client`] with the same PBX and client ID shares one cache (a second
//! Client must not knock out the first one's token), concurrent callers wait for the fetch in
//! flight instead of starting their own, a failed fetch is reported to everyone who waited for it
//! (instead of each waiter trying again: 3CX blacklists IPs that fail auth repeatedly), and a
//! token is replaced only shortly before it expires or when the PBX rejects it.
//!
//! After a failed token request that reached the PBX, the next one waits `token_backoff_base`,
//! doubling with each further failure up to `token_backoff_max`, and at most
//! `token_requests_per_minute` are sent per rolling minute; calls meanwhile fail at once with the
//! last error, saying when the next request goes out. With `token_cache_dir` set, the token and
//! that backoff live in a locked file too (see `token/file.rs`), so processes share them.

mod access;
mod backoff;
mod cache;
mod echo;
mod endpoint;
mod file;
mod lifetime;

pub(crate) use access::Token;
pub(crate) use cache::{shared_cache, TokenCache};
