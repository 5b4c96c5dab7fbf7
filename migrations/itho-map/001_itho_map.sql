-- The Itho parameter map (protocols.md §4.5), converted from the service tool's
-- `$_parameters_HeatPump.par`. Fixed part only: the per-version tables (datalabel_vN,
-- parameterlijst_vN, handbed_vN, counters_vN) are created by src/itho-par/ because their
-- names come from the Access file.

-- One row per list version: which table version holds its labels, settings, manual
-- operations and counters. `INTERGER` is the original converter's spelling, kept so the
-- schema reads as documented; SQLite gives it INTEGER affinity all the same.
CREATE TABLE versiebeheer (
  version INTEGER PRIMARY KEY,
  datalabel INTEGER,
  parameterlist INTEGER,
  handbed INTEGER,
  counters INTERGER
);

-- Where the map came from (source file, size, conversion time, tool): for people, not for
-- the driver.
CREATE TABLE itho_map_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
