//! `herald user add|list|remove|passwd`: users in the data dir's SQLite
//! store, as HA1 hashes per algorithm (RFC 7616 §3.4.2 — never the
//! password). A running server reads users from the same database on every
//! authentication, so changes apply at once.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use simple_store::{Ha1, SqliteStore, User, Users};
use sip_auth::Algorithm;

/// The algorithms a user gets an HA1 for.
const ALGORITHMS: [Algorithm; 3] = [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512_256];

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Add a user (asks for the password when --password is not given).
    Add {
        /// USER@DOMAIN
        user: String,
        /// The password (visible in the process list: prefer the prompt).
        #[arg(long)]
        password: Option<String>,
    },
    /// Change a user's password.
    Passwd {
        /// USER@DOMAIN
        user: String,
        /// The new password.
        #[arg(long)]
        password: Option<String>,
    },
    /// Remove a user.
    Remove {
        /// USER@DOMAIN
        user: String,
    },
    /// Add or update many users from standard input, one `USER@DOMAIN
    /// PASSWORD` per line (blank lines and `#` comments skipped).
    Import,
    /// List users (of one domain, or all).
    List {
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
    },
}

/// The user and (lowercased) domain an HTTP/MSRP digest or Basic username
/// names: `alice@example.test`, or a bare `alice` in the challenge's realm.
pub(crate) fn claimed(name: &str, realm: &str) -> (String, String) {
    match name.split_once('@') {
        Some((u, d)) => (u.to_owned(), d.to_ascii_lowercase()),
        None => (name.to_owned(), realm.to_ascii_lowercase()),
    }
}

pub(crate) fn split(user: &str) -> Result<(String, String), String> {
    let user = user.strip_prefix("sip:").unwrap_or(user);
    match user.split_once('@') {
        Some((u, d)) if !u.is_empty() && !d.is_empty() && !d.contains('@') => {
            if u.chars()
                .any(|c| c.is_control() || c == ':' || c.is_whitespace())
            {
                return Err(format!(
                    "'{u}': user names cannot hold ':', spaces or control characters"
                ));
            }
            Ok((u.to_owned(), d.to_ascii_lowercase()))
        }
        _ => Err(format!("'{user}': expected USER@DOMAIN")),
    }
}

/// Users written per transaction by `user import`.
const IMPORT_BATCH: usize = 5000;

/// The password for `user add` / `user passwd` without `--password`: on a
/// terminal, asked twice without echo; otherwise the first line of stdin
/// (scripts: `echo secret | herald user add alice@example.test`).
fn read_password() -> Result<String, String> {
    let stdin = std::io::stdin();
    let p = if stdin.is_terminal() {
        let ask = |prompt: &str| {
            eprint!("{prompt}");
            let _ = std::io::stderr().flush();
            rpassword::read_password().map_err(|e| format!("reading the password: {e}"))
        };
        let p = ask("Password: ")?;
        if p.is_empty() {
            return Err("empty password".to_owned());
        }
        if ask("Password again: ")? != p {
            return Err("the passwords differ".to_owned());
        }
        p
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("reading the password: {e}"))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if p.is_empty() {
        return Err("empty password".to_owned());
    }
    Ok(p)
}

fn record(username: &str, domain: &str, password: &str) -> User {
    User {
        username: username.to_owned(),
        domain: domain.to_owned(),
        realm: domain.to_owned(),
        ha1: ALGORITHMS
            .iter()
            .map(|&a| Ha1 {
                algorithm: a.token().to_owned(),
                ha1: sip_auth::ha1(a, username, domain, password),
            })
            .collect(),
        created_ms: simple_registrar::now_ms(),
    }
}

pub(crate) fn run(data_dir: Option<PathBuf>, cmd: UserCommand) -> ExitCode {
    let create = matches!(cmd, UserCommand::Add { .. } | UserCommand::Import);
    with_store(data_dir, create, |store| Box::pin(command(store, cmd)))
}

