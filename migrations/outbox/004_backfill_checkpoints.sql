-- Where an interrupted backfill run continues (issue 7): the last input position whose
-- points are settled (acknowledged by InfluxDB or committed to this outbox). A finished run
-- deletes its row, so running it again starts from the beginning (and overwrites in InfluxDB).
CREATE TABLE backfill_checkpoints (
  job        TEXT PRIMARY KEY,
  position   INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
