//! `herald rules get|set|remove USER@DOMAIN [FILE]`: a user's presence
//! authorization rules (RFC 5025) in the data dir's store — the admin path;
//! XCAP (RFC 4825) is the users' own. A running server notices the change
//! within a second and re-evaluates every subscription to that user at once.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use simple_store::{Document, Documents, Precondition, SqliteStore};

/// The XCAP application usage of presence rules (RFC 5025 §9.1), and the
/// document name clients use (OMA, RFC 5025 examples).
pub(crate) const AUID: &str = "pres-rules";
pub(crate) const DOCUMENT: &str = "index";

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Print the user's rules document.
    Get {
        /// USER@DOMAIN
        user: String,
    },
    /// Replace the user's rules with FILE (or standard input). A document
    /// that is not valid common-policy / pres-rules XML is refused with the
    /// reason, and nothing changes.
    Set {
        /// USER@DOMAIN
        user: String,
        /// The rules document; standard input when absent or `-`.
        file: Option<PathBuf>,
    },
    /// Remove the user's rules (the server's default policy applies again).
    Remove {
        /// USER@DOMAIN
        user: String,
    },
}

/// The owner key of a user's documents: her AOR.
pub(crate) fn owner(user: &str, domain: &str) -> String {
    format!("sip:{user}@{}", domain.to_ascii_lowercase())
}

pub(crate) fn run(data_dir: Option<PathBuf>, cmd: RulesCommand) -> ExitCode {
    let create = matches!(cmd, RulesCommand::Set { .. });
    crate::users::with_store(data_dir, create, |store| Box::pin(command(store, cmd)))
}

async fn command(store: &SqliteStore, cmd: RulesCommand) -> Result<ExitCode, String> {
    let err = |e: simple_store::StoreError| e.to_string();
    match cmd {
        RulesCommand::Get { user } => {
            let (u, d) = crate::users::split(&user)?;
            match store
                .get_document(AUID, &owner(&u, &d), DOCUMENT)
                .await
                .map_err(err)?
            {
                Some(doc) => {
                    print!("{}", String::from_utf8_lossy(&doc.content));
                    Ok(ExitCode::SUCCESS)
                }
                None => Err(format!("{u}@{d} has no presence rules")),
            }
        }
        RulesCommand::Set { user, file } => {
            let (u, d) = crate::users::split(&user)?;
            let mut content = Vec::new();
            match file.as_deref() {
                Some(p) if p != std::path::Path::new("-") => {
                    content = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
                }
                _ => {
                    std::io::stdin()
                        .read_to_end(&mut content)
                        .map_err(|e| format!("standard input: {e}"))?;
                }
            }
            // RFC 5025 / RFC 4745: refuse what the server could not apply.
            simple_policy::parse(&content).map_err(|e| format!("rules refused: {e}"))?;
            let doc = Document {
                auid: AUID.to_owned(),
                owner: owner(&u, &d),
                name: DOCUMENT.to_owned(),
                etag: sip_proto::new_etag(),
                content_type: simple_policy::MEDIA_TYPE.to_owned(),
                content,
                updated_ms: u64::try_from(simple_registrar::now_ms()).unwrap_or(0),
            };
            store
                .put_document(&doc, Precondition::Any)
                .await
                .map_err(err)?;
            println!("rules of {u}@{d} set");
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Remove { user } => {
            let (u, d) = crate::users::split(&user)?;
            if store
                .remove_document(AUID, &owner(&u, &d), DOCUMENT, Precondition::Any)
                .await
                .map_err(err)?
            {
                println!("rules of {u}@{d} removed");
                Ok(ExitCode::SUCCESS)
            } else {
                Err(format!("{u}@{d} has no presence rules"))
            }
        }
    }
}
