-- Raw exchanges of devices with `capture: on` (issue 7), oldest first.
-- cycle: the collect() a poll driver's record belongs to (NULL for stream drivers, one
-- record per telegram); text: 1 when data is telegram text (P1), 0 for raw bytes.
CREATE TABLE captures (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms   INTEGER NOT NULL,
  device    TEXT    NOT NULL,
  driver    TEXT    NOT NULL,
  cycle     INTEGER,
  direction TEXT    NOT NULL, -- 'rx' | 'tx'
  text      INTEGER NOT NULL,
  data      BLOB    NOT NULL
);
CREATE INDEX captures_device_time ON captures (device, time_ms);

-- Running total of stored data bytes, so the size retention never scans the table.
CREATE TABLE capture_counters (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  bytes INTEGER NOT NULL,
  last_cycle INTEGER NOT NULL
);
INSERT INTO capture_counters (id, bytes, last_cycle) VALUES (1, 0, 0);
