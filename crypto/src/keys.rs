//! Every secret the server holds, read from the keys file (`keys.toml`, see `docs/keys.md`),
//! or created in the data directory in development mode.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::code_token::{CodeKeyring, CodeKeyringError};

/// The keys file's name in the data directory in development mode.
pub const DEV_KEYS_FILE: &str = "keys.toml";
/// The development identity provider's file in the data directory.
pub const DEV_PROVIDER_FILE: &str = "dev-provider.toml";
/// The development identity provider's key id.
pub const DEV_PROVIDER_KID: &str = "dev";
/// The development identity provider's issuer (`iss` of its assertions).
pub const DEV_PROVIDER_ISSUER: &str = "yuekang-dev";

/// Why the keys could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("no keys file at {}; create one (see docs/keys.md) or run with --dev", path.display())]
    Missing { path: PathBuf },
    #[error(
        "no development identity provider in {}; run `yuekang serve --dev` once to create it",
        dir.display()
    )]
    DevProviderMissing { dir: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    // The message of the TOML parser only: its full rendering quotes the offending line,
    // which may hold a secret.
    #[error("{} is not a valid keys file (line {line}): {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{field} in {} is not standard base64", path.display())]
    BadBase64 { path: PathBuf, field: String },
    #[error(
        "{field} in {} must decode to {expected} bytes, not {actual}",
        path.display()
    )]
    WrongLength {
        path: PathBuf,
        field: String,
        expected: usize,
        actual: usize,
    },
    #[error("{field} in {} is not a valid Ed25519 public key", path.display())]
    BadPublicKey { path: PathBuf, field: String },
    #[error(
        "{} must mark exactly one code key as status = \"active\", not {count}; \
         the others are \"retired\"",
        path.display()
    )]
    ActiveCodeKeys { path: PathBuf, count: usize },
    #[error("{} lists {kind} id {kid:?} twice; every key needs its own id", path.display())]
    DuplicateKid {
        path: PathBuf,
        kind: &'static str,
        kid: String,
    },
    #[error("{} is invalid: {source}", path.display())]
    Keyring {
        path: PathBuf,
        source: CodeKeyringError,
    },
    #[error("{field} in {} must not be empty", path.display())]
    Empty { path: PathBuf, field: String },
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// A trusted identity provider: assertions naming `kid` must be signed by `public_key` and
/// carry `iss == issuer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderKey {
    pub kid: String,
    pub issuer: String,
    pub public_key: VerifyingKey,
}

/// The built-in development identity provider: it can mint assertions (CLI `dev assert`,
/// tests). Its key is trusted only in development mode.
#[derive(Clone)]
pub struct DevProvider {
    pub kid: String,
    pub issuer: String,
    pub signing_key: SigningKey,
}

impl fmt::Debug for DevProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevProvider")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("signing_key", &"[redacted]")
            .finish()
    }
}

impl DevProvider {
    /// The public half, as the server trusts it in development mode.
    pub fn provider_key(&self) -> ProviderKey {
        ProviderKey {
            kid: self.kid.clone(),
            issuer: self.issuer.clone(),
            public_key: self.signing_key.verifying_key(),
        }
    }

    /// Reads `data_dir/dev-provider.toml`, created by `yuekang serve --dev`.
    pub fn load(data_dir: &Path) -> Result<Self, KeysError> {
        let path = data_dir.join(DEV_PROVIDER_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeysError::DevProviderMissing {
                    dir: data_dir.to_owned(),
                })
            }
            Err(source) => return Err(KeysError::Read { path, source }),
        };
        let file: DevProviderFile = parse_toml(&path, &text)?;
        non_empty(&path, "kid", &file.kid)?;
        non_empty(&path, "issuer", &file.issuer)?;
        let seed = decode_32(&path, "seed", &file.seed)?;
        Ok(Self {
            kid: file.kid,
            issuer: file.issuer,
            signing_key: SigningKey::from_bytes(&seed),
        })
    }

    fn generate() -> Result<Self, KeysError> {
        Ok(Self {
            kid: DEV_PROVIDER_KID.to_owned(),
            issuer: DEV_PROVIDER_ISSUER.to_owned(),
            signing_key: SigningKey::from_bytes(&random_array().map_err(KeysError::Random)?),
        })
    }

    fn to_toml(&self) -> String {
        format!(
            "# The development identity provider (trusted only with --dev). Keep private.\n\
             kid = \"{}\"\nissuer = \"{}\"\nseed = \"{}\"\n",
            self.kid,
            self.issuer,
            STANDARD.encode(self.signing_key.to_bytes())
        )
    }
}

