//! The vault: every reading kept forever, compressed into columnar chunks and sealed with
//! XChaCha20-Poly1305 in one SQLite file. The only crate that touches SQLite and keys.
#![forbid(unsafe_code)]
pub mod codec;
