//! `herald serve`: bind the listeners, run the core handler as the
//! transaction user, stop gracefully on SIGINT/SIGTERM.

use std::process::ExitCode;

use simple_registrar::{Authenticator, Registrar};
use simple_store::{MemoryStore, SqliteStore};
use sip_net::{ListenerSpec, NetConfig, SipServer, TlsSource};
use tokio_util::sync::CancellationToken;

use crate::config::{Settings, StoreKind};
use crate::core::CoreConfig;
use crate::router::{
    DocKind, DocsSeen, FocusEvent, FocusRelay, ImWake, PresenceTick, Router, Store, contacts,
    load_docs, store_writer,
};

fn net_config(s: &Settings) -> NetConfig {
    NetConfig {
        listeners: s
            .listen
            .iter()
            .map(|&(transport, addr)| ListenerSpec { transport, addr })
            .collect(),
        tls: s.tls.as_ref().map(|t| TlsSource::Files {
            cert_pem: t.cert.clone(),
            key_pem: t.key.clone(),
        }),
        timers: s.timers,
        max_message_size: s.max_message_size,
        idle_timeout: s.idle_timeout,
        max_connections: s.max_connections,
        max_transactions: s.max_transactions,
        ..NetConfig::default()
    }
}

/// Runs the server until a signal; returns the process exit code.
pub(crate) fn run(settings: Settings) -> ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(settings.log_level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Err(e) = std::fs::create_dir_all(&settings.data_dir) {
        eprintln!(
            "herald: cannot create data dir {}: {e}",
            settings.data_dir.display()
        );
        return ExitCode::from(2);
    }
    // One thread: the driver is a single task and every hop between the
    // socket tasks and it stays on one core (no cross-thread wake-ups). The
    // OPTIONS load run measured 15.6 µs CPU per exchange here against 17.5
    // with the two-worker runtime (see the issue 3 note).
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
    rt.block_on(async move {
        match settings.store {
            StoreKind::Sqlite => {
                let store = match SqliteStore::open_dir(&settings.data_dir).await {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("herald: store in {}: {e}", settings.data_dir.display());
                        return ExitCode::from(2);
                    }
                };
                let code = serve(settings, store.clone()).await;
                store.close().await;
                code
            }
            StoreKind::Memory => serve(settings, MemoryStore::default()).await,
        }
    })
}

