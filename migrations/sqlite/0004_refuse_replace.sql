-- `INSERT OR REPLACE` (and `REPLACE INTO`) resolves a conflict by deleting the old row, which
-- does not fire the delete trigger unless a connection turned recursive_triggers on. Refuse any
-- insert that would meet an existing position or stream version, before conflict resolution.
CREATE TRIGGER events_refuse_replace BEFORE INSERT ON events
WHEN EXISTS (
    SELECT 1 FROM events
    WHERE position = NEW.position OR (stream = NEW.stream AND version = NEW.version)
)
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: an insert over an existing event is refused');
END;
