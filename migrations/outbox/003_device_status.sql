-- How each device's collections have gone, written by the worker after every job,
-- read by `wattline devices` from another process.
CREATE TABLE device_status (
  device      TEXT PRIMARY KEY,
  ok          INTEGER NOT NULL,
  last_end_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  points      INTEGER NOT NULL,
  error       TEXT,
  runs        INTEGER NOT NULL,
  failures    INTEGER NOT NULL,
  last_ok_ms  INTEGER
);