async fn serve<S: Store>(settings: Settings, store: S) -> ExitCode {
    let auth = Authenticator::new(settings.auth.clone(), rand::random());
    let registrar = match Registrar::start(store.clone(), settings.registrar.clone(), auth).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("herald: loading registrations: {e}");
            return ExitCode::from(2);
        }
    };
    // XCAP (RFC 4825) on the HTTP (ws:/wss:) listeners, under /xcap-root.
    let xcap = std::sync::Arc::new(crate::xcap::XcapState::new(
        registrar.clone(),
        settings.domains.clone(),
        settings.auth.enabled,
    ));
    // The MSRP relay (RFC 4976) on the msrp:/msrps: listeners, if any; bound
    // first so that the HTTP listeners can hand it WebSocket connections.
    let relay = match crate::msrp_serve::bind(&settings, registrar.clone()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("herald: {e}");
            return ExitCode::from(2);
        }
    };
    let mut net = net_config(&settings);
    net.http_routes = Some(crate::xcap::routes(xcap.clone()));
    // MSRP over WebSocket (RFC 7977) on the same HTTP listeners as SIP, only
    // with a relay: the WebSocket server is an MSRP relay (§1, §5.1).
    if let Some(r) = &relay {
        net.ws_subprotocols
            .push(crate::msrp_serve::websocket(r.handle()));
    }
    let server = match SipServer::bind(net).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("herald: {e}");
            return ExitCode::from(2);
        }
    };
    xcap.set_handle(server.handle());
    let addrs = server.local_addrs();
    for (t, a) in &addrs {
        println!(
            "herald: listening on {}:{a}",
            t.via_token().to_ascii_lowercase()
        );
    }
    if let Some(r) = &relay {
        for (secure, a) in r.local_addrs() {
            println!(
                "herald: listening on {}:{a}",
                if secure { "msrps" } else { "msrp" }
            );
        }
    }
    println!(
        "herald: domains {}; data in {}; auth {}; store {}",
        settings.domains.join(", "),
        settings.data_dir.display(),
        if settings.auth.enabled { "on" } else { "off" },
        match settings.store {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Memory => "memory",
        }
    );
    let mut cfg = CoreConfig::new(
        settings.domains.clone(),
        addrs.iter().map(|&(_, a)| a).collect(),
    );
    cfg.timer_c = settings.timer_c;
    let shutdown = CancellationToken::new();
    let relay_stop = shutdown.clone();
    // The router ends relay sessions with their SIP dialogs.
    let msrp_link = relay.as_ref().map(|r| {
        let release = r.handle();
        let ours = r.handle();
        crate::router::MsrpLink {
            release: Box::new(move |token: &str| release.release_session(token)),
            is_ours: Box::new(move |uri: &msrp::MsrpUri| ours.is_ours(uri)),
        }
    });
    // Chat room focus (RFC 7701): its MSRP endpoints are the relay's local
    // sessions; their events go to the router in order.
    let focus = relay.as_ref().map(|r| {
        let handle: Box<dyn FocusRelay> = Box::new(r.handle());
        (handle, settings.msrp.max_message_size)
    });
    if let Some(mut events) = relay.as_ref().and_then(|r| r.local_events()) {
        let h = server.handle();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                if h.wake(FocusEvent(ev)).await.is_err() {
                    return;
                }
            }
        });
    }
    // Committed REGISTERs go back to the router to be answered, one wake
    // per commit.
    let Some(mut committed) = registrar.committed() else {
        eprintln!("herald: the registrar's commit results were taken twice");
        return ExitCode::from(2);
    };
    let committed_handle = server.handle();
    tokio::spawn(async move {
        while let Some(done) = committed.recv().await {
            if committed_handle.wake(done).await.is_err() {
                return;
            }
        }
    });
    let relay_task = relay.map(|r| tokio::spawn(r.run(relay_stop.clone())));
    let signal_token = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("signal received, draining");
        signal_token.cancel();
    });
    // Presence: what the store kept, the writer task, the clock.
    let now = u64::try_from(simple_registrar::now_ms()).unwrap_or(0);
    let mut agent = simple_presence::PresenceAgent::new(
        simple_presence::PresenceConfig {
            server: cfg.server.clone(),
            ..settings.presence.agent.clone()
        },
        contacts(&addrs),
    );
    // Rules first: restored subscriptions are judged by them.
    let mut loaded_docs = Vec::new();
    for kind in DocKind::ALL {
        loaded_docs.extend(load_docs(&store, kind, None).await);
    }
    let docs_seen = DocsSeen::preload(loaded_docs, &mut agent);
    let loaded = match (
        store.load_live_publications(now).await,
        store.load_live_subscriptions(now).await,
    ) {
        (Ok(p), Ok(s)) => {
            let loc = registrar.location();
            let now_i = simple_registrar::now_ms();
            agent.restore(now, p, s, |aor| loc.live(aor, now_i).next().is_some())
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("herald: loading presence state: {e}");
            return ExitCode::from(2);
        }
    };
    if loaded != (0, 0) {
        println!(
            "herald: restored {} publications and {} subscriptions",
            loaded.0, loaded.1
        );
    }
    let (store_tx, store_rx) = tokio::sync::mpsc::unbounded_channel();
    let writer = tokio::spawn(store_writer(store.clone(), store_rx, server.handle()));
    let ticker_handle = server.handle();
    // The tick runs until the driver has stopped, drain included: while
    // draining it only ends INVITE branches (Timer C, §9.1 give-ups), which
    // the drain waits for.
    let ticker_stop = CancellationToken::new();
    let ticker_done = ticker_stop.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = ticker_stop.cancelled() => return,
            }
            if ticker_handle.wake(PresenceTick).await.is_err() {
                return;
            }
        }
    });
    // Page-mode messaging: retries, expiry and idle room members are swept
    // on their own clock.
    let sweep_handle = server.handle();
    let sweep_stop = shutdown.clone();
    let sweep_every = settings.im.sweep_interval;
    tokio::spawn(async move {
        let mut every = tokio::time::interval(sweep_every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = sweep_stop.cancelled() => return,
            }
            if sweep_handle.wake(ImWake::Tick).await.is_err() {
                return;
            }
        }
    });
    // Whose stored messages wait (RFC 3428 store-and-forward): their
    // REGISTERs deliver, and live messages queue behind them.
    let waiting = match store.message_recipients().await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("herald: loading stored-message recipients: {e}");
            return ExitCode::from(2);
        }
    };
    let mut router = Router::new(
        cfg,
        registrar,
        server.handle(),
        agent,
        settings.presence.clone(),
        store_tx,
        docs_seen,
        settings.im.clone(),
        msrp_link,
        focus,
    );
    router.im_preload_backlog(waiting);
    let result = server.run(router, shutdown).await;
    ticker_done.cancel();
    // The relay stops with the server (its connections close).
    relay_stop.cancel();
    if let Some(t) = relay_task {
        let _ = t.await;
    }
    // The router (and its sender) is gone: the writer drains and ends.
    let _ = writer.await;
    match result {
        Ok(()) => {
            println!("herald: stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("herald: {e}");
            ExitCode::from(1)
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without signal handlers, fall back to Ctrl-C only.
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}
