use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use jingtong_server::{Config, Secret};
use tracing_subscriber::EnvFilter;

/// Jingtong (警通) REST backend.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "JINGTONG_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for the SQLite file and the data key; created if missing.
    #[arg(long, env = "JINGTONG_DATA_DIR")]
    data_dir: PathBuf,
    /// Load the fictional demo data and expose the local SMS outbox at /api/v1/dev/sms-outbox.
    #[arg(long, env = "JINGTONG_DEMO")]
    demo: bool,
    /// `postgres://…` uses PostgreSQL instead of DATA_DIR/jingtong.sqlite3.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<Secret>,
    /// The https address residents' phones reach this server at (SMS links, payment links).
    /// Required outside --demo; in demo it defaults to the listen address.
    #[arg(long, env = "JINGTONG_PUBLIC_URL")]
    public_url: Option<String>,
    /// Face assets (models/ and testdata/); default $JINGTONG_FACE_DIR or ~/.cache/jingtong/face.
    #[arg(long)]
    face_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let args = Args::parse();
    let config = Config {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args.database_url,
        demo: args.demo,
        face_dir: args.face_dir,
        public_url: args.public_url,
        ..Config::default()
    };
    let running = match jingtong_server::start(config).await {
        Ok(running) => running,
        Err(e) => {
            tracing::error!(error = %e, "jingtong-server could not start");
            // Also plainly on stderr: a missing --public-url must be obvious to whoever starts it.
            eprintln!("jingtong-server could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Printed plainly too, so scripts can wait for it.
    println!("jingtong-server listening on {}", running.url());
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
