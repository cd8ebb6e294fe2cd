//! The personal-data vault: crypto-shredding over the database. Each subject (a person, a
//! grid, …) has its own AES-256-GCM data key, wrapped under the master key in
//! `subject_keys`; personal data is sealed with it before it enters an event, and deleting
//! the key row makes that data unrecoverable while every event stays in place.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::cipher::{BlockDecrypt, BlockEncrypt};
use aes_gcm::Aes256Gcm;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use event_store::Database;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::keys::random_array;

/// How many unwrapped data keys the vault keeps in memory; the cache is emptied when full.
pub const CACHE_CAPACITY: usize = 10_000;

const VERSION: &str = "v1";

/// A value sealed for one subject: `v1.<base64 nonce>.<base64 ciphertext and tag>`, AES-256-GCM
/// under the subject's data key with the subject id as associated data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(pub String);

/// Why the vault failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the vault's database failed while {action}")]
    Database {
        action: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("the sealed value is not of the form v1.<nonce>.<ciphertext>")]
    Malformed,
    #[error(
        "the data key of {subject} does not unwrap under the master key: \
         the master key is wrong or the key row was altered"
    )]
    Unwrap { subject: String },
    #[error(
        "the sealed value does not open under the key of {subject}: \
         it was altered, or sealed for another subject"
    )]
    Open { subject: String },
    #[error("the data key of {subject} was shredded while sealing; nothing was sealed")]
    Shredded { subject: String },
    #[error("the value is too large to seal")]
    Seal,
    #[error(
        "the value is not the expected JSON ({category} error at line {line}, column {column})"
    )]
    Json {
        category: &'static str,
        line: usize,
        column: usize,
    },
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
}

impl VaultError {
    fn json(error: &serde_json::Error) -> Self {
        // serde_json's own message may quote the value, which is personal data.
        VaultError::Json {
            category: match error.classify() {
                serde_json::error::Category::Io => "I/O",
                serde_json::error::Category::Syntax => "syntax",
                serde_json::error::Category::Data => "data",
                serde_json::error::Category::Eof => "end of input",
            },
            line: error.line(),
            column: error.column(),
        }
    }
}

