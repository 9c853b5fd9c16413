-- A counter per application usage, moved by every write of one of its documents (by
-- triggers, so every writer moves it: the server, `herald rules set` in another
-- process). A running server polls this one row to see that documents changed.

CREATE TABLE document_revisions (
    auid     TEXT    NOT NULL PRIMARY KEY,
    revision INTEGER NOT NULL
);

CREATE TRIGGER documents_revision_insert AFTER INSERT ON documents
BEGIN
    INSERT INTO document_revisions (auid, revision) VALUES (NEW.auid, 1)
        ON CONFLICT (auid) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER documents_revision_update AFTER UPDATE ON documents
BEGIN
    INSERT INTO document_revisions (auid, revision) VALUES (NEW.auid, 1)
        ON CONFLICT (auid) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER documents_revision_delete AFTER DELETE ON documents
BEGIN
    INSERT INTO document_revisions (auid, revision) VALUES (OLD.auid, 1)
        ON CONFLICT (auid) DO UPDATE SET revision = revision + 1;
END;
