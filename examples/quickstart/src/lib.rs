//! The repository's README, checked: its Rust snippets are the doctests of this library, so
//! `cargo test` compiles each of them as written (and runs those with a `main`). The example
//! program itself is `src/main.rs`.

#![forbid(unsafe_code)]

/// The README.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct Readme;