/// The vault. Cheap to clone: clones share the database pool and the key cache.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    master: Aes256Gcm,
    capacity: usize,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, [u8; 32]>,
    /// Bumped by every shred: a key read from the database before a shred is not cached
    /// after it.
    shreds: u64,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("backend", &self.inner.db.backend().name())
            .field("master_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// A vault over `db` (migrated), wrapping data keys under `master_key`.
    pub fn new(db: Database, master_key: [u8; 32]) -> Self {
        Self::with_capacity(db, master_key, CACHE_CAPACITY)
    }

    fn with_capacity(db: Database, master_key: [u8; 32], capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                master: Aes256Gcm::new((&master_key).into()),
                capacity,
                cache: Mutex::new(Cache::default()),
            }),
        }
    }

    /// Seals `plaintext` for `subject`, creating the subject's data key on first use.
    pub async fn seal(&self, subject: &str, plaintext: &[u8]) -> Result<Sealed, VaultError> {
        let key = self.key_for_sealing(subject).await?;
        encrypt(&Aes256Gcm::new((&key).into()), subject, plaintext).map(Sealed)
    }

    /// Opens a value sealed for `subject`; `None` when the subject's key was shredded.
    pub async fn open(
        &self,
        subject: &str,
        sealed: &Sealed,
    ) -> Result<Option<Vec<u8>>, VaultError> {
        let Some(key) = self.existing_key(subject).await? else {
            return Ok(None);
        };
        let opened =
            decrypt(&Aes256Gcm::new((&key).into()), subject, &sealed.0)?.ok_or_else(|| {
                VaultError::Open {
                    subject: subject.to_owned(),
                }
            })?;
        Ok(Some(opened))
    }

    /// Destroys the subject's data key: everything sealed for it is unrecoverable from now
    /// on. Idempotent. A later `seal` for the subject makes a new key.
    pub async fn shred(&self, subject: &str) -> Result<(), VaultError> {
        let ctx = |source| VaultError::Database {
            action: "deleting a subject key",
            source,
        };
        match &self.inner.db {
            Database::Sqlite(pool) => {
                sqlx::query(include_str!("sql/subject_key_delete.sqlite.sql"))
                    .bind(subject)
                    .execute(pool)
                    .await
                    .map_err(ctx)?;
            }
            Database::Postgres(pool) => {
                sqlx::query(include_str!("sql/subject_key_delete.postgres.sql"))
                    .bind(subject)
                    .execute(pool)
                    .await
                    .map_err(ctx)?;
            }
        }
        let mut cache = self.cache();
        cache.keys.remove(subject);
        cache.shreds = cache.shreds.wrapping_add(1);
        Ok(())
    }

    /// The pseudonym of a 16-byte id (a person id) for `subject`: the id enciphered as one
    /// AES-256 block under a key derived from the subject's data key, made on first use. The
    /// same id gives the same pseudonym until the subject is shredded; from then on nobody can
    /// tell whose it was (see [`Vault::resolve`]).
    pub async fn pseudonym(&self, subject: &str, id: [u8; 16]) -> Result<[u8; 16], VaultError> {
        let key = self.key_for_sealing(subject).await?;
        Ok(encipher(&key, id))
    }

    /// As [`Vault::pseudonym`], but `None` (no key made) when the subject has no key.
    pub async fn existing_pseudonym(
        &self,
        subject: &str,
        id: [u8; 16],
    ) -> Result<Option<[u8; 16]>, VaultError> {
        Ok(self
            .existing_key(subject)
            .await?
            .map(|key| encipher(&key, id)))
    }

    /// The id behind a pseudonym of `subject`; `None` once the subject was shredded (or it
    /// never had a key).
    pub async fn resolve(
        &self,
        subject: &str,
        pseudonym: [u8; 16],
    ) -> Result<Option<[u8; 16]>, VaultError> {
        let Some(key) = self.existing_key(subject).await? else {
            return Ok(None);
        };
        let mut block = aes_gcm::aes::Block::from(pseudonym);
        pseudonym_cipher(&key).decrypt_block(&mut block);
        Ok(Some(block.into()))
    }

    /// The subjects with a key whose names start with `prefix`, in name order.
    pub async fn subjects_with_prefix(&self, prefix: &str) -> Result<Vec<String>, VaultError> {
        let ctx = |source| VaultError::Database {
            action: "listing subject keys",
            source,
        };
        match &self.inner.db {
            Database::Sqlite(pool) => {
                sqlx::query_scalar::<_, String>(include_str!("sql/subject_key_list.sqlite.sql"))
                    .bind(prefix)
                    .fetch_all(pool)
                    .await
            }
            Database::Postgres(pool) => {
                sqlx::query_scalar::<_, String>(include_str!("sql/subject_key_list.postgres.sql"))
                    .bind(prefix)
                    .fetch_all(pool)
                    .await
            }
        }
        .map_err(ctx)
    }

    /// Seals `value` as JSON.
    pub async fn seal_json<T: Serialize>(
        &self,
        subject: &str,
        value: &T,
    ) -> Result<Sealed, VaultError> {
        let json = serde_json::to_vec(value).map_err(|e| VaultError::json(&e))?;
        self.seal(subject, &json).await
    }

    /// Opens a value sealed with [`Vault::seal_json`]; `None` when the key was shredded.
    pub async fn open_json<T: DeserializeOwned>(
        &self,
        subject: &str,
        sealed: &Sealed,
    ) -> Result<Option<T>, VaultError> {
        match self.open(subject, sealed).await? {
            None => Ok(None),
            Some(json) => serde_json::from_slice(&json)
                .map(Some)
                .map_err(|e| VaultError::json(&e)),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn cached(&self, subject: &str) -> (Option<[u8; 32]>, u64) {
        let cache = self.cache();
        (cache.keys.get(subject).copied(), cache.shreds)
    }

    fn remember(&self, subject: &str, key: [u8; 32], shreds_seen: u64) {
        let mut cache = self.cache();
        if cache.shreds != shreds_seen {
            return;
        }
        if cache.keys.len() >= self.inner.capacity {
            cache.keys.clear();
        }
        cache.keys.insert(subject.to_owned(), key);
    }

    /// The subject's data key, if it has one.
    async fn existing_key(&self, subject: &str) -> Result<Option<[u8; 32]>, VaultError> {
        let (cached, shreds_seen) = self.cached(subject);
        if cached.is_some() {
            return Ok(cached);
        }
        let Some(wrapped) = self.read_wrapped(subject).await? else {
            return Ok(None);
        };
        let key = self.unwrap_key(subject, &wrapped)?;
        self.remember(subject, key, shreds_seen);
        Ok(Some(key))
    }

    /// The subject's data key, made and stored first if it has none. Two first seals racing
    /// both read back the one key that was stored.
    async fn key_for_sealing(&self, subject: &str) -> Result<[u8; 32], VaultError> {
        let (cached, shreds_seen) = self.cached(subject);
        if let Some(key) = cached {
            return Ok(key);
        }
        let wrapped = match self.read_wrapped(subject).await? {
            Some(wrapped) => wrapped,
            None => {
                let fresh: [u8; 32] = random_array().map_err(VaultError::Random)?;
                let wrapped = encrypt(&self.inner.master, subject, &fresh)?;
                self.insert_wrapped(subject, &wrapped).await?;
                self.read_wrapped(subject)
                    .await?
                    .ok_or_else(|| VaultError::Shredded {
                        subject: subject.to_owned(),
                    })?
            }
        };
        let key = self.unwrap_key(subject, &wrapped)?;
        self.remember(subject, key, shreds_seen);
        Ok(key)
    }

    fn unwrap_key(&self, subject: &str, wrapped: &str) -> Result<[u8; 32], VaultError> {
        let unwrap_error = || VaultError::Unwrap {
            subject: subject.to_owned(),
        };
        let bytes = decrypt(&self.inner.master, subject, wrapped)
            .map_err(|_| unwrap_error())?
            .ok_or_else(unwrap_error)?;
        bytes.try_into().map_err(|_| unwrap_error())
    }

    async fn read_wrapped(&self, subject: &str) -> Result<Option<String>, VaultError> {
        let ctx = |source| VaultError::Database {
            action: "reading a subject key",
            source,
        };
        match &self.inner.db {
            Database::Sqlite(pool) => {
                sqlx::query_scalar::<_, String>(include_str!("sql/subject_key_select.sqlite.sql"))
                    .bind(subject)
                    .fetch_optional(pool)
                    .await
            }
            Database::Postgres(pool) => {
                sqlx::query_scalar::<_, String>(include_str!("sql/subject_key_select.postgres.sql"))
                    .bind(subject)
                    .fetch_optional(pool)
                    .await
            }
        }
        .map_err(ctx)
    }

    async fn insert_wrapped(&self, subject: &str, wrapped: &str) -> Result<(), VaultError> {
        let ctx = |source| VaultError::Database {
            action: "storing a new subject key",
            source,
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000;
        let created_at = i64::try_from(now).unwrap_or(i64::MAX);
        match &self.inner.db {
            Database::Sqlite(pool) => {
                sqlx::query(include_str!("sql/subject_key_insert.sqlite.sql"))
                    .bind(subject)
                    .bind(wrapped)
                    .bind(created_at)
                    .execute(pool)
                    .await
                    .map(drop)
            }
            Database::Postgres(pool) => {
                sqlx::query(include_str!("sql/subject_key_insert.postgres.sql"))
                    .bind(subject)
                    .bind(wrapped)
                    .bind(created_at)
                    .execute(pool)
                    .await
                    .map(drop)
            }
        }
        .map_err(ctx)
    }
}

/// The block cipher of a subject's pseudonyms: AES-256 under HMAC-SHA256(data key, a fixed
/// label), so the data key itself only ever serves AES-GCM.
fn pseudonym_cipher(data_key: &[u8; 32]) -> aes_gcm::aes::Aes256 {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(data_key) else {
        unreachable!("HMAC accepts any key length")
    };
    mac.update(b"yuekang pseudonym v1");
    let derived: [u8; 32] = mac.finalize().into_bytes().into();
    aes_gcm::aes::Aes256::new(&derived.into())
}

/// The pseudonym of `id` under a subject's data key.
fn encipher(data_key: &[u8; 32], id: [u8; 16]) -> [u8; 16] {
    let mut block = aes_gcm::aes::Block::from(id);
    pseudonym_cipher(data_key).encrypt_block(&mut block);
    block.into()
}

/// `v1.<nonce>.<ciphertext>` of `plaintext` under `key`, bound to `subject`.
/// Seals the answers remembered under idempotency keys (a scan's masked name and red labels,
/// say), so that table holds nothing personal in clear: AES-256-GCM under a key derived from
/// the master key, with the scoped idempotency key as associated data (an answer cannot be
/// moved to another key).
#[derive(Clone)]
pub struct AnswerKey(Aes256Gcm);

impl fmt::Debug for AnswerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AnswerKey([redacted])")
    }
}

