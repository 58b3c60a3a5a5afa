//! The `gatepost` binary's library: command line, configuration and wiring. Thin on
//! purpose: the work is done by `gatepost-server`, `gatepost-store` and `gatepost-core`.
//!
//! # Layout
//! - [`cli`]: the commands of docs/reference/configuration.md#commands and what each prints.
//! - [`config`]: defaults, file, environment and flags, with one-line errors.
//! - [`Server`]: a running gateway; `gatepost serve` and the tests both start one.
//! - [`merchants`]: creating and listing merchants from the command line.

pub mod cli;
pub mod config;
pub mod keys;
pub mod merchants;
pub mod users;

use config::Config;
use gatepost_connectors::sandbox::Sandbox;
use gatepost_connectors::simulator::{Simulator, SimulatorSettings};
use gatepost_core::time::{Clock, SystemClock};
use gatepost_core::urls::Mode;
use gatepost_server::{AppState, ConnectionLimits, Connectors, RequestLimits, Settings};
use gatepost_store::Store;
use gatepost_webhooks::{ClientSettings, Dispatcher, RetrySchedule};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The connectors of this gateway: the sandbox in sandbox mode (live mode has none), and
/// the simulator wherever it is configured
/// (docs/reference/connectors.md#choosing-a-connector).
fn connectors(config: &Config) -> Connectors {
    let mut connectors: Vec<Arc<dyn gatepost_connectors::Connector>> = Vec::new();
    if config.mode == Mode::Sandbox {
        connectors.push(Arc::new(Sandbox { async_delay: config.sandbox.async_delay }));
    }
    if let Some(simulator) = &config.connectors.simulator {
        connectors.push(Arc::new(Simulator::new(SimulatorSettings {
            url: simulator.url.clone(),
            secret: simulator.secret.clone(),
            poll_after: config.connectors.poll_after,
            timeout: SIMULATOR_TIMEOUT,
        })));
    }
    Connectors::new(connectors)
}

/// How long one request to the simulator may take before it counts as unanswered.
const SIMULATOR_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A gateway serving HTTP until [`Server::shutdown`].
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub public_url: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("database: {0}")]
    Store(#[from] gatepost_store::StoreError),
}

/// Opens the database named in the configuration and brings its schema up to date.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, gatepost_store::StoreError> {
    let store = gatepost_store::open(&config.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

/// Makes ring the process's rustls crypto provider, unless one is installed already. The
/// libraries build their reqwest clients without a provider of their own, so the process
/// chooses one, once: `gatepost`'s `main` and [`Server::start_with_clock`] call this.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Server {
    /// Opens the database, migrates it, binds `config.listen` and serves.
    pub async fn start(config: &Config) -> Result<Self, StartError> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`Server::start`], with a clock the caller controls (tests move time).
    pub async fn start_with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        install_crypto_provider();
        let store = open_store(config).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Listen { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen { addr: config.listen, source })?;
        let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        let settings = Settings {
            public_url: public_url.clone(),
            mode: config.mode,
            forbid_explicit_port: config.webhooks.forbid_explicit_port,
            metrics_token: config.metrics_token.clone(),
            limits: RequestLimits {
                body_timeout: config.http.body_timeout,
                api_rate: config.rate_limit.api,
                pay_rate: config.rate_limit.pay,
            },
        };
        let connectors = connectors(config);
        let state = AppState::new(Arc::clone(&store), Arc::clone(&clock), settings, connectors);
        let app = gatepost_server::router(state.clone());
        let (stop, mut stopped) = watch::channel(false);
        let sweeps = tokio::spawn(gatepost_server::background::run_sweeps(state.clone(), stop.subscribe()));
        let dispatcher = Dispatcher {
            store: Arc::clone(&store),
            clock: Arc::clone(&clock),
            client: gatepost_webhooks::client::build(&ClientSettings {
                timeout: config.webhooks.timeout,
                allow_private_targets: config.webhooks.allow_private_targets,
            }),
            schedule: RetrySchedule::new(config.webhooks.retry_schedule.clone()),
            timeout: config.webhooks.timeout,
            metrics: state.webhook_metrics(),
            max_in_flight_per_destination: config.webhooks.max_in_flight_per_endpoint,
            disable_after: config.webhooks.disable_after,
        };
        let deliveries = tokio::spawn(dispatcher.run(stop.subscribe()));
        let limits = ConnectionLimits {
            header_timeout: config.http.header_timeout,
            idle_timeout: config.http.idle_timeout,
            max_connections: config.http.max_connections,
        };
        let task = tokio::spawn(async move {
            gatepost_server::serve(listener, app, limits, async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await?;
            // In-flight requests are done; let the current sweep and attempts finish too.
            let _ = sweeps.await;
            let _ = deliveries.await;
            Ok(())
        });
        Ok(Self { addr, public_url, stop, task })
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or(Ok(()))
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully
    /// (docs/reference/operations.md#shutdown).
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        self.shutdown().await
    }
}

/// Resolves on SIGTERM or Ctrl-C: how every long-running command is told to stop.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
