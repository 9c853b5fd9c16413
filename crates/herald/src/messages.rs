//! `herald messages list [USER@DOMAIN]` and `herald messages remove ID...|
//! --user USER@DOMAIN`: the operator's view of the offline store (RFC 3428
//! store-and-forward, issue 8) in the data dir. Listing reads only; removal
//! deletes messages for good (no delivery, no failure report). A running
//! server delivers whatever is still stored on its next run for that
//! recipient.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use simple_store::{Messages, SqliteStore, StoredMessage};

use crate::users::{split, with_store};

#[derive(Debug, Subcommand)]
pub(crate) enum MessagesCommand {
    /// Without USER: every recipient with messages waiting (count, bytes).
    /// With USER: that recipient's messages, oldest first.
    List {
        /// USER@DOMAIN
        user: Option<String>,
    },
    /// Delete stored messages: the given ids, or every message of --user.
    Remove {
        /// Message ids (as `list` shows them).
        ids: Vec<u64>,
        /// Every message waiting for USER@DOMAIN instead.
        #[arg(long, value_name = "USER@DOMAIN", conflicts_with = "ids")]
        user: Option<String>,
    },
}

pub(crate) fn run(data_dir: Option<PathBuf>, cmd: MessagesCommand) -> ExitCode {
    with_store(data_dir, false, |store| Box::pin(command(store, cmd)))
}

/// The canonical AOR the store files a user's messages under.
fn recipient(user: &str) -> Result<String, String> {
    let (u, d) = split(user)?;
    Ok(format!("sip:{u}@{d}"))
}

/// Everything a recipient has waiting (the store hands them out in pages).
async fn all_for(store: &SqliteStore, recipient: &str) -> Result<Vec<StoredMessage>, String> {
    store
        .messages_for(recipient, usize::MAX)
        .await
        .map_err(|e| e.to_string())
}

/// `2026-12-06T04:21:29Z` from unix milliseconds.
fn utc(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    let (y, mo, d) = sip_msg::misc::civil_from_days(secs.div_euclid(86_400));
    let rest = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

async fn command(store: &SqliteStore, cmd: MessagesCommand) -> Result<ExitCode, String> {
    let err = |e: simple_store::StoreError| e.to_string();
    match cmd {
        MessagesCommand::List { user: None } => {
            for r in store.message_recipients().await.map_err(err)? {
                let (count, bytes) = store.message_usage(&r).await.map_err(err)?;
                println!("{r}\t{count} messages\t{bytes} bytes");
            }
        }
        MessagesCommand::List { user: Some(user) } => {
            let r = recipient(&user)?;
            for m in all_for(store, &r).await? {
                println!(
                    "{}\t{}\tfrom {}\t{}\t{} bytes\t{} attempts\texpires {}",
                    m.id,
                    utc(m.received_ms),
                    m.sender_aor,
                    m.content_type,
                    m.body.len(),
                    m.attempts,
                    utc(m.expires_at_ms)
                );
            }
        }
        MessagesCommand::Remove { ids, user } => {
            let ids = match user {
                Some(user) => {
                    let r = recipient(&user)?;
                    all_for(store, &r).await?.iter().map(|m| m.id).collect()
                }
                None if ids.is_empty() => {
                    return Err("give message ids or --user USER@DOMAIN".to_owned());
                }
                None => ids,
            };
            let mut removed = 0;
            let mut missing = Vec::new();
            for id in ids {
                if store.remove_message(id).await.map_err(err)? {
                    removed += 1;
                } else {
                    missing.push(id.to_string());
                }
            }
            println!("removed {removed} messages");
            if !missing.is_empty() {
                return Err(format!("no stored message with id {}", missing.join(", ")));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_796_530_889_000), "2026-12-06T04:21:29Z");
    }
}
