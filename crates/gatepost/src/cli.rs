//! The command line of SPEC §1.

use crate::config::{Config, ConfigError, Layers, LogFormat};
use crate::merchants::{MerchantSummary, create_merchant};
use crate::{Server, open_store};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// gatepost: a self-hosted payment gateway with a hosted payment page, signed return
/// redirects and durable, signed webhooks.
#[derive(Debug, Parser)]
#[command(name = "gatepost", version, about, propagate_version = true)]
pub struct Cli {
    /// TOML configuration file; GATEPOST_* variables and flags override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API, the hosted payment page and the webhook worker.
    Serve(ServeArgs),
    /// Create and list merchants (works while `serve` runs).
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// sqlite://PATH or postgres://… [env: GATEPOST_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    database: Option<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to bind [env: GATEPOST_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Base URL of checkout links [env: GATEPOST_PUBLIC_URL] [default: http://<listen>]
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// sandbox or live [env: GATEPOST_MODE] [default: sandbox]
    #[arg(long)]
    mode: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
enum MerchantCommand {
    /// Create a merchant and print its API key and webhook secret, once.
    Create {
        /// The name shoppers see on the payment page.
        #[arg(long)]
        name: String,
        /// Where this merchant's webhooks go unless a payment names another URL.
        #[arg(long, value_name = "URL")]
        webhook_url: Option<String>,
        /// sandbox (default) or simulator.
        #[arg(long, default_value = "sandbox")]
        connector: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List merchants (without secrets).
    List {
        /// Print a JSON array instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Exit code for a bad configuration value or argument.
const EXIT_CONFIG: u8 = 2;

/// Parses the process's arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("gatepost: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    init_logging(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(run(cli.command, config))
}

fn load_config(cli: &Cli) -> Result<Config, ConfigError> {
    let mut layers = Layers::load(cli.config.as_deref(), std::env::vars())?;
    let database = match &cli.command {
        Command::Serve(args) => {
            for (key, flag, value) in [
                ("listen", "--listen", &args.listen),
                ("public_url", "--public-url", &args.public_url),
                ("mode", "--mode", &args.mode),
            ] {
                if let Some(value) = value {
                    layers = layers.with_flag(key, flag, value);
                }
            }
            &args.database
        }
        Command::Merchant(MerchantCommand::Create { database, .. } | MerchantCommand::List { database, .. })
        | Command::Migrate(database) => database,
    };
    if let Some(url) = &database.database {
        layers = layers.with_flag("database_url", "--database", url);
    }
    Config::load(&layers)
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::new(&config.log);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn run(command: Command, config: Config) -> ExitCode {
    let result = match command {
        Command::Serve(_) => serve(&config).await,
        Command::Migrate(_) => migrate(&config).await,
        Command::Merchant(command) => merchant(command, &config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gatepost: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: &Config) -> Result<(), String> {
    let server = Server::start(config).await.map_err(|e| e.to_string())?;
    let mode = format!("{:?}", config.mode).to_lowercase();
    println!(
        "gatepost {} listening on http://{} ({mode} mode, {})",
        env!("CARGO_PKG_VERSION"),
        server.addr,
        redact(&config.database_url)
    );
    println!("Checkout links start with {}/pay/", server.public_url);
    println!("Create a merchant and its API key (in another terminal):");
    println!("  cargo run --release -- merchant create --name \"My Shop\"");
    server.run_until_signal().await.map_err(|e| e.to_string())
}

/// A database URL without its password, for printing.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

async fn migrate(config: &Config) -> Result<(), String> {
    open_store(config).await.map_err(|e| e.to_string())?;
    println!("migrations applied to {}", redact(&config.database_url));
    Ok(())
}

async fn merchant(command: MerchantCommand, config: &Config) -> Result<(), String> {
    let store = open_store(config).await.map_err(|e| e.to_string())?;
    match command {
        MerchantCommand::Create { name, webhook_url, connector, json, .. } => {
            let created = create_merchant(store.as_ref(), config.mode, &name, webhook_url.as_deref(), &connector)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                println!("{}", serde_json::to_string(&created).expect("strings serialize"));
            } else {
                println!("Created merchant {} ({})", created.id, created.name);
                println!("API key (shown once):        {}", created.api_key);
                println!("Webhook secret (shown once): {}", created.webhook_secret);
            }
        }
        MerchantCommand::List { json, .. } => {
            let merchants = store.list_merchants().await.map_err(|e| e.to_string())?;
            let summaries: Vec<MerchantSummary> = merchants.iter().map(MerchantSummary::from).collect();
            if json {
                println!("{}", serde_json::to_string(&summaries).expect("strings serialize"));
            } else if summaries.is_empty() {
                println!("No merchants yet. Create one with: gatepost merchant create --name \"My Shop\"");
            } else {
                for m in &summaries {
                    println!("{}  {}  {}  {}", m.id, m.created_at, m.connector, m.name);
                }
            }
        }
    }
    Ok(())
}
