-- Where an interrupted backfill run continues (issue 7): the last input position whose
-- points are committed, written in the same transaction as those points. A finished run
-- deletes its row, so running it again starts from the beginning (and overwrites in InfluxDB).
CREATE TABLE backfill_checkpoints (
  job        TEXT PRIMARY KEY,
  position   INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
