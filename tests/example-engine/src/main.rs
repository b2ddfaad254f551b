//! `moby-api-example-engine --socket PATH [--tcp ADDR]`: serves an in-memory engine on a
//! unix socket (mode 0660) and optionally TCP until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use moby_api_example_engine::{router, Engine};

const USAGE: &str = "usage: moby-api-example-engine --socket PATH [--tcp ADDR]";

struct Args {
    socket: Option<String>,
    tcp: Option<SocketAddr>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { socket: None, tcp: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next()).ok_or_else(|| format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--socket" | "-H" => args.socket = Some(value()?),
            "--tcp" => {
                let value = value()?;
                args.tcp = Some(value.parse().map_err(|e| format!("--tcp {value}: {e}"))?);
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.socket.is_none() && args.tcp.is_none() {
        return Err(USAGE.to_owned());
    }
    Ok(args)
}

/// Resolves on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let engine = Engine::new();
    let app = router(engine.clone());
    // One signal stops every listener: the first to see it tells the others.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    let mut servers = tokio::task::JoinSet::new();
    if let Some(path) = args.socket.clone() {
        let listener = match moby_api_runtime::server::bind_unix(&path, 0o660) {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("cannot listen on {path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!("listening on unix://{path}");
        servers.spawn(moby_api_runtime::server::serve_unix_listener(app.clone(), listener, stopped()));
    }
    if let Some(addr) = args.tcp {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!("listening on tcp://{addr}");
        servers.spawn(moby_api_runtime::server::serve_tcp_listener(app.clone(), listener, stopped()));
    }
    tokio::spawn(async move {
        shutdown_signal().await;
        // Ends `logs -f` and event streams, which would otherwise hold the graceful shutdown.
        engine.shutdown();
        let _ = stop_tx.send(true);
    });
    let mut status = ExitCode::SUCCESS;
    while let Some(result) = servers.join_next().await {
        if let Ok(Err(e)) | Err(e) = result.map_err(std::io::Error::other) {
            eprintln!("server failed: {e}");
            status = ExitCode::FAILURE;
        }
    }
    if let Some(path) = args.socket {
        let _ = std::fs::remove_file(path);
    }
    status
}
