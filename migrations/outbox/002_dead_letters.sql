-- Lines the server refused for good (400/422 after bisection), with its answer.
-- They leave only by retry (back to the end of the queue) or purge.
CREATE TABLE dead_letters (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  outbox_id    INTEGER NOT NULL, -- the id it had in outbox, for diagnosis
  line         TEXT    NOT NULL,
  precision    TEXT    NOT NULL,
  bytes        INTEGER NOT NULL,
  committed_ms INTEGER NOT NULL,
  status       INTEGER NOT NULL,
  message      TEXT    NOT NULL,
  time_ms      INTEGER NOT NULL
);

ALTER TABLE outbox_counters ADD COLUMN dead_letters INTEGER NOT NULL DEFAULT 0;
