-- What the itho-wpu driver reads from a WPU once and keeps: the node-id, serial and
-- datatype replies' payloads as received (decoded again on load, so a fixed decoder
-- applies to old rows too). One row per configured device.
CREATE TABLE wpu_identity (
  device      TEXT PRIMARY KEY,
  nodeid      BLOB NOT NULL,
  serial      BLOB,
  datatype    BLOB NOT NULL,
  updated_ms  INTEGER NOT NULL
) STRICT;
