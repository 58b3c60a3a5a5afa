//! A bare axum JSON echo server: the baseline of docs/reference/performance.md#the-echo-baseline.
//!
//! `POST /echo` parses the body into a `serde_json::Value` and sends it back as JSON, on the
//! same stack gatepost uses (tokio, hyper via axum, serde_json) but with no database, no
//! authentication and no middleware. `scripts/bench` measures it in the same run as
//! `POST /v1/payments`, so gatepost's figures can be read as a ratio of what the machine and
//! the HTTP stack allow.
//!
//! Usage: `gatepost-echo [ADDR]` (default `127.0.0.1:0`, a free port). The bound address is
//! printed as `listening on http://ADDR` so that a script can find the port.

use std::io;
use std::net::{AddrParseError, SocketAddr};
use std::process::ExitCode;

use axum::{Json, Router, routing::post};
use serde_json::Value;

/// Port 0 lets the kernel pick a free port; the script reads it back from stdout.
const DEFAULT_ADDR: &str = "127.0.0.1:0";

#[tokio::main]
async fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    match run(arg.as_deref().unwrap_or(DEFAULT_ADDR)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatepost-echo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Binds, announces the address and serves until the process is killed. Each error says which
/// step failed, because the bench script shows only this line when the baseline cannot start.
async fn run(addr: &str) -> io::Result<()> {
    let addr: SocketAddr = addr.parse().map_err(|e| invalid_address(addr, e))?;
    let bound = tokio::net::TcpListener::bind(addr).await;
    let listener = bound.map_err(|e| cannot_bind(addr, e))?;
    // Rust's stdout is line-buffered, so this line reaches a pipe at once.
    println!("listening on http://{}", listener.local_addr()?);

    let app = Router::new().route("/echo", post(echo));
    axum::serve(listener, app).await
}

fn invalid_address(addr: &str, e: AddrParseError) -> io::Error {
    let message = format!("invalid listen address {addr:?}: {e}");
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn cannot_bind(addr: SocketAddr, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot bind {addr}: {e}"))
}

/// Echoes the parsed body. Parsing and re-serialising (rather than copying bytes) is the point:
/// it is the JSON work every real endpoint does at least once.
async fn echo(Json(body): Json<Value>) -> Json<Value> {
    Json(body)
}