impl AnswerKey {
    /// `HMAC-SHA256(master_key, "yuekang.answers.v1")` as the AES key.
    pub fn derive(master_key: &[u8; 32]) -> Self {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(master_key) else {
            unreachable!("HMAC takes a key of any length")
        };
        mac.update(b"yuekang.answers.v1");
        let key: [u8; 32] = mac.finalize().into_bytes().into();
        Self(Aes256Gcm::new(&key.into()))
    }

    /// `answer` sealed for the idempotency key `key`.
    pub fn seal(&self, key: &str, answer: &str) -> Result<String, VaultError> {
        encrypt(&self.0, key, answer.as_bytes())
    }

    /// The answer sealed for `key`, when `sealed` is one and authenticates.
    pub fn open(&self, key: &str, sealed: &str) -> Option<String> {
        decrypt(&self.0, key, sealed)
            .ok()
            .flatten()
            .and_then(|bytes| String::from_utf8(bytes).ok())
    }
}

#[cfg(test)]
mod answer_tests {
    use super::*;

    #[test]
    fn answers_are_sealed_to_their_key() {
        let key = AnswerKey::derive(&[7; 32]);
        let sealed = key
            .seal("person-1:k1", "{\"name_masked\":\"李*强\"}")
            .expect("seal");
        assert!(!sealed.contains("李"), "{sealed}");
        assert_eq!(
            key.open("person-1:k1", &sealed).as_deref(),
            Some("{\"name_masked\":\"李*强\"}")
        );
        assert_eq!(key.open("person-1:k2", &sealed), None, "another key");
        assert_eq!(
            AnswerKey::derive(&[8; 32]).open("person-1:k1", &sealed),
            None
        );
        assert_eq!(key.open("person-1:k1", "{}"), None, "not sealed");
    }
}

