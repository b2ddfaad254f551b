//! `moby-proxy --listen unix:///PATH [--listen tcp://ADDR:PORT] [--config FILE]
//! [--socket-mode MODE] [--typed]`: serves the proxy in front of the engine `DOCKER_HOST`
//! (or the docker context) names, until SIGTERM or SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use moby_api_proxy::classify::RouteTables;
use moby_api_proxy::config::Policy;
use moby_api_proxy::forward::Upstream;
use moby_api_proxy::proxy::{router, Proxy};
use moby_api_runtime::server::{bind_unix, serve, ConnectionConfig};
use tokio::sync::watch;

const USAGE: &str = "usage: moby-proxy --listen unix:///PATH|tcp://ADDR:PORT [--listen …] [--config FILE] [--socket-mode 0660] [--typed]";

struct Args {
    listen: Vec<String>,
    config: Option<PathBuf>,
    socket_mode: u32,
    typed: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args { listen: Vec::new(), config: None, socket_mode: 0o660, typed: false };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--listen" => parsed.listen.push(value("--listen")?),
            "--config" => parsed.config = Some(PathBuf::from(value("--config")?)),
            "--socket-mode" => {
                let text = value("--socket-mode")?;
                parsed.socket_mode = u32::from_str_radix(text.trim_start_matches("0o"), 8)
                    .ok()
                    .filter(|m| *m <= 0o777)
                    .ok_or_else(|| format!("--socket-mode {text:?} is not an octal mode like 0660"))?;
            }
            "--typed" => parsed.typed = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if parsed.listen.is_empty() {
        return Err(format!("--listen is required\n{USAGE}"));
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("moby-proxy: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    let tables = RouteTables::new(moby_api_proxy::tables::all());
    let newest = tables.newest().ok_or("the proxy was built without any API version")?;
    let upstream = Upstream::from_env(newest).map_err(|e| format!("the engine to forward to: {e}"))?;
    let policy = match &args.config {
        Some(path) => Policy::load(path, &tables, upstream.socket()).map_err(|e| e.to_string())?,
        None => Policy::allow_all(),
    };
    let typed = args.typed.then(moby_api_proxy::tables::roundtrips);
    let proxy = Arc::new(Proxy { tables, policy, upstream, typed });
    let app = router(proxy);

    let (stop, stopped) = watch::channel(false);
    let mut servers = tokio::task::JoinSet::new();
    for listen in &args.listen {
        let shutdown = {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };
        if let Some(path) = listen.strip_prefix("unix://") {
            let listener = bind_unix(path, args.socket_mode).map_err(|e| format!("--listen {listen}: {e}"))?;
            servers.spawn(serve(listener, app.clone(), ConnectionConfig::default(), shutdown));
        } else if let Some(addr) = listen.strip_prefix("tcp://") {
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("--listen {listen}: {e}"))?;
            servers.spawn(serve(listener, app.clone(), ConnectionConfig::default(), shutdown));
        } else {
            return Err(format!("--listen {listen:?}: use unix:///PATH or tcp://ADDR:PORT"));
        }
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
        Some(result) = servers.join_next() => {
            // A server stopped by itself: an accept loop failed.
            let _ = stop.send(true);
            return match result {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            };
        }
    }
    let _ = stop.send(true);
    while servers.join_next().await.is_some() {}
    Ok(())
}
