//! The `pushwire` binary: parses the configuration, refuses unsafe ones,
//! binds, and serves until SIGINT or SIGTERM.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use pushwire_server::tls::Tls;
use pushwire_server::{serve, serve_tls, App, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();

    let config = Config::parse();
    if let Err(err) = config.validate() {
        tracing::error!("{err}");
        return ExitCode::from(2);
    }
    // Certificates are read (or generated) before anything else: a bad
    // file stops the server at once, with the reason.
    let tls = match Tls::from_config(&config) {
        Ok(tls) => tls,
        Err(err) => {
            tracing::error!("{err}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(addr = %config.addr, %err, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(config.addr);
    if !config.www_dir.is_dir() {
        tracing::warn!(dir = %config.www_dir.display(), "www directory not found: static files will answer 404");
    }
    let app = match App::connect(config).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("{err}");
            return ExitCode::FAILURE;
        }
    };
    // The signal handlers exist before "listening" is logged: a signal
    // sent as soon as the server says it listens must shut it down, not
    // kill it.
    let shutdown = match shutdown_signal() {
        Ok(shutdown) => shutdown,
        Err(err) => {
            tracing::error!(%err, "cannot listen for SIGINT and SIGTERM");
            return ExitCode::FAILURE;
        }
    };
    match tls {
        None => {
            tracing::info!("pushwire listening on http://{addr}");
            serve(listener, app, shutdown).await;
        }
        Some(tls) => {
            if tls.self_signed_pem().is_some() {
                tracing::warn!(
                    "serving a self-signed certificate for localhost and 127.0.0.1: for development only"
                );
            }
            tracing::info!("pushwire listening on https://{addr}");
            serve_tls(listener, app, tls, shutdown).await;
        }
    }
    tracing::info!("pushwire stopped");
    ExitCode::SUCCESS
}

/// A future that completes on SIGINT (Ctrl-C) or SIGTERM, with both
/// handlers installed before it returns.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}

/// A future that completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
