//! `herald`: the Herald SIMPLE server binary: `herald serve` runs the server,
//! `herald lint` checks captured SIP messages the way the server will.

mod config;
mod core;
mod lint;
mod messages;
mod msrp_serve;
mod router;
mod rules;
mod serve;
mod users;
mod xcap;

use std::path::PathBuf;

/// mimalloc instead of the system allocator: a REGISTER still makes about 60
/// allocations and a PUBLISH more, and glibc's malloc/free were 15–18 % of
/// the server's instructions under load (callgrind, tools/bench-*.sh).
/// `--no-default-features` builds without it, for heap profilers.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Herald: a SIP presence and instant-messaging server (the IETF SIMPLE suite).
#[derive(Debug, Parser)]
#[command(name = "herald", version, about)]
struct Cli {
    /// Where the server keeps its data (default ./herald-data).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server. With no options: domain `localhost`, SIP on
    /// 127.0.0.1:5060 over UDP and TCP, WebSocket on 127.0.0.1:8080.
    Serve {
        /// A TOML configuration file; flags override it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// A domain this server is authoritative for (repeatable).
        #[arg(long = "domain", value_name = "DOMAIN")]
        domains: Vec<String>,
        /// A listener, TRANSPORT:ADDRESS:PORT with TRANSPORT one of udp, tcp,
        /// tls, ws, wss, or msrp / msrps for the MSRP relay (repeatable), e.g.
        /// `--listen udp:127.0.0.1:5070`, `--listen msrp:127.0.0.1:2855`.
        #[arg(long, value_name = "SPEC")]
        listen: Vec<String>,
        /// Certificate (PEM) for tls:, wss: and msrps: listeners.
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// Private key (PEM) for tls:, wss: and msrps: listeners.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// RFC 3261 timer T1 in milliseconds (default 500).
        #[arg(long, value_name = "MS")]
        t1_ms: Option<u64>,
        /// Log level: error, warn, info, debug, trace.
        #[arg(long, value_name = "LEVEL")]
        log_level: Option<String>,
        /// Digest authentication: `on` (default) or `off` (trusted networks
        /// and benchmarks: no challenges, every user of a served domain
        /// exists).
        #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
        auth: Option<bool>,
        /// State store: `sqlite` (default, in the data dir) or `memory`.
        #[arg(long, value_name = "sqlite|memory")]
        store: Option<String>,
    },
    /// Manage users in the data dir (works whether the server runs or not;
    /// a running server sees the change at once).
    User {
        #[command(subcommand)]
        action: users::UserCommand,
    },
    /// Inspect or delete stored offline messages (RFC 3428 store-and-forward)
    /// in the data dir.
    Messages {
        #[command(subcommand)]
        action: messages::MessagesCommand,
    },
    /// Manage users' presence authorization rules (RFC 5025) in the data
    /// dir; a running server applies a change within a second.
    Rules {
        #[command(subcommand)]
        action: rules::RulesCommand,
    },
    /// Check SIP messages from files (or stdin) and print, per message, `ok` or
    /// the status and reason a server would answer with. Exits 1 if any message
    /// is invalid.
    Lint {
        /// Treat each input as a stream (TCP capture): several messages, each
        /// framed by its Content-Length. By default each input is one message,
        /// as in one UDP datagram.
        #[arg(long)]
        stream: bool,
        /// Files to check; none or `-` reads standard input.
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lint { stream, files } => lint::run(&files, stream),
        Command::User { action } => users::run(cli.data_dir, action),
        Command::Rules { action } => rules::run(cli.data_dir, action),
        Command::Messages { action } => messages::run(cli.data_dir, action),
        Command::Serve {
            config,
            domains,
            listen,
            tls_cert,
            tls_key,
            t1_ms,
            log_level,
            auth,
            store,
        } => {
            let flags = config::Overrides {
                data_dir: cli.data_dir,
                log_level,
                domains,
                listen,
                tls: tls_cert
                    .zip(tls_key)
                    .map(|(cert, key)| config::TlsConfig { cert, key }),
                t1_ms,
                auth,
                store,
            };
            match config::Settings::resolve(config.as_deref(), flags) {
                Ok(s) => serve::run(s),
                Err(e) => {
                    eprintln!("herald: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(format!("'{other}': expected on or off")),
    }
}