/// Runs an admin command against the data dir's store (a running server
/// may hold it open too): a small runtime, the store opened and closed
/// around `f`, errors printed as `herald: ...` with exit status 1. With
/// `create` false, a data dir without a store is an error (a mistyped
/// `--data-dir` must not look like an empty store), else it is created.
pub(crate) fn with_store<F>(data_dir: Option<PathBuf>, create: bool, f: F) -> ExitCode
where
    F: for<'a> FnOnce(
        &'a SqliteStore,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<ExitCode, String>> + 'a>,
    >,
{
    let dir = data_dir.unwrap_or_else(|| PathBuf::from("./herald-data"));
    if !create && !dir.join(simple_store::DB_FILE_NAME).exists() {
        eprintln!(
            "herald: no Herald data in {} (check --data-dir)",
            dir.display()
        );
        return ExitCode::from(1);
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("herald: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = rt.block_on(async move {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))?;
        let store = SqliteStore::open_dir(&dir)
            .await
            .map_err(|e| format!("store in {}: {e}", dir.display()))?;
        let r = f(&store).await;
        store.close().await;
        r
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("herald: {e}");
            ExitCode::from(1)
        }
    }
}

async fn command(store: &SqliteStore, cmd: UserCommand) -> Result<ExitCode, String> {
    let err = |e: simple_store::StoreError| e.to_string();
    match cmd {
        UserCommand::Add { user, password } => {
            let (u, d) = split(&user)?;
            if store.get_user(&u, &d).await.map_err(err)?.is_some() {
                return Err(format!("{u}@{d} exists (use `herald user passwd`)"));
            }
            let p = match password {
                Some(p) => p,
                None => read_password()?,
            };
            store.put_user(&record(&u, &d, &p)).await.map_err(err)?;
            println!("added {u}@{d}");
        }
        UserCommand::Passwd { user, password } => {
            let (u, d) = split(&user)?;
            let Some(old) = store.get_user(&u, &d).await.map_err(err)? else {
                return Err(format!("{u}@{d}: no such user"));
            };
            let p = match password {
                Some(p) => p,
                None => read_password()?,
            };
            let mut rec = record(&u, &d, &p);
            rec.created_ms = old.created_ms;
            store.put_user(&rec).await.map_err(err)?;
            println!("password changed for {u}@{d}");
        }
        UserCommand::Remove { user } => {
            let (u, d) = split(&user)?;
            if !store.remove_user(&u, &d).await.map_err(err)? {
                return Err(format!("{u}@{d}: no such user"));
            }
            println!("removed {u}@{d}");
        }
        UserCommand::Import => {
            // Every line is read and checked before anything is written, then
            // the users go in batches of one transaction each (a running
            // server's own writes wait for one batch at most).
            let mut users = Vec::new();
            for (i, line) in std::io::stdin().lock().lines().enumerate() {
                let line = line.map_err(|e| format!("reading stdin: {e}"))?;
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let Some((who, pw)) = line.split_once(char::is_whitespace) else {
                    return Err(format!("line {}: expected USER@DOMAIN PASSWORD", i + 1));
                };
                let (u, d) = split(who).map_err(|e| format!("line {}: {e}", i + 1))?;
                users.push(record(&u, &d, pw.trim()));
            }
            let mut done = 0;
            for batch in users.chunks(IMPORT_BATCH) {
                store.put_users(batch).await.map_err(|e| {
                    format!("{}; {done} of {} users were imported", err(e), users.len())
                })?;
                done += batch.len();
            }
            println!("imported {done} users");
        }
        UserCommand::List { domain } => {
            let domain = domain.map(|d| d.to_ascii_lowercase());
            for u in store.list_users(domain.as_deref()).await.map_err(err)? {
                println!("{}@{}", u.username, u.domain);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_at_domain() {
        assert_eq!(
            split("alice@Example.TEST").unwrap(),
            ("alice".to_owned(), "example.test".to_owned())
        );
        assert_eq!(split("sip:bob@x").unwrap().0, "bob");
        assert!(split("alice").is_err());
        assert!(split("@x").is_err());
        assert!(split("a b@x").is_err());
        let r = record("alice", "example.test", "secret");
        assert_eq!(r.ha1.len(), 3);
        assert_eq!(
            r.ha1[0].ha1,
            sip_auth::ha1(Algorithm::Md5, "alice", "example.test", "secret")
        );
        assert!(r.ha1.iter().all(|h| !h.ha1.contains("secret")));
    }
}
