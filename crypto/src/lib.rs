//! Cryptography, with no HTTP: the server's keys, the personal-data vault (per-subject keys,
//! crypto-shredding), identity assertions, code, poster and session tokens, bearer-token
//! hashing and the QR picture.

pub mod assertion;
pub mod code_token;
pub mod keys;
pub mod qr;
pub mod session;
pub mod token;
pub mod vault;
