/**
 * The small SQLite cache of what a WPU tells once (docs/protocols/itho-wpu.md §4.6: the original kept
 * itho-wpu-cache.json): node id, serial and the datatype list, per device, as raw payloads.
 * Schema: migrations/itho-cache/. Refreshed by the session when the datalog length stops
 * matching the datatype widths.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, errorMessage } from '../../core/errors.js';
import { applyMigrations, migrationsDir } from '../../sqlite/migrate.js';

export interface Identity {
  nodeid: Buffer;
  serial: Buffer | null;
  datatype: Buffer;
  updatedMs: number;
}

export class IdentityCache {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string, { readonly = false } = {}): IdentityCache {
    try {
      if (!readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      const db = new Database(path, readonly ? { readonly: true, fileMustExist: true } : {});
      if (!readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 2000');
        applyMigrations(db, migrationsDir('itho-cache'));
      }
      return new IdentityCache(db);
    } catch (err) {
      throw new ConfigError(`itho-wpu cache ${path}: cannot open: ${errorMessage(err)}`, { cause: err });
    }
  }

  /**
   * For `wattline test` (ctx.readOnly): the device's cached identity, if the file has one, in a
   * cache held in memory; what the session learns is forgotten with it, the file never changes.
   */
  static memoryCopy(path: string, device: string): IdentityCache {
    const memory = IdentityCache.open(':memory:');
    if (existsSync(path)) {
      const file = IdentityCache.open(path, { readonly: true });
      try {
        const identity = file.get(device);
        if (identity) memory.put(device, identity);
      } finally {
        file.close();
      }
    }
    return memory;
  }

  get(device: string): Identity | undefined {
    const row = this.db.prepare('SELECT nodeid, serial, datatype, updated_ms FROM wpu_identity WHERE device = ?').get(device) as
      { nodeid: Buffer; serial: Buffer | null; datatype: Buffer; updated_ms: number } | undefined;
    return row ? { nodeid: row.nodeid, serial: row.serial, datatype: row.datatype, updatedMs: row.updated_ms } : undefined;
  }

  put(device: string, id: Identity): void {
    this.db
      .prepare(
        'INSERT INTO wpu_identity (device, nodeid, serial, datatype, updated_ms) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT(device) DO UPDATE SET nodeid = excluded.nodeid, serial = excluded.serial, datatype = excluded.datatype, updated_ms = excluded.updated_ms',
      )
      .run(device, id.nodeid, id.serial, id.datatype, id.updatedMs);
  }

  forget(device: string): void {
    this.db.prepare('DELETE FROM wpu_identity WHERE device = ?').run(device);
  }

  close(): void {
    this.db.close();
  }
}
