-- Points refused because the outbox's filesystem was below outbox.minFreeBytes (issue 23), ever.
ALTER TABLE outbox_counters ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
