//! The command line (docs/reference/configuration.md#commands).

use crate::config::{Config, ConfigError, Layers, LogFormat};
use crate::merchants::{MerchantSummary, create_merchant};
use crate::{Server, open_store};
use crate::{keys, users};
use clap::{Args, Parser, Subcommand};
use gatepost_acquirer_sim::SimOptions;
use gatepost_core::urls::Mode;
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
    #[command(flatten)]
    Gateway(GatewayCommand),
    // Not a gateway command (docs/reference/connectors.md#simulator): it reads none of the
    // gateway's configuration.
    /// Run a test acquirer for the `simulator` connector: it answers later, by signed
    /// callbacks, and misbehaves on request.
    AcquirerSim(AcquirerSimArgs),
}

/// The commands that run or manage the gateway, and so read its configuration.
#[derive(Debug, Subcommand)]
enum GatewayCommand {
    /// Run the API, the hosted payment page and the webhook worker.
    Serve(ServeArgs),
    /// Create and list merchants (works while `serve` runs).
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Create, list and revoke a merchant's API keys (works while `serve` runs).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Create and list the people who sign in to a merchant's dashboard.
    #[command(subcommand)]
    User(UserCommand),
    /// Print a one-time dashboard sign-in URL (one use, 15 minutes).
    DashboardLink {
        /// The merchant, mer_…
        #[arg(long, value_name = "ID")]
        merchant: String,
        /// The user it signs in; without it, the merchant's first admin (made if there is none).
        #[arg(long, value_name = "E")]
        email: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create a key and print it, once.
    Create {
        /// The merchant, mer_…
        #[arg(long, value_name = "ID")]
        merchant: String,
        /// What the key is for, shown in lists.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List a merchant's keys by their first characters, revoked ones too.
    List {
        #[arg(long, value_name = "ID")]
        merchant: String,
        /// Print a JSON array instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a key: the API refuses it within a second.
    Revoke {
        #[arg(long, value_name = "ID")]
        merchant: String,
        /// The key's id, key_…
        #[arg(long, value_name = "ID")]
        key: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from stdin; with --invite, a one-time sign-in
    /// link is printed instead.
    Create {
        /// The merchant, mer_…
        #[arg(long, value_name = "ID")]
        merchant: String,
        #[arg(long, value_name = "E")]
        email: String,
        /// admin (reads and acts) or viewer (reads)
        #[arg(long)]
        role: String,
        /// Print a one-time sign-in link instead of reading a password.
        #[arg(long)]
        invite: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List a merchant's users.
    List {
        #[arg(long, value_name = "ID")]
        merchant: String,
        /// Print a JSON array instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// The flags of `acquirer-sim`, exactly as docs/reference/connectors.md#simulator names them.
/// Values are taken as text and checked by [`sim_options`], so a bad one is a one-line error
/// like any configuration value.
#[derive(Debug, Args)]
struct AcquirerSimArgs {
    /// Address to bind
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9090")]
    listen: String,
    /// The gateway's base URL; callbacks go to URL/callbacks/simulator
    #[arg(long, value_name = "URL")]
    gateway_url: String,
    /// Shared secret: signs callbacks and verifies the gateway's requests
    #[arg(long, value_name = "S")]
    secret: String,
    /// How long pending payments and refunds take to settle, such as 500ms, 1s or 2m
    #[arg(long, value_name = "DUR", default_value = "1s")]
    callback_delay: String,
    /// Extra copies of each callback, with the same event id (one sent concurrently)
    #[arg(long, value_name = "N", default_value = "0")]
    duplicate_callbacks: String,
    /// After each result, also send a stale `pending` callback with a new event id
    #[arg(long)]
    reorder: bool,
    /// Probability (0 to 1) of never calling back about a result; the gateway must poll
    #[arg(long, value_name = "P", default_value = "0")]
    drop_callbacks: String,
    /// Probability (0 to 1) of answering a request 503, or holding it, before doing anything
    #[arg(long, value_name = "P", default_value = "0")]
    fail_requests: String,
    /// Seed of the random choices, to replay a run
    #[arg(long, value_name = "N")]
    seed: Option<String>,
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
    crate::install_crypto_provider();
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Gateway(command) => command,
        Command::AcquirerSim(args) => return acquirer_sim(&args),
    };
    let config = match load_config(cli.config.as_deref(), &command) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("gatepost: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    init_logging(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(run(command, config))
}

fn load_config(file: Option<&std::path::Path>, command: &GatewayCommand) -> Result<Config, ConfigError> {
    let mut layers = Layers::load(file, std::env::vars())?;
    let database = match command {
        GatewayCommand::Serve(args) => {
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
        GatewayCommand::Merchant(MerchantCommand::Create { database, .. } | MerchantCommand::List { database, .. })
        | GatewayCommand::User(UserCommand::Create { database, .. } | UserCommand::List { database, .. })
        | GatewayCommand::Key(
            KeyCommand::Create { database, .. }
            | KeyCommand::List { database, .. }
            | KeyCommand::Revoke { database, .. },
        )
        | GatewayCommand::DashboardLink { database, .. }
        | GatewayCommand::Migrate(database) => database,
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
    report_panics_without_their_message();
}

/// Replaces the default panic report, which prints the panic's message: a message may
/// quote what a request sent (a card field, a reference), and card data and secrets never
/// reach the logs. Where it happened is enough to find the bug; the request that hit it
/// is answered `500 internal` by the server.
fn report_panics_without_their_message() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(ToString::to_string).unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
        tracing::error!(%location, %thread, "panic (message withheld: it may quote request data)");
    }));
}

async fn run(command: GatewayCommand, config: Config) -> ExitCode {
    let result = match command {
        GatewayCommand::Serve(_) => serve(&config).await,
        GatewayCommand::Migrate(_) => migrate(&config).await,
        GatewayCommand::Merchant(command) => merchant(command, &config).await,
        GatewayCommand::User(command) => user(command, &config).await,
        GatewayCommand::Key(command) => key(command, &config).await,
        GatewayCommand::DashboardLink { merchant, email, .. } => {
            dashboard_link(&config, &merchant, email.as_deref()).await
        }
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
    if config.mode == Mode::Sandbox {
        print_sandbox_sign_in(config, &server.public_url).await;
    } else {
        println!(
            "Dashboard: {}/dashboard (users: gatepost user create --merchant mer_… --email E --role admin)",
            server.public_url
        );
    }
    server.run_until_signal().await.map_err(|e| e.to_string())
}

/// In sandbox mode, `serve` prints a one-time sign-in link to the dashboard of the first
/// merchant, or, while there is none, one that makes it: a developer is one click away from
/// the dashboard and an API key.
async fn print_sandbox_sign_in(config: &Config, public_url: &str) {
    let link = async {
        let store = open_store(config).await.map_err(|e| e.to_string())?;
        let Some(first) = store.list_merchants().await.map_err(|e| e.to_string())?.into_iter().next() else {
            let link = users::sandbox_setup_link(store.as_ref(), public_url).await.map_err(|e| e.to_string())?;
            return Ok((None, link));
        };
        let admin = users::first_admin(store.as_ref(), &first.id).await.map_err(|e| e.to_string())?;
        let link = users::sign_in_link(store.as_ref(), &admin, public_url).await.map_err(|e| e.to_string())?;
        Ok::<_, String>((Some(first.name), link))
    };
    match link.await {
        Ok((Some(name), link)) => println!("Dashboard of {name} (one-time sign-in link, 15 minutes): {link}"),
        Ok((None, link)) => println!(
            "Dashboard (one-time sign-in link, 15 minutes; it makes your first merchant and shows its API key): {link}"
        ),
        Err(error) => eprintln!("gatepost: no dashboard sign-in link: {error}"),
    }
}

/// The base of links the CLI prints: `public_url`, else the address `serve` listens on.
fn public_base(config: &Config) -> String {
    config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.listen))
}

async fn user(command: UserCommand, config: &Config) -> Result<(), String> {
    let store = open_store(config).await.map_err(|e| e.to_string())?;
    match command {
        UserCommand::Create { merchant, email, role, invite, .. } => {
            let password = if invite { None } else { Some(read_password()?) };
            let user = users::create_user(store.as_ref(), &merchant, &email, &role, password.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            println!("Created user {} ({}, {})", user.id, user.email.as_str(), role);
            if invite {
                let link = users::sign_in_link(store.as_ref(), &user, &public_base(config))
                    .await
                    .map_err(|e| e.to_string())?;
                println!("One-time sign-in link (15 minutes): {link}");
            }
        }
        UserCommand::List { merchant, json, .. } => {
            let users = users::list_users(store.as_ref(), &merchant).await.map_err(|e| e.to_string())?;
            if json {
                println!("{}", serde_json::to_string(&users).expect("strings serialize"));
            } else if users.is_empty() {
                println!(
                    "No users yet. Create one with: gatepost user create --merchant {merchant} --email E --role admin"
                );
            } else {
                for user in &users {
                    println!("{}  {}  {}  {}", user.id, user.created_at, user.role, user.email);
                }
            }
        }
    }
    Ok(())
}

async fn key(command: KeyCommand, config: &Config) -> Result<(), String> {
    let store = open_store(config).await.map_err(|e| e.to_string())?;
    match command {
        KeyCommand::Create { merchant, description, json, .. } => {
            let (record, key) = keys::create_key_for(store.as_ref(), config.mode, &merchant, description.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            if json {
                let mut summary = keys::KeySummary::from(&record);
                summary.api_key = Some(key.expose().to_owned());
                println!("{}", serde_json::to_string(&summary).expect("strings serialize"));
            } else {
                println!("Created key {}", record.id);
                println!("API key (shown once): {}", key.expose());
            }
        }
        KeyCommand::List { merchant, json, .. } => {
            let keys = keys::list_keys(store.as_ref(), &merchant).await.map_err(|e| e.to_string())?;
            if json {
                println!("{}", serde_json::to_string(&keys).expect("strings serialize"));
            } else {
                for key in &keys {
                    let state =
                        key.revoked_at.as_deref().map_or_else(|| "active".to_owned(), |at| format!("revoked {at}"));
                    let prefix = key.prefix.as_deref().map_or_else(|| "sk_…".to_owned(), |p| format!("{p}…"));
                    println!(
                        "{}  {prefix}  {}  {state}  {}",
                        key.id,
                        key.created_at,
                        key.description.as_deref().unwrap_or("")
                    );
                }
            }
        }
        KeyCommand::Revoke { merchant, key, .. } => {
            keys::revoke_key(store.as_ref(), &merchant, &key).await.map_err(|e| e.to_string())?;
            println!("Revoked key {key}");
        }
    }
    Ok(())
}

/// The new user's password: the first line of stdin (a prompt goes to stderr when stdin is
/// a terminal).
fn read_password() -> Result<String, String> {
    use std::io::{BufRead as _, IsTerminal as _};
    if std::io::stdin().is_terminal() {
        eprint!("Password (at least 10 characters): ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| format!("password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn dashboard_link(config: &Config, merchant: &str, email: Option<&str>) -> Result<(), String> {
    let store = open_store(config).await.map_err(|e| e.to_string())?;
    let link = users::dashboard_link(store.as_ref(), merchant, email, &public_base(config))
        .await
        .map_err(|e| e.to_string())?;
    println!("{link}");
    Ok(())
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
            // `--json` prints exactly the merchant's object; a link is for people.
            if config.mode == Mode::Sandbox && !json {
                let id = gatepost_core::ids::MerchantId::from_trusted(created.id.clone());
                let admin = users::first_admin(store.as_ref(), &id).await.map_err(|e| e.to_string())?;
                let link = users::sign_in_link(store.as_ref(), &admin, &public_base(config))
                    .await
                    .map_err(|e| e.to_string())?;
                println!("Dashboard (one-time sign-in link, 15 minutes): {link}");
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

/// Runs `gatepost acquirer-sim` until SIGTERM or Ctrl-C. It reads no gateway configuration:
/// its flags are all of its settings (docs/reference/connectors.md#simulator).
fn acquirer_sim(args: &AcquirerSimArgs) -> ExitCode {
    let options = match sim_options(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("gatepost: {message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env(crate::config::env_name("log"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        match gatepost_acquirer_sim::start(options).await {
            Ok(sim) => {
                println!("acquirer-sim listening on http://{}, calling back {}", sim.addr, sim.callback_url);
                crate::shutdown_signal().await;
                tracing::info!("shutting down");
                sim.shutdown().await;
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("gatepost: {error}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Checks every `acquirer-sim` flag; the error names the flag and fits on one line.
fn sim_options(args: &AcquirerSimArgs) -> Result<SimOptions, String> {
    let listen = args
        .listen
        .parse()
        .map_err(|_| format!("--listen: {:?} is not an address such as 127.0.0.1:9090", args.listen))?;
    let callback_delay = humantime::parse_duration(args.callback_delay.trim()).map_err(|_| {
        format!("--callback-delay: {:?} is not a duration such as 500ms, 1s or 2m", args.callback_delay)
    })?;
    let duplicate_callbacks = args
        .duplicate_callbacks
        .parse()
        .map_err(|_| format!("--duplicate-callbacks: {:?} is not a count such as 0 or 2", args.duplicate_callbacks))?;
    let seed = match &args.seed {
        Some(seed) => Some(seed.parse().map_err(|_| format!("--seed: {seed:?} is not a whole number"))?),
        None => None,
    };
    let options = SimOptions {
        listen,
        gateway_url: args.gateway_url.clone(),
        secret: args.secret.clone(),
        callback_delay,
        duplicate_callbacks,
        reorder: args.reorder,
        drop_callbacks: probability("--drop-callbacks", &args.drop_callbacks)?,
        fail_requests: probability("--fail-requests", &args.fail_requests)?,
        seed,
    };
    options.check()?;
    Ok(options)
}

/// A number; whether it is a probability between 0 and 1 is `SimOptions::check`'s rule.
fn probability(flag: &str, value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(p) => Ok(p),
        Err(_) => Err(format!("{flag}: {value:?} is not a probability between 0 and 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn sim_args(flags: &[&str]) -> AcquirerSimArgs {
        let required = ["gatepost", "acquirer-sim", "--gateway-url", "http://127.0.0.1:8080", "--secret", "S"];
        let cli = Cli::try_parse_from(required.iter().chain(flags)).expect("the flags parse");
        match cli.command {
            Command::AcquirerSim(args) => args,
            Command::Gateway(command) => panic!("not acquirer-sim: {command:?}"),
        }
    }

    #[test]
    fn acquirer_sim_defaults_are_those_of_the_spec() {
        let options = sim_options(&sim_args(&[])).unwrap();
        assert_eq!(options.listen, "127.0.0.1:9090".parse().unwrap());
        assert_eq!(options.gateway_url, "http://127.0.0.1:8080");
        assert_eq!(options.secret, "S");
        assert_eq!(options.callback_delay, Duration::from_secs(1));
        assert_eq!((options.duplicate_callbacks, options.reorder, options.seed), (0, false, None));
        assert_eq!((options.drop_callbacks, options.fail_requests), (0.0, 0.0));
    }

    #[test]
    fn acquirer_sim_takes_every_flag_of_the_spec() {
        let flags = "--listen 127.0.0.1:0 --callback-delay 500ms --duplicate-callbacks 2 --reorder \
            --drop-callbacks 0.5 --fail-requests 1 --seed 42";
        let flags: Vec<&str> = flags.split_whitespace().collect();
        let options = sim_options(&sim_args(&flags)).unwrap();
        assert_eq!(options.listen, "127.0.0.1:0".parse().unwrap());
        assert_eq!(options.callback_delay, Duration::from_millis(500));
        assert_eq!((options.duplicate_callbacks, options.reorder, options.seed), (2, true, Some(42)));
        assert_eq!((options.drop_callbacks, options.fail_requests), (0.5, 1.0));
        assert_eq!(
            sim_options(&sim_args(&["--callback-delay", "2m"])).unwrap().callback_delay,
            Duration::from_secs(120)
        );
    }

    #[test]
    fn a_bad_acquirer_sim_value_is_a_one_line_error_naming_its_flag() {
        for (flag, value) in [
            ("--listen", "nowhere"),
            ("--callback-delay", "soon"),
            ("--duplicate-callbacks", "two"),
            ("--drop-callbacks", "1.5"),
            ("--fail-requests", "often"),
            ("--seed", "x"),
        ] {
            let error = sim_options(&sim_args(&[flag, value])).unwrap_err();
            assert!(error.starts_with(flag) && !error.contains('\n'), "{error}");
        }
        let mut args = sim_args(&[]);
        args.gateway_url = "127.0.0.1:8080".to_owned();
        assert!(sim_options(&args).unwrap_err().starts_with("--gateway-url"));
    }

    #[test]
    fn acquirer_sim_requires_the_gateway_url_and_the_secret() {
        let missing = Cli::try_parse_from(["gatepost", "acquirer-sim", "--secret", "S"]).unwrap_err();
        assert_eq!(missing.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let missing = Cli::try_parse_from(["gatepost", "acquirer-sim", "--gateway-url", "http://gw"]).unwrap_err();
        assert_eq!(missing.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
