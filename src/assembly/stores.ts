/** The SQLite files a config names: the outbox, the backfill file beside it, the capture archive. */
import type { Logger } from '../core/log.js';
import { resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { openCaptureStore, type CaptureStore } from '../outbox/capture-store.js';
import { backfillOutboxPath, PriorityOutbox } from '../outbox/priority-outbox.js';
import { openSqliteOutbox } from '../outbox/sqlite-outbox.js';
import type { Outbox } from '../outbox/types.js';

/** The live outbox with the backfill file beside it (sent only when nothing live is pending). */
export function prioritised(outbox: Outbox, outboxPath: string, limits: { maxRows: number; maxBytes: number; synchronous: 'full' | 'normal'; minFreeBytes?: number | undefined }): Outbox {
  return new PriorityOutbox(outbox, backfillOutboxPath(outboxPath), (path) => openSqliteOutbox(path, limits, { synchronous: limits.synchronous, minFreeBytes: limits.minFreeBytes }));
}

/** The capture archive named by the config's `capture:` section. */
export function openCaptures(loaded: LoadedConfig): CaptureStore {
  const c = loaded.config.capture;
  return openCaptureStore(resolveConfigPath(loaded, c.path), { maxAgeMs: c.maxAgeDays * 86_400_000, maxBytes: c.maxBytes });
}

/** The worker's outbox: the config's file, limits and durability. */
export function openOutbox(loaded: LoadedConfig, log: Logger): { path: string; outbox: Outbox } {
  const c = loaded.config.outbox;
  const path = resolveConfigPath(loaded, c.path);
  return { path, outbox: openSqliteOutbox(path, { maxRows: c.maxRows, maxBytes: c.maxBytes }, { synchronous: c.synchronous, minFreeBytes: c.minFreeBytes, log: log.child({ room: 'outbox' }) }) };
}
