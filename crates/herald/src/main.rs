//! `herald`: the Herald SIMPLE server binary. For now it offers `herald lint`,
//! an operator's tool that checks captured SIP messages the way the server will.

mod lint;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Herald: a SIP presence and instant-messaging server (the IETF SIMPLE suite).
#[derive(Debug, Parser)]
#[command(name = "herald", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
    }
}
