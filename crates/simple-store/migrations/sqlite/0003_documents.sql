-- Per-user XML documents: presence rules (RFC 5025) now, XCAP documents (RFC 4825) next.
-- Keyed by (owner, auid, name): an owner's documents are one contiguous range of the key.
-- Text compares with SQLite's default BINARY collation (exact strings, byte order). Times
-- are unix ms (the application refuses values above i64::MAX).

CREATE TABLE documents (
    owner        TEXT    NOT NULL,  -- "sip:alice@example.test" or "global"
    auid         TEXT    NOT NULL,  -- "pres-rules", "resource-lists", ...
    name         TEXT    NOT NULL,  -- "index"
    etag         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    content      BLOB    NOT NULL,
    updated_ms   INTEGER NOT NULL,
    PRIMARY KEY (owner, auid, name)
);
