-- Page-mode instant messages kept for a recipient who could not take them (RFC 3428
-- store-and-forward), and page-mode chat room membership. Times are unix ms (the
-- application refuses values above i64::MAX).

-- `id` is the delivery order: AUTOINCREMENT never reuses an id, so a message stored
-- after a delete still sorts after every older one.
CREATE TABLE stored_messages (
    id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    recipient       TEXT    NOT NULL,  -- canonical AOR "sip:bob@example.test"
    sender          TEXT    NOT NULL,  -- the From header value as received
    sender_aor      TEXT    NOT NULL,  -- canonical AOR of the sender
    content_type    TEXT    NOT NULL,
    body            BLOB    NOT NULL,
    received_ms     INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL
);
CREATE INDEX stored_messages_recipient ON stored_messages (recipient, id);
CREATE INDEX stored_messages_expiry ON stored_messages (expires_at_ms);
CREATE INDEX stored_messages_due ON stored_messages (next_attempt_ms);

CREATE TABLE room_members (
    room           TEXT    NOT NULL,  -- "sip:lobby@chat.example.test"
    member         TEXT    NOT NULL,  -- canonical AOR of the member
    joined_ms      INTEGER NOT NULL,
    last_active_ms INTEGER NOT NULL,
    PRIMARY KEY (room, member)
);
CREATE INDEX room_members_activity ON room_members (last_active_ms);
