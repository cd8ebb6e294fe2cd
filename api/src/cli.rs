//! The `yuekang` command line: parse, run one subcommand, map the outcome to an exit code
//! (0 success, 1 runtime failure, 2 usage error), errors on stderr in one sentence.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use commands::CommandBus;
use event_store::{ChainKey, EventStore, StoreOptions, SystemClock};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use projections::Runner;

use services::{citizens, feed, ServiceError, Services};

use crate::config::{
    AdminCommand, AuditCommand, Cli, Command, DevCommand, ExportCommand, FeedCommand, GlobalArgs,
    LogFormat, ProjectionsCommand, RetentionCommand, ServiceAccountCommand, Settings,
};
use crypto::assertion::{self, IdentityClaims};
use crypto::keys::DevProvider;
use crypto::keys::Keys;
use services::audit::export;
use services::feed::import as feed_import;
use services::service_accounts;

use crate::server::Application;
use crate::state::connect;
use crate::telemetry;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("yuekang: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("yuekang: {}", sentence(&e));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes as one sentence: "connecting to …: connection refused".
fn sentence(error: &anyhow::Error) -> String {
    error
        .chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { listen, dev } => {
            let settings = Settings::resolve(&cli.global, listen, dev)?;
            telemetry::init(settings.log_format);
            serve(settings).await
        }
        Command::Migrate => {
            let settings = quiet_settings(&cli.global)?;
            connect(&settings).await?.close().await;
            println!(
                "migrations applied to {}",
                event_store::redact_url(&settings.database_url)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => audit_verify(&quiet_settings(&cli.global)?).await,
        Command::Projections { command } => {
            projections_command(&quiet_settings(&cli.global)?, command).await
        }
        Command::Export {
            command: ExportCommand::Events { after },
        } => export_events(&quiet_settings(&cli.global)?, after).await,
        Command::ServiceAccount {
            command: ServiceAccountCommand::Create { role, name },
        } => create_service_account(&quiet_settings(&cli.global)?, &role, &name).await,
        Command::ServiceAccount {
            command: ServiceAccountCommand::Revoke { id },
        } => revoke_service_account(&quiet_settings(&cli.global)?, &id).await,
        Command::Admin {
            command:
                AdminCommand::Bootstrap {
                    doc_type,
                    doc_number,
                    name,
                },
        } => admin_bootstrap(&quiet_settings(&cli.global)?, &doc_type, &doc_number, &name).await,
        Command::Feed {
            command: FeedCommand::Import { file, batch },
        } => feed_import(&quiet_settings(&cli.global)?, &file, batch).await,
        Command::Retention {
            command: RetentionCommand::Run,
        } => retention_run(&quiet_settings(&cli.global)?).await,
        Command::Dev {
            command:
                DevCommand::Assert {
                    doc_type,
                    doc_number,
                    name,
                    phone,
                    method,
                    for_guardian,
                    subject,
                },
        } => {
            let settings = Settings::resolve(&cli.global, None, false)?;
            let provider = DevProvider::load(&settings.data_dir)?;
            let iat = time::OffsetDateTime::now_utc().unix_timestamp();
            let sub = subject.unwrap_or_else(|| assertion::dev_subject(&doc_type, &doc_number));
            let claims = IdentityClaims {
                iss: provider.issuer.clone(),
                jti: uuid::Uuid::new_v4().to_string(),
                iat,
                exp: iat + assertion::DEFAULT_LIFETIME_SECS,
                doc_type,
                doc_number,
                name,
                phone,
                method,
                aud: for_guardian.map(|g| format!("family:{g}")),
                sub: Some(sub),
            };
            println!("{}", assertion::mint(&provider, &claims));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Settings for the one-shot commands: logs only warnings, so stdout stays clean.
fn quiet_settings(global: &GlobalArgs) -> anyhow::Result<Settings> {
    let settings = Settings::resolve(global, None, false)?;
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "warn");
    }
    telemetry::init(global.log_format.unwrap_or(LogFormat::Pretty));
    Ok(settings)
}

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let dev = settings.dev;
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let state = app.state();
    if dev {
        tracing::warn!(
            "DEVELOPMENT MODE (--dev): development keys in the data directory and the \
             development identity provider are trusted; anyone can mint a sign-in. Never \
             serve real people this way"
        );
    }
    tracing::info!(
        listen = %state.settings.listen,
        port = app.port(),
        database = %event_store::redact_url(&state.settings.database_url),
        backend = state.services.db.backend().name(),
        dev,
        "yuekang is serving; docs at /docs"
    );
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

/// The store, its hash chain keyed with the keys file's `chain_key` (appends extend the chain
/// and `audit verify` checks it, so every command needs the server's key).
async fn open_store(settings: &Settings) -> anyhow::Result<EventStore> {
    let keys = Keys::load(&settings.keys_file)?;
    let db = connect(settings).await?;
    let options = StoreOptions {
        chain_key: ChainKey::new(keys.chain_key),
        ..StoreOptions::default()
    };
    EventStore::open(db, options)
        .await
        .context("opening the event store")
}

async fn audit_verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    // Projection checkpoints witness how far the log once reached.
    let runner = Runner::new(store.clone(), projections::registry())
        .await
        .context("reading projection checkpoints")?;
    let anchor = services::analysis::applied_position(&runner)
        .await
        .map_err(refusal)
        .context("reading projection checkpoints")?;
    let report = services::audit::verify(&store, anchor)
        .await
        .map_err(refusal)
        .context("walking the hash chain")?;
    store.shutdown().await;
    match report.first_bad_position {
        None => {
            println!("hash chain intact: {} events checked", report.checked);
            Ok(ExitCode::SUCCESS)
        }
        Some(position) => {
            eprintln!(
                "yuekang: hash chain broken at position {position} ({}); {} events checked",
                report.problem.as_deref().unwrap_or("mismatch"),
                report.checked
            );
            Ok(ExitCode::from(1))
        }
    }
}

async fn projections_command(
    settings: &Settings,
    command: ProjectionsCommand,
) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let runner = Runner::new(store.clone(), projections::registry())
        .await
        .context("installing the projections")?;
    match command {
        ProjectionsCommand::List => {
            let statuses = runner.status().await.context("reading projection status")?;
            println!(
                "{:<24} {:>12} {:>10} {:>10}  status",
                "projection", "position", "lag", "generation"
            );
            for s in statuses {
                println!(
                    "{:<24} {:>12} {:>10} {:>10}  {}",
                    s.name, s.position, s.lag, s.generation, s.status
                );
            }
        }
        ProjectionsCommand::Rebuild { name } => {
            let names: Vec<String> = match name {
                Some(name) => {
                    if !runner.names().contains(&name.as_str()) {
                        anyhow::bail!(
                            "no projection is named {name:?} (known: {})",
                            runner.names().join(", ")
                        );
                    }
                    vec![name]
                }
                None => runner.names().into_iter().map(str::to_owned).collect(),
            };
            for name in names {
                let bar = ProgressBar::new(0).with_style(
                    ProgressStyle::with_template(
                        "{msg:<20} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_message(name.clone());
                let position = runner
                    .rebuild(&name, |p| {
                        bar.set_length(p.target);
                        bar.set_position(p.position);
                    })
                    .await
                    .with_context(|| format!("rebuilding {name}"))?;
                bar.finish();
                println!("{name}: rebuilt and swapped in at position {position}");
            }
        }
    }
    store.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn export_events(settings: &Settings, after: u64) -> anyhow::Result<ExitCode> {
    let key = export::pseudonym_key(&settings.data_dir)?;
    let store = open_store(settings).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut events = std::pin::pin!(store.read_all_stream(after, 5_000));
    while let Some(event) = events.next().await {
        let event = event.context("reading the log")?;
        out.write_all(export::line(&key, &event)?.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    store.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// A use case's refusal as one sentence for the terminal.
fn refusal(error: ServiceError) -> anyhow::Error {
    match error {
        ServiceError::Internal(cause) => cause,
        ServiceError::Invalid { errors, .. } => anyhow::anyhow!(errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.detail))
            .collect::<Vec<_>>()
            .join("; ")),
        other => anyhow::anyhow!(other.to_string()),
    }
}

/// The use cases over an opened store, with the keys of the keys file.
fn services_over(store: &EventStore, keys: Keys) -> Services {
    Services::new(
        CommandBus::new(store.clone()),
        store.database().clone(),
        Arc::new(keys),
    )
}

async fn retention_run(settings: &Settings) -> anyhow::Result<ExitCode> {
    let keys = Keys::load(&settings.keys_file)?;
    let store = open_store(settings).await?;
    let services = services_over(&store, keys).with_retention_days(settings.retention_days);
    let result = services::links::run_retention(&services).await;
    store.shutdown().await;
    let run = result.map_err(refusal)?;
    for day in &run.shredded {
        println!("shredded the links of {day}");
    }
    if let Some(kept) = run.kept_from {
        println!(
            "{} day(s) shredded; links are kept from {kept} ({} days)",
            run.shredded.len(),
            settings.retention_days
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn admin_bootstrap(
    settings: &Settings,
    doc_type: &str,
    doc_number: &str,
    name: &str,
) -> anyhow::Result<ExitCode> {
    let keys = Keys::load(&settings.keys_file)?;
    let store = open_store(settings).await?;
    let services = services_over(&store, keys);
    let result = citizens::bootstrap_province_admin(&services, doc_type, doc_number, name).await;
    store.shutdown().await;
    let position = result.map_err(refusal)?;
    println!("province admin appointed (log position {position})");
    Ok(ExitCode::SUCCESS)
}

async fn feed_import(settings: &Settings, file: &Path, batch: usize) -> anyhow::Result<ExitCode> {
    if batch == 0 || batch > feed::MAX_BATCH {
        anyhow::bail!("--batch is 1 to {}", feed::MAX_BATCH);
    }
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let csv = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let lines = feed_import::parse(&text, csv);
    let keys = Keys::load(&settings.keys_file)?;
    let store = open_store(settings).await?;
    let services = services_over(&store, keys);
    let bar = ProgressBar::new(lines.len() as u64).with_style(
        ProgressStyle::with_template(
            "feed import [{bar:40}] {pos}/{len} records ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut total = feed::BatchOutcome::default();
    let mut failure = None;
    for chunk in lines.chunks(batch) {
        let mut records = Vec::with_capacity(chunk.len());
        for line in chunk {
            match line {
                Ok(record) => records.push(record.clone()),
                Err(refused) => total.refused.push(refused.clone()),
            }
        }
        let ctx = commands::CommandContext::new("operator:feed-import");
        match feed::apply_batch(&services, &ctx, &records).await {
            Ok(outcome) => {
                let outcome = outcome.into_response();
                total.accepted.extend(outcome.accepted);
                total.duplicates.extend(outcome.duplicates);
                total.refused.extend(outcome.refused);
            }
            Err(e) => {
                failure = Some(refusal(e));
                break;
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    store.shutdown().await;
    for r in &total.refused {
        eprintln!("refused {}: {} ({})", r.record_id, r.detail, r.code);
    }
    println!(
        "accepted {}, duplicates {}, refused {}",
        total.accepted.len(),
        total.duplicates.len(),
        total.refused.len()
    );
    match failure {
        Some(e) => Err(e.context("the import stopped; the batches before it were applied")),
        None => Ok(ExitCode::SUCCESS),
    }
}

async fn revoke_service_account(settings: &Settings, id: &str) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let revoked = service_accounts::revoke(&CommandBus::new(store.clone()), "operator", id).await;
    store.shutdown().await;
    let position = revoked.map_err(refusal)?;
    eprintln!("revoked service account {id} (event at position {position}); its token is refused from now on");
    Ok(ExitCode::SUCCESS)
}

async fn create_service_account(
    settings: &Settings,
    role: &str,
    name: &str,
) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let created = service_accounts::create(&CommandBus::new(store.clone()), role, name).await;
    store.shutdown().await;
    let created = created.map_err(refusal)?;
    println!("{}", created.token);
    eprintln!(
        "created {role} service account {} (the token is shown only this once)",
        created.account_id
    );
    Ok(ExitCode::SUCCESS)
}
