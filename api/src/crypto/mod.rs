//! Cryptography: the server's keys, the personal-data vault, identity assertions, health-code
//! tokens, citizen sessions and the QR picture.

pub mod assertion;
pub mod code_token;
pub mod keys;
pub mod qr;
pub mod session;
pub mod vault;
