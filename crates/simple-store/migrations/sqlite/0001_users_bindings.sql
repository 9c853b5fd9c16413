-- Users and their HA1s (RFC 7616), and registrar bindings (RFC 3261 §10).
-- Text compares with SQLite's default BINARY collation: usernames and AORs are
-- case-sensitive; domains are stored lowercased by the application.

CREATE TABLE users (
    domain     TEXT    NOT NULL,  -- ASCII-lowercased
    username   TEXT    NOT NULL,
    realm      TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (domain, username)
) WITHOUT ROWID;

CREATE TABLE user_ha1 (
    domain    TEXT    NOT NULL,
    username  TEXT    NOT NULL,
    pos       INTEGER NOT NULL,  -- order within the user's HA1 list
    algorithm TEXT    NOT NULL,  -- "MD5", "SHA-256", "SHA-512-256"
    ha1       TEXT    NOT NULL,  -- lowercase hex
    PRIMARY KEY (domain, username, pos),
    UNIQUE (domain, username, algorithm),
    FOREIGN KEY (domain, username) REFERENCES users (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE bindings (
    aor           TEXT    NOT NULL,
    pos           INTEGER NOT NULL,  -- order within the AOR's binding set
    contact       TEXT    NOT NULL,
    params        TEXT    NOT NULL,
    q             INTEGER,           -- NULL: no q; else 0..=1000
    expires_at_ms INTEGER NOT NULL,
    call_id       TEXT    NOT NULL,
    cseq          INTEGER NOT NULL,
    instance      TEXT,
    reg_id        INTEGER,
    path          TEXT,              -- NULL: no Path; else the values joined with "\n"
    received      TEXT,
    user_agent    TEXT,
    updated_ms    INTEGER NOT NULL,
    PRIMARY KEY (aor, pos)
);

CREATE INDEX bindings_expires_at ON bindings (expires_at_ms);