/// All the server's secrets.
pub struct Keys {
    /// Wraps each subject's data key in the personal-data vault.
    pub master_key: [u8; 32],
    /// Keys the document digest by which a person is found.
    pub lookup_key: [u8; 32],
    /// Signs citizen session tokens.
    pub session_key: [u8; 32],
    /// Keys the event log's hash chain (HMAC-SHA256), so a database writer without it cannot
    /// rewrite history and still pass `audit verify`.
    pub chain_key: [u8; 32],
    /// Signs and verifies health-code QR payloads.
    pub code_keys: CodeKeyring,
    /// Identity providers whose assertions are trusted.
    pub providers: Vec<ProviderKey>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("master_key", &"[redacted]")
            .field("lookup_key", &"[redacted]")
            .field("session_key", &"[redacted]")
            .field("chain_key", &"[redacted]")
            .field("code_keys", &self.code_keys)
            .field("providers", &self.providers)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    master_key: String,
    lookup_key: String,
    session_key: String,
    chain_key: String,
    #[serde(default)]
    code_keys: Vec<CodeKeyEntry>,
    #[serde(default)]
    identity_providers: Vec<ProviderEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeKeyEntry {
    kid: String,
    seed: String,
    status: CodeKeyStatus,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum CodeKeyStatus {
    Active,
    Retired,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderEntry {
    kid: String,
    issuer: String,
    public_key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DevProviderFile {
    kid: String,
    issuer: String,
    seed: String,
}

impl Keys {
    /// Reads a keys file. The development identity provider is not trusted.
    pub fn load(path: &Path) -> Result<Self, KeysError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeysError::Missing {
                    path: path.to_owned(),
                })
            }
            Err(source) => {
                return Err(KeysError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        Self::parse(path, &text)
    }

    /// Development mode: creates `data_dir/keys.toml` and `data_dir/dev-provider.toml` with
    /// fresh secrets when they are missing (mode 0600), loads both, and trusts the development
    /// identity provider beside any provider the keys file lists.
    pub fn load_or_create_dev(data_dir: &Path) -> Result<(Self, DevProvider), KeysError> {
        std::fs::create_dir_all(data_dir).map_err(|source| KeysError::Write {
            path: data_dir.to_owned(),
            source,
        })?;
        let keys_path = data_dir.join(DEV_KEYS_FILE);
        if !keys_path.exists() {
            write_private_if_absent(&keys_path, &fresh_keys_file()?)?;
        }
        let provider_path = data_dir.join(DEV_PROVIDER_FILE);
        if !provider_path.exists() {
            write_private_if_absent(&provider_path, &DevProvider::generate()?.to_toml())?;
        }
        let mut keys = Self::load(&keys_path)?;
        let dev = DevProvider::load(data_dir)?;
        if keys.providers.iter().any(|p| p.kid == dev.kid) {
            return Err(KeysError::DuplicateKid {
                path: keys_path,
                kind: "identity provider",
                kid: dev.kid,
            });
        }
        keys.providers.push(dev.provider_key());
        Ok((keys, dev))
    }

    /// Random keys held in memory, with the development identity provider trusted.
    pub fn generate_for_tests() -> (Self, DevProvider) {
        let random = || random_array::<32>().expect("the OS random number generator works");
        let dev = DevProvider::generate().expect("the OS random number generator works");
        let code_keys = CodeKeyring::new("c1", SigningKey::from_bytes(&random()), Vec::new())
            .expect("c1 is a valid key id");
        let keys = Self {
            master_key: random(),
            lookup_key: random(),
            session_key: random(),
            chain_key: random(),
            code_keys,
            providers: vec![dev.provider_key()],
        };
        (keys, dev)
    }

    /// The keyed digest by which a person is found from a document: lowercase hex of
    /// HMAC-SHA256(lookup key, "kind:number").
    pub fn document_digest(&self, kind: &str, number: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.lookup_key) else {
            unreachable!("HMAC accepts any key length")
        };
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(number.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The keyed hash of an identity provider's subject (issuer and subject key), 64 hex
    /// characters: the subject's stream id, which never shows the provider's key itself.
    pub fn subject_digest(&self, issuer: &str, subject: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.lookup_key) else {
            unreachable!("HMAC accepts any key length")
        };
        mac.update(b"subject\0");
        mac.update(issuer.as_bytes());
        mac.update(b"\0");
        mac.update(subject.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn parse(path: &Path, text: &str) -> Result<Self, KeysError> {
        let file: KeysFile = parse_toml(path, text)?;
        let master_key = decode_32(path, "master_key", &file.master_key)?;
        let lookup_key = decode_32(path, "lookup_key", &file.lookup_key)?;
        let session_key = decode_32(path, "session_key", &file.session_key)?;
        let chain_key = decode_32(path, "chain_key", &file.chain_key)?;

        let mut active = Vec::new();
        let mut retired = Vec::new();
        for (i, entry) in file.code_keys.iter().enumerate() {
            non_empty(path, &format!("code_keys[{i}].kid"), &entry.kid)?;
            let field = format!("code_keys[kid={}].seed", entry.kid);
            let key = SigningKey::from_bytes(&decode_32(path, &field, &entry.seed)?);
            if file.code_keys[..i].iter().any(|e| e.kid == entry.kid) {
                return Err(KeysError::DuplicateKid {
                    path: path.to_owned(),
                    kind: "code key",
                    kid: entry.kid.clone(),
                });
            }
            match entry.status {
                CodeKeyStatus::Active => active.push((entry.kid.clone(), key)),
                CodeKeyStatus::Retired => retired.push((entry.kid.clone(), key.verifying_key())),
            }
        }
        if active.len() != 1 {
            return Err(KeysError::ActiveCodeKeys {
                path: path.to_owned(),
                count: active.len(),
            });
        }
        let Some((active_kid, active_key)) = active.pop() else {
            unreachable!("exactly one active key was checked above")
        };
        let code_keys = CodeKeyring::new(active_kid, active_key, retired).map_err(|source| {
            KeysError::Keyring {
                path: path.to_owned(),
                source,
            }
        })?;

        let mut providers: Vec<ProviderKey> = Vec::new();
        for (i, entry) in file.identity_providers.iter().enumerate() {
            non_empty(path, &format!("identity_providers[{i}].kid"), &entry.kid)?;
            let field = format!("identity_providers[kid={}]", entry.kid);
            non_empty(path, &format!("{field}.issuer"), &entry.issuer)?;
            let field = format!("{field}.public_key");
            let bytes = decode_32(path, &field, &entry.public_key)?;
            let public_key =
                VerifyingKey::from_bytes(&bytes).map_err(|_| KeysError::BadPublicKey {
                    path: path.to_owned(),
                    field,
                })?;
            if providers.iter().any(|p| p.kid == entry.kid) {
                return Err(KeysError::DuplicateKid {
                    path: path.to_owned(),
                    kind: "identity provider",
                    kid: entry.kid.clone(),
                });
            }
            providers.push(ProviderKey {
                kid: entry.kid.clone(),
                issuer: entry.issuer.clone(),
                public_key,
            });
        }
        Ok(Self {
            master_key,
            lookup_key,
            session_key,
            chain_key,
            code_keys,
            providers,
        })
    }
}

/// `N` bytes from the operating system's random number generator.
pub(crate) fn random_array<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes)
}

fn fresh_keys_file() -> Result<String, KeysError> {
    let secret = || {
        random_array::<32>()
            .map(|bytes| STANDARD.encode(bytes))
            .map_err(KeysError::Random)
    };
    Ok(format!(
        "# Yuekang development keys, made by `yuekang serve --dev`. Keep private; see docs/keys.md.\n\
         master_key = \"{}\"\n\
         lookup_key = \"{}\"\n\
         session_key = \"{}\"\n\
         chain_key = \"{}\"\n\
         \n\
         [[code_keys]]\n\
         kid = \"c1\"\n\
         seed = \"{}\"\n\
         status = \"active\"\n",
        secret()?,
        secret()?,
        secret()?,
        secret()?,
        secret()?,
    ))
}

/// Writes `contents` to `path` with mode 0600 unless `path` already exists: written to a
/// private temporary file, then linked into place, so two first starts racing agree on one
/// file and no reader sees half of it.
fn write_private_if_absent(path: &Path, contents: &str) -> Result<(), KeysError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.{}", uuid::Uuid::new_v4()));
    let write_error = |source| KeysError::Write {
        path: path.to_owned(),
        source,
    };
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary).map_err(write_error)?;
        let written = std::io::Write::write_all(&mut file, contents.as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(write_error(e));
        }
    }
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(write_error(e)),
    }
}

fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, KeysError> {
    toml::from_str(text).map_err(|e| KeysError::Parse {
        path: path.to_owned(),
        line: e.span().map_or(0, |span| {
            text[..span.start.min(text.len())].lines().count().max(1)
        }),
        message: e.message().to_owned(),
    })
}

fn decode_32(path: &Path, field: &str, value: &str) -> Result<[u8; 32], KeysError> {
    let bytes = STANDARD
        .decode(value.trim())
        .map_err(|_| KeysError::BadBase64 {
            path: path.to_owned(),
            field: field.to_owned(),
        })?;
    let actual = bytes.len();
    bytes.try_into().map_err(|_| KeysError::WrongLength {
        path: path.to_owned(),
        field: field.to_owned(),
        expected: 32,
        actual,
    })
}

fn non_empty(path: &Path, field: &str, value: &str) -> Result<(), KeysError> {
    if value.trim().is_empty() {
        return Err(KeysError::Empty {
            path: path.to_owned(),
            field: field.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("yk-keys-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    fn b64(byte: u8, len: usize) -> String {
        STANDARD.encode(vec![byte; len])
    }

    fn keys_text(code_keys: &str, providers: &str) -> String {
        format!(
            "master_key = \"{}\"\nlookup_key = \"{}\"\nsession_key = \"{}\"\nchain_key = \"{}\"\n{code_keys}{providers}",
            b64(1, 32),
            b64(2, 32),
            b64(3, 32),
            b64(4, 32)
        )
    }

    fn code_key(kid: &str, byte: u8, status: &str) -> String {
        format!(
            "[[code_keys]]\nkid = \"{kid}\"\nseed = \"{}\"\nstatus = \"{status}\"\n",
            b64(byte, 32)
        )
    }

    fn provider(kid: &str, byte: u8) -> String {
        let public = SigningKey::from_bytes(&[byte; 32]).verifying_key();
        format!(
            "[[identity_providers]]\nkid = \"{kid}\"\nissuer = \"https://idp.example\"\n\
             public_key = \"{}\"\n",
            STANDARD.encode(public.to_bytes())
        )
    }

    fn load_text(text: &str) -> Result<Keys, KeysError> {
        let dir = temp_dir();
        let path = dir.join("keys.toml");
        std::fs::write(&path, text).expect("write");
        let loaded = Keys::load(&path);
        let _ = std::fs::remove_dir_all(dir);
        loaded
    }

    #[test]
    fn a_keys_file_round_trips() {
        let text = keys_text(
            &(code_key("c2", 5, "active") + &code_key("c1", 4, "retired")),
            &provider("idp1", 7),
        );
        let keys = load_text(&text).expect("load");
        assert_eq!(keys.master_key, [1; 32]);
        assert_eq!(keys.lookup_key, [2; 32]);
        assert_eq!(keys.session_key, [3; 32]);
        assert_eq!(keys.code_keys.active_kid(), "c2");
        assert_eq!(keys.code_keys.retired_kids().collect::<Vec<_>>(), ["c1"]);
        let old =
            CodeKeyring::new("c1", SigningKey::from_bytes(&[4; 32]), Vec::new()).expect("old ring");
        let person = uuid::Uuid::new_v4();
        assert_eq!(
            keys.code_keys
                .verify(&old.sign(person, 0))
                .map(|c| c.person),
            Ok(person)
        );
        assert_eq!(keys.providers.len(), 1);
        assert_eq!(keys.providers[0].kid, "idp1");
        assert_eq!(keys.providers[0].issuer, "https://idp.example");
        let debug = format!("{keys:?}");
        assert!(debug.contains("[redacted]"));
        assert!(!debug.contains(&b64(1, 32)));
    }

    #[test]
    fn a_missing_file_says_how_to_make_one() {
        let error = Keys::load(Path::new("/nonexistent/keys.toml")).expect_err("missing");
        assert!(matches!(error, KeysError::Missing { .. }));
        assert!(error.to_string().contains("see docs/keys.md"));
        assert!(error.to_string().contains("--dev"));
    }

    #[test]
    fn bad_files_are_refused_naming_the_rule() {
        let one = code_key("c1", 4, "active");
        let bad_base64 = keys_text(&one, "").replace(&b64(2, 32), "not base64!");
        assert!(matches!(
            load_text(&bad_base64),
            Err(KeysError::BadBase64 { field, .. }) if field == "lookup_key"
        ));
        let short = keys_text(&one, "").replace(&b64(3, 32), &b64(3, 16));
        assert!(matches!(
            load_text(&short),
            Err(KeysError::WrongLength { actual: 16, .. })
        ));
        assert!(matches!(
            load_text(&keys_text(&code_key("c1", 4, "retired"), "")),
            Err(KeysError::ActiveCodeKeys { count: 0, .. })
        ));
        let two_active = code_key("c1", 4, "active") + &code_key("c2", 5, "active");
        let error = load_text(&keys_text(&two_active, "")).expect_err("two active");
        assert!(matches!(error, KeysError::ActiveCodeKeys { count: 2, .. }));
        assert!(error.to_string().contains("exactly one code key"));
        let duplicate = code_key("c1", 4, "active") + &code_key("c1", 5, "retired");
        assert!(matches!(
            load_text(&keys_text(&duplicate, "")),
            Err(KeysError::DuplicateKid {
                kind: "code key",
                ..
            })
        ));
        let providers = provider("p", 7) + &provider("p", 8);
        assert!(matches!(
            load_text(&keys_text(&one, &providers)),
            Err(KeysError::DuplicateKid {
                kind: "identity provider",
                ..
            })
        ));
        assert!(matches!(
            load_text(&keys_text(&code_key("c.1", 4, "active"), "")),
            Err(KeysError::Keyring { .. })
        ));
        let unknown_status = keys_text(&code_key("c1", 4, "withdrawn"), "");
        let error = load_text(&unknown_status).expect_err("status");
        assert!(matches!(error, KeysError::Parse { .. }));
        // The parser's message never quotes a secret.
        assert!(!error.to_string().contains(&b64(4, 32)));
    }

    #[test]
    fn dev_mode_creates_the_files_once_and_trusts_the_dev_provider() {
        let dir = temp_dir().join("data");
        assert!(matches!(
            DevProvider::load(&dir),
            Err(KeysError::DevProviderMissing { .. })
        ));
        let (first, dev) = Keys::load_or_create_dev(&dir).expect("create");
        assert_eq!(first.code_keys.active_kid(), "c1");
        assert_eq!(dev.kid, DEV_PROVIDER_KID);
        assert_eq!(dev.issuer, DEV_PROVIDER_ISSUER);
        assert_eq!(first.providers, vec![dev.provider_key()]);
        let (second, dev_again) = Keys::load_or_create_dev(&dir).expect("load");
        assert_eq!(second.master_key, first.master_key);
        assert_eq!(second.lookup_key, first.lookup_key);
        assert_eq!(second.session_key, first.session_key);
        let person = uuid::Uuid::new_v4();
        assert_eq!(
            second.code_keys.sign(person, 0),
            first.code_keys.sign(person, 0)
        );
        assert_eq!(dev_again.signing_key.to_bytes(), dev.signing_key.to_bytes());
        assert_eq!(
            DevProvider::load(&dir)
                .expect("dev provider")
                .provider_key(),
            dev.provider_key()
        );
        // Without dev mode the development provider is not trusted.
        let plain = Keys::load(&dir.join(DEV_KEYS_FILE)).expect("plain");
        assert!(plain.providers.is_empty());
        #[cfg(unix)]
        for file in [DEV_KEYS_FILE, DEV_PROVIDER_FILE] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(file))
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        assert!(!format!("{dev:?}").contains(&STANDARD.encode(dev.signing_key.to_bytes())));
        let _ = std::fs::remove_dir_all(dir.parent().expect("parent"));
    }

    #[test]
    fn document_digests_are_keyed_hex_and_stable() {
        let (keys, _) = Keys::generate_for_tests();
        let digest = keys.document_digest("resident_id", "11010519491231002X");
        assert_eq!(digest.len(), 64);
        assert!(digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(
            digest,
            keys.document_digest("resident_id", "11010519491231002X")
        );
        assert_ne!(
            digest,
            keys.document_digest("passport", "11010519491231002X")
        );
        let (other, _) = Keys::generate_for_tests();
        assert_ne!(
            digest,
            other.document_digest("resident_id", "11010519491231002X")
        );
        // HMAC-SHA256 with a known key (RFC 4231 style check of the construction).
        let mut fixed = other;
        fixed.lookup_key = [0x0b; 32];
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&[0x0b; 32]) else {
            unreachable!()
        };
        mac.update(b"k:n");
        assert_eq!(
            fixed.document_digest("k", "n"),
            hex::encode(mac.finalize().into_bytes())
        );
    }
}
