-- Pending line protocol, oldest first (DESIGN.md §5).
-- AUTOINCREMENT: ids are never reused, even after the newest rows are deleted,
-- so id order is commit order across acks, drops, retries and restarts.
CREATE TABLE outbox (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  line         TEXT    NOT NULL,
  precision    TEXT    NOT NULL, -- 'ns' | 'us' | 'ms' | 's', checked by the code: a CHECK here halves insert speed
  bytes        INTEGER NOT NULL, -- UTF-8 length of line + 1 for its newline
  committed_ms INTEGER NOT NULL
);

-- Running totals, changed in the same transaction as every change to outbox:
-- stats() and the limits never scan the table, and a crash cannot make them drift.
CREATE TABLE outbox_counters (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  rows    INTEGER NOT NULL,
  bytes   INTEGER NOT NULL,
  dropped INTEGER NOT NULL -- rows dropped because the outbox was full, ever
);
INSERT INTO outbox_counters (id, rows, bytes, dropped) VALUES (1, 0, 0, 0);