fn encrypt(key: &Aes256Gcm, subject: &str, plaintext: &[u8]) -> Result<String, VaultError> {
    let nonce: [u8; 12] = random_array().map_err(VaultError::Random)?;
    let ciphertext = key
        .encrypt(
            (&nonce).into(),
            Payload {
                msg: plaintext,
                aad: subject.as_bytes(),
            },
        )
        .map_err(|_| VaultError::Seal)?;
    Ok(format!(
        "{VERSION}.{}.{}",
        STANDARD.encode(nonce),
        STANDARD.encode(ciphertext)
    ))
}

/// The plaintext of `sealed`; `Err(Malformed)` when it is not of the sealed form, `Ok(None)`
/// when it does not authenticate under `key` and `subject`.
fn decrypt(key: &Aes256Gcm, subject: &str, sealed: &str) -> Result<Option<Vec<u8>>, VaultError> {
    let mut parts = sealed.split('.');
    let (Some(VERSION), Some(nonce), Some(ciphertext), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VaultError::Malformed);
    };
    let nonce: [u8; 12] = STANDARD
        .decode(nonce)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(VaultError::Malformed)?;
    let ciphertext = STANDARD
        .decode(ciphertext)
        .map_err(|_| VaultError::Malformed)?;
    Ok(key
        .decrypt(
            (&nonce).into(),
            Payload {
                msg: &ciphertext,
                aad: subject.as_bytes(),
            },
        )
        .ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use event_store::testing::TestDatabase;

    const MASTER: [u8; 32] = [42; 32];

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Person {
        name: String,
        phone: String,
    }

    #[tokio::test]
    async fn sealed_values_open_for_their_subject_only() {
        let test = TestDatabase::sqlite().await;
        let vault = Vault::new(test.db.clone(), MASTER);
        let sealed = vault
            .seal("person-1", "张三".as_bytes())
            .await
            .expect("seal");
        assert!(sealed.0.starts_with("v1."));
        assert!(!sealed.0.contains("张三"));
        assert_eq!(
            vault.open("person-1", &sealed).await.expect("open"),
            Some("张三".as_bytes().to_vec())
        );
        // Sealing twice gives different ciphertexts (fresh nonces) under one key.
        let again = vault
            .seal("person-1", "张三".as_bytes())
            .await
            .expect("seal");
        assert_ne!(again, sealed);
        // A fresh vault (empty cache) over the same database opens it too.
        let reopened = Vault::new(test.db.clone(), MASTER);
        assert_eq!(
            reopened.open("person-1", &again).await.expect("open"),
            Some("张三".as_bytes().to_vec())
        );
        // Another subject with a key of its own cannot open it (the subject is the AAD).
        vault.seal("person-2", b"x").await.expect("seal");
        assert!(matches!(
            vault.open("person-2", &sealed).await,
            Err(VaultError::Open { .. })
        ));
        // A subject that never had a key opens nothing.
        assert_eq!(vault.open("person-3", &sealed).await.expect("open"), None);
        // The JSON conveniences round trip.
        let person = Person {
            name: "李四".into(),
            phone: "13800001234".into(),
        };
        let sealed = vault.seal_json("person-1", &person).await.expect("seal");
        assert_eq!(
            vault
                .open_json::<Person>("person-1", &sealed)
                .await
                .expect("open"),
            Some(person)
        );
        let error = vault
            .open_json::<u32>("person-1", &sealed)
            .await
            .expect_err("not a number");
        assert!(!error.to_string().contains("李四"));
    }

    #[tokio::test]
    async fn pseudonyms_are_stable_per_subject_and_die_with_its_key() {
        let test = TestDatabase::sqlite().await;
        let vault = Vault::new(test.db.clone(), MASTER);
        let person = *b"0123456789abcdef";
        let day1 = vault
            .pseudonym("links-2026-03-01", person)
            .await
            .expect("p");
        assert_ne!(day1, person);
        assert_eq!(
            vault
                .pseudonym("links-2026-03-01", person)
                .await
                .expect("p"),
            day1
        );
        let day2 = vault
            .pseudonym("links-2026-03-02", person)
            .await
            .expect("p");
        assert_ne!(day2, day1, "another day, another pseudonym");
        assert_eq!(
            vault.resolve("links-2026-03-01", day1).await.expect("r"),
            Some(person)
        );
        assert_eq!(
            vault.subjects_with_prefix("links-").await.expect("list"),
            ["links-2026-03-01", "links-2026-03-02"]
        );
        vault.shred("links-2026-03-01").await.expect("shred");
        assert_eq!(
            vault.resolve("links-2026-03-01", day1).await.expect("r"),
            None
        );
        assert_eq!(
            vault.resolve("links-2026-03-02", day2).await.expect("r"),
            Some(person)
        );
        assert_eq!(
            vault.subjects_with_prefix("links-").await.expect("list"),
            ["links-2026-03-02"]
        );
        assert!(vault
            .subjects_with_prefix("grid-")
            .await
            .expect("list")
            .is_empty());
    }

    #[tokio::test]
    async fn a_shredded_subject_opens_nothing() {
        let test = TestDatabase::sqlite().await;
        let vault = Vault::new(test.db.clone(), MASTER);
        // A clone shares the cache: the shred evicts the key it had cached.
        let other = vault.clone();
        let sealed = vault.seal("grid-1", b"visit notes").await.expect("seal");
        assert!(other.open("grid-1", &sealed).await.expect("open").is_some());
        vault.shred("grid-1").await.expect("shred");
        assert_eq!(vault.open("grid-1", &sealed).await.expect("open"), None);
        assert_eq!(other.open("grid-1", &sealed).await.expect("open"), None);
        vault.shred("grid-1").await.expect("shred is idempotent");
        let fresh = Vault::new(test.db.clone(), MASTER);
        assert_eq!(fresh.open("grid-1", &sealed).await.expect("open"), None);
        assert_eq!(
            fresh
                .open_json::<String>("grid-1", &sealed)
                .await
                .expect("open"),
            None
        );
    }

    #[tokio::test]
    async fn altered_values_and_wrong_master_keys_are_errors() {
        let test = TestDatabase::sqlite().await;
        let vault = Vault::new(test.db.clone(), MASTER);
        let sealed = vault.seal("person-1", b"secret").await.expect("seal");
        let (head, body) = sealed.0.rsplit_once('.').expect("dot");
        let mut bytes = STANDARD.decode(body).expect("base64");
        bytes[0] ^= 1;
        let altered = Sealed(format!("{head}.{}", STANDARD.encode(bytes)));
        assert!(matches!(
            vault.open("person-1", &altered).await,
            Err(VaultError::Open { .. })
        ));
        for malformed in ["", "v1.abc", "v2.AAAA.AAAA", "v1.AAAA.AAAA", "v1.!!.AAAA.x"] {
            assert!(
                matches!(
                    vault.open("person-1", &Sealed(malformed.into())).await,
                    Err(VaultError::Malformed)
                ),
                "{malformed}"
            );
        }
        let wrong = Vault::new(test.db.clone(), [7; 32]);
        assert!(matches!(
            wrong.open("person-1", &sealed).await,
            Err(VaultError::Unwrap { .. })
        ));
        assert!(matches!(
            wrong.seal("person-1", b"more").await,
            Err(VaultError::Unwrap { .. })
        ));
        assert!(!format!("{vault:?}").contains("42"));
    }

    #[tokio::test]
    async fn concurrent_first_seals_agree_on_one_key() {
        let test = TestDatabase::sqlite().await;
        let vaults: Vec<Vault> = (0..4)
            .map(|_| Vault::new(test.db.clone(), MASTER))
            .collect();
        let sealed = futures_util::future::join_all(
            vaults
                .iter()
                .enumerate()
                .map(|(i, v)| async move { v.seal("person-9", &[i as u8]).await }),
        )
        .await;
        let reader = Vault::new(test.db.clone(), MASTER);
        for (i, sealed) in sealed.into_iter().enumerate() {
            let sealed = sealed.expect("seal");
            assert_eq!(
                reader.open("person-9", &sealed).await.expect("open"),
                Some(vec![i as u8])
            );
        }
    }

    #[tokio::test]
    async fn the_cache_is_bounded() {
        let test = TestDatabase::sqlite().await;
        let vault = Vault::with_capacity(test.db.clone(), MASTER, 3);
        let mut sealed = Vec::new();
        for i in 0..10 {
            let subject = format!("person-{i}");
            sealed.push(vault.seal(&subject, b"x").await.expect("seal"));
            assert!(vault.cache().keys.len() <= 3);
        }
        for (i, sealed) in sealed.iter().enumerate() {
            let subject = format!("person-{i}");
            assert!(vault.open(&subject, sealed).await.expect("open").is_some());
        }
    }
}
