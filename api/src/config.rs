//! Typed configuration, read once: command-line flags, then `YUEKANG_*` environment
//! variables, then a TOML config file, then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "yuekang",
    version,
    about = "Yuekang health-code platform: server and operator tool"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Directory holding the embedded SQLite database and development keys.
    #[arg(long, env = "YUEKANG_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… (default: the SQLite file in the data dir).
    #[arg(long, env = "YUEKANG_DB", global = true)]
    pub db: Option<String>,
    /// PostgreSQL only: the URL of the role owning the schema. When set, migrations run as
    /// that role, which then grants the `--db` role the least it needs (SELECT and INSERT on
    /// the log, nothing that changes or removes a row of it); see docs/postgres.md.
    #[arg(long, env = "YUEKANG_DB_OWNER", global = true)]
    pub db_owner: Option<String>,
    /// `serve`: a second address serving `/metrics` alone, without a token (for a scraper on
    /// a private network). On the main address `/metrics` needs an auditor or analyst token.
    #[arg(long, env = "YUEKANG_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,
    /// TOML config file (default: DATA_DIR/yuekang.toml when it exists).
    #[arg(long, env = "YUEKANG_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Log format: `pretty` or `json` (default: pretty with --dev, json otherwise).
    #[arg(long, env = "YUEKANG_LOG_FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (migrations run on start).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "YUEKANG_LISTEN")]
        listen: Option<SocketAddr>,
        /// Development mode: readable logs, development keys created in the data directory,
        /// the development identity provider trusted. Only this flag enables it (no
        /// environment variable, no config file), and the server announces it on every start
        /// and in `/readyz`.
        #[arg(long)]
        dev: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Audit the event log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Inspect and rebuild projections.
    Projections {
        #[command(subcommand)]
        command: ProjectionsCommand,
    },
    /// Export data.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Manage service accounts (feed, auditor, analyst).
    ServiceAccount {
        #[command(subcommand)]
        command: ServiceAccountCommand,
    },
    /// Operator actions recorded as events.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The red-code feed.
    Feed {
        #[command(subcommand)]
        command: FeedCommand,
    },
    /// Development helpers (use the development identity provider made by `serve --dev`).
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
    /// Retention of the links from check-ins, scans, checks and grid visits to people.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Shred the link keys of the days past the retention period now (the server does this
    /// every ten minutes); prints the days shredded.
    Run,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Appoint the province admin (region 44), recorded as an event by the operator.
    Bootstrap {
        /// Document type: resident_id, hk_macao_permit or passport.
        #[arg(long)]
        doc_type: String,
        /// Document number.
        #[arg(long)]
        doc_number: String,
        /// The admin's name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Apply feed records from an NDJSON or CSV file; prints accepted, duplicate and
    /// refused counts (refusals listed on stderr).
    Import {
        /// The file (`.csv` is read as CSV, anything else as NDJSON unless it starts with
        /// the CSV header).
        file: PathBuf,
        /// Records per batch.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Mint an identity assertion from the development provider; prints it on stdout alone.
    /// The document is not checked here: the server checks it when the assertion is used.
    Assert {
        /// Document type, e.g. resident_id.
        #[arg(long)]
        doc_type: String,
        /// Document number.
        #[arg(long)]
        doc_number: String,
        /// The person's name.
        #[arg(long)]
        name: String,
        /// The person's mobile phone number.
        #[arg(long)]
        phone: Option<String>,
        /// How the provider verified the person.
        #[arg(
            long,
            default_value = "face",
            value_parser = ["face", "payment_password", "household", "birth_certificate"]
        )]
        method: String,
        /// Make the assertion for adding this person to the family of the guardian with
        /// this person id (`aud = family:<id>`); without it, the assertion logs in.
        #[arg(long)]
        for_guardian: Option<uuid::Uuid>,
        /// The provider's stable key for the person (`sub`): assert two documents with the
        /// same subject and they are one person. Without it, one is derived from the document.
        #[arg(long)]
        subject: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServiceAccountCommand {
    /// Create an account; prints its bearer token, on stdout alone, once.
    Create {
        /// What the account may do.
        #[arg(long, value_parser = ["feed", "auditor", "analyst"])]
        role: String,
        /// A name for the system using it (not a person's name).
        #[arg(long)]
        name: String,
    },
    /// Revoke an account by its id; its token is refused from then on.
    Revoke {
        /// The account's id (as `create` printed it).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; exit 0 when intact, 1 naming the first bad position otherwise.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Position, lag and status of every projection.
    List,
    /// Rebuild one projection (or all) beside the serving one, then swap it in.
    Rebuild {
        /// The projection to rebuild; all when omitted.
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Pseudonymised events as NDJSON on stdout.
    Events {
        /// Only events after this position.
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
}

/// The config file's keys; every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    db: Option<String>,
    db_owner: Option<String>,
    listen: Option<SocketAddr>,
    metrics_listen: Option<SocketAddr>,
    dev: Option<bool>,
    log_format: Option<LogFormat>,
    readiness_max_lag: Option<u64>,
    keys_file: Option<PathBuf>,
    /// Minutes a health-code token stays fresh (reason labels, checks, declaration views).
    code_fresh_minutes: Option<u32>,
    /// Hours the answers under idempotency keys are remembered.
    idempotency_ttl_hours: Option<u32>,
    /// Figures for regions, grids and analysts show 1 to k-1 people as `<k`.
    k_anonymity: Option<u32>,
    /// Days the links from check-ins, scans, checks and grid visits to people are kept.
    retention_days: Option<u32>,
    /// `[limits]`: rate limits, each `{ burst, per_minute }` (defaults in services::limits).
    limits: Option<services::limits::Limits>,
}

/// Everything the server and the CLI need, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The schema owner's URL (PostgreSQL): migrations and grants run as it; the server then
    /// connects as `database_url`'s least-privileged role.
    pub database_owner_url: Option<String>,
    pub listen: SocketAddr,
    /// Where `/metrics` is served alone without a token, when set.
    pub metrics_listen: Option<SocketAddr>,
    pub dev: bool,
    pub log_format: LogFormat,
    /// `/readyz` answers 503 while any projection lags the log by more events than this.
    pub readiness_max_lag: u64,
    /// How long a query with `min_position` waits for the projections before answering 503.
    pub min_position_wait: std::time::Duration,
    /// The keys file (secrets, code-signing keys, trusted identity providers; see
    /// docs/keys.md). Default `DATA_DIR/keys.toml`; `--dev` creates it when missing.
    pub keys_file: PathBuf,
    /// Rate limits (`[limits]` in the config file).
    pub limits: services::limits::Limits,
    /// How long after issue a health-code token is fresh (`code_fresh_minutes`, default 5).
    pub code_freshness: time::Duration,
    /// How long the answers under idempotency keys are remembered (`idempotency_ttl_hours`,
    /// default 24): a retry after that is a new command.
    pub idempotency_ttl: time::Duration,
    /// Figures for regions, grids and analysts show 1 to k-1 people as `<k` (`k_anonymity`,
    /// default 5).
    pub k_anonymity: i64,
    /// Days after its day a check-in, scan, check or grid visit still names its person
    /// (`retention_days`, default 28, at least 1).
    pub retention_days: u32,
    /// Binding-code serials per kind: [`services::codes::CODES_PER_KIND`]; smaller only in
    /// tests and capacity drills (not read from the config file).
    pub code_space: u32,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error(
        "config file {path} sets `dev`: development mode (which trusts the development identity \
         provider) is enabled only by the `--dev` flag of `serve`; remove the line"
    )]
    DevInFile { path: PathBuf },
}

impl Settings {
    pub const DEFAULT_DATA_DIR: &'static str = "./yuekang-data";
    pub const DEFAULT_LISTEN: &'static str = "127.0.0.1:8080";

    /// Resolves flags (and environment, which clap has already merged) over the config file
    /// over defaults. `listen` and `dev` come from `serve`'s flags.
    pub fn resolve(
        global: &GlobalArgs,
        listen: Option<SocketAddr>,
        dev: bool,
    ) -> Result<Self, ConfigError> {
        let file = match &global.config {
            Some(path) => read_file(path)?,
            None => {
                let dir = global
                    .data_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(Self::DEFAULT_DATA_DIR));
                let default = dir.join("yuekang.toml");
                if default.exists() {
                    read_file(&default)?
                } else {
                    FileConfig::default()
                }
            }
        };
        let data_dir = global
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(Self::DEFAULT_DATA_DIR));
        let database_url = global
            .db
            .clone()
            .or(file.db)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("yuekang.db").display()));
        if file.dev.is_some() {
            return Err(ConfigError::DevInFile {
                path: global.config.clone().unwrap_or_else(|| {
                    global
                        .data_dir
                        .clone()
                        .unwrap_or_else(|| PathBuf::from(Self::DEFAULT_DATA_DIR))
                        .join("yuekang.toml")
                }),
            });
        }
        let listen = listen.or(file.listen).unwrap_or_else(|| {
            Self::DEFAULT_LISTEN
                .parse()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)))
        });
        let log_format = global.log_format.or(file.log_format).unwrap_or(if dev {
            LogFormat::Pretty
        } else {
            LogFormat::Json
        });
        Ok(Self {
            database_url,
            listen,
            dev,
            log_format,
            readiness_max_lag: file.readiness_max_lag.unwrap_or(10_000),
            min_position_wait: std::time::Duration::from_secs(5),
            keys_file: file
                .keys_file
                .unwrap_or_else(|| data_dir.join(crypto::keys::DEV_KEYS_FILE)),
            limits: file.limits.unwrap_or_default(),
            code_space: services::codes::CODES_PER_KIND,
            code_freshness: file
                .code_fresh_minutes
                .map_or(services::DEFAULT_CODE_FRESH_FOR, |m| {
                    time::Duration::minutes(i64::from(m.clamp(1, 60)))
                }),
            idempotency_ttl: file
                .idempotency_ttl_hours
                .map_or(services::answers::DEFAULT_TTL, |h| {
                    time::Duration::hours(i64::from(h.max(1)))
                }),
            k_anonymity: file
                .k_anonymity
                .map_or(services::figures::DEFAULT_K, i64::from),
            retention_days: file
                .retention_days
                .map_or(services::links::DEFAULT_RETENTION_DAYS, |d| d.max(1)),
            database_owner_url: global.db_owner.clone().or(file.db_owner),
            metrics_listen: global.metrics_listen.or(file.metrics_listen),
            data_dir,
        })
    }

    /// Settings for tests and embedding: a database URL, everything else default.
    pub fn for_database(database_url: impl Into<String>, data_dir: impl AsRef<Path>) -> Self {
        Self {
            data_dir: data_dir.as_ref().to_owned(),
            database_url: database_url.into(),
            database_owner_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics_listen: None,
            dev: true,
            log_format: LogFormat::Pretty,
            readiness_max_lag: 10_000,
            min_position_wait: std::time::Duration::from_secs(5),
            keys_file: data_dir.as_ref().join(crypto::keys::DEV_KEYS_FILE),
            limits: services::limits::Limits::default(),
            code_space: services::codes::CODES_PER_KIND,
            code_freshness: services::DEFAULT_CODE_FRESH_FOR,
            idempotency_ttl: services::answers::DEFAULT_TTL,
            k_anonymity: services::figures::DEFAULT_K,
            retention_days: services::links::DEFAULT_RETENTION_DAYS,
        }
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(data_dir: Option<&Path>, config: Option<&Path>) -> GlobalArgs {
        GlobalArgs {
            data_dir: data_dir.map(Path::to_owned),
            db: None,
            db_owner: None,
            metrics_listen: None,
            config: config.map(Path::to_owned),
            log_format: None,
        }
    }

    #[test]
    fn defaults_put_sqlite_in_the_data_dir() {
        let s = Settings::resolve(
            &global(Some(Path::new("/nonexistent/d")), None),
            None,
            false,
        )
        .expect("resolve");
        assert_eq!(s.database_url, "sqlite:///nonexistent/d/yuekang.db");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.log_format, LogFormat::Json);
        assert!(!s.dev);
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = std::env::temp_dir().join(format!("yk-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(
            dir.join("yuekang.toml"),
            "listen = \"0.0.0.0:9000\"\ndb = \"postgres://file/db\"\n",
        )
        .expect("write");
        let from_file = Settings::resolve(&global(Some(&dir), None), None, false).expect("resolve");
        assert_eq!(from_file.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(from_file.database_url, "postgres://file/db");
        assert!(!from_file.dev);
        assert_eq!(from_file.log_format, LogFormat::Json);
        let dev = Settings::resolve(&global(Some(&dir), None), None, true).expect("resolve");
        assert!(dev.dev, "the --dev flag");
        assert_eq!(dev.log_format, LogFormat::Pretty);
        let mut flags = global(Some(&dir), None);
        flags.db = Some("sqlite://flag.db".into());
        let flagged = Settings::resolve(&flags, Some("127.0.0.1:1".parse().expect("addr")), false)
            .expect("resolve");
        assert_eq!(flagged.database_url, "sqlite://flag.db");
        assert_eq!(flagged.listen.to_string(), "127.0.0.1:1");
        std::fs::write(dir.join("yuekang.toml"), "dev = true\n").expect("write");
        let refused =
            Settings::resolve(&global(Some(&dir), None), None, false).expect_err("dev in the file");
        assert!(matches!(refused, ConfigError::DevInFile { .. }));
        assert!(refused.to_string().contains("--dev"), "{refused}");
        std::fs::write(dir.join("yuekang.toml"), "lissen = 1\n").expect("write");
        assert!(matches!(
            Settings::resolve(&global(Some(&dir), None), None, false),
            Err(ConfigError::Parse { .. })
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
