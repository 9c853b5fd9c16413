-- The presence server's state: PUBLISH-ed event state (RFC 3903) and notifier-side
-- subscriptions with their dialogs (RFC 6665, RFC 3261 §12). Text compares with SQLite's
-- default BINARY collation: AORs, events, etags and ids are exact strings. Times are
-- unix ms (the application refuses values above i64::MAX).

CREATE TABLE publications (
    aor           TEXT    NOT NULL,
    event         TEXT    NOT NULL,
    etag          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    body          BLOB    NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL,
    publisher     TEXT    NOT NULL,
    PRIMARY KEY (aor, event, etag)
);

CREATE INDEX publications_expires_at ON publications (expires_at_ms);

CREATE TABLE subscriptions (
    id            TEXT    NOT NULL PRIMARY KEY,
    aor           TEXT    NOT NULL,
    event         TEXT    NOT NULL,
    event_id      TEXT,              -- NULL: no Event id parameter
    watcher       TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    content_type  TEXT    NOT NULL,
    call_id       TEXT    NOT NULL,
    local_tag     TEXT    NOT NULL,
    remote_tag    TEXT,              -- NULL: no remote tag
    local_uri     TEXT    NOT NULL,
    remote_uri    TEXT    NOT NULL,
    remote_target TEXT    NOT NULL,
    route_set     TEXT,              -- NULL: empty route set; else the routes joined with "\n"
    secure        INTEGER NOT NULL,  -- 0 or 1
    local_cseq    INTEGER NOT NULL,
    remote_cseq   INTEGER NOT NULL,
    transport     TEXT    NOT NULL,
    remote_addr   TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);

CREATE INDEX subscriptions_resource ON subscriptions (aor, event, created_ms);
CREATE INDEX subscriptions_expires_at ON subscriptions (expires_at_ms);
