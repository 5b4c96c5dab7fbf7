/**
 * The floor under poll-cpu's "ms a poll": the least a Node process can spend on one HDHK poll
 * with wattline's durability, written with no project code. Every second on the second it
 * writes the same FC03 request (unit 1, registers 8-23) to the PTY, waits for the 37-byte
 * reply (counted, not parsed), and commits 17 ready-made line-protocol lines the way the
 * outbox does (WAL, `synchronous` as given, SQLite's 2000 KiB cache, one IMMEDIATE
 * transaction: the lines through json_each, a counters row, a device_status row). What
 * wattline spends above this is its own code; what this spends above collectd is Node and a
 * durable commit. poll-cpu.ts starts it beside the workers and reads its polls from
 * device_status as it does theirs.
 *
 *   node dist/scripts/bench/poll-floor.js <pty> <outbox.sqlite> full|normal
 */
import { openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import Database from 'better-sqlite3';

const [path, outboxPath, synchronous = 'full'] = process.argv.slice(2);
if (!path || !outboxPath) throw new Error('usage: poll-floor <pty> <outbox.sqlite> full|normal');

/** Modbus RTU CRC-16 (poly 0xA001 reflected, init 0xFFFF), bitwise: this file shares no code. */
function crc16(bytes: readonly number[]): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
const body = [1, 3, 0, 8, 0, 16];
const crc = crc16(body);
const REQUEST = Buffer.from([...body, crc & 0xff, crc >>> 8]);
const REPLY_BYTES = 3 + 2 * 16 + 2;

const db = new Database(outboxPath);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
db.pragma('cache_size = -2000');
db.exec(`CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL, precision TEXT NOT NULL, bytes INTEGER NOT NULL, committed_ms INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS outbox_counters (id INTEGER PRIMARY KEY, rows INTEGER NOT NULL, bytes INTEGER NOT NULL);
  INSERT OR IGNORE INTO outbox_counters VALUES (1, 0, 0);
  CREATE TABLE IF NOT EXISTS device_status (device TEXT PRIMARY KEY, last_end_ms INTEGER NOT NULL, runs INTEGER NOT NULL, failures INTEGER NOT NULL);`);
const insert = db.prepare('INSERT INTO outbox (line, precision, bytes, committed_ms) SELECT value, ?, octet_length(value) + 1, ? FROM json_each(?)');
const count = db.prepare('UPDATE outbox_counters SET rows = rows + ?, bytes = bytes + ? WHERE id = 1');
const status = db.prepare(
  `INSERT INTO device_status (device, last_end_ms, runs, failures) VALUES (?, ?, 1, 0)
   ON CONFLICT (device) DO UPDATE SET last_end_ms = excluded.last_end_ms, runs = runs + 1`,
);
const LINES = Array.from({ length: 17 }, (_, i) => `hdhk_current,device=board,circuit=circuit-${i + 1},phase=L${(i % 3) + 1},unit=1 current_a=${i}.25,power_w=${i * 57.5} 1765000000000`);
const LINES_JSON = JSON.stringify(LINES);
const LINES_BYTES = LINES.reduce((n, l) => n + l.length + 1, 0);
const commit = db
  .transaction((now: number) => {
    insert.run('ms', now, LINES_JSON);
    count.run(LINES.length, LINES_BYTES);
    status.run('board', now);
  })
  .immediate.bind(null);

const fd = openSync(path, 'r+');
const tty = new ReadStream(fd);
let received = 0;
let answered: (() => void) | undefined;
tty.on('data', (chunk: Buffer) => {
  received += chunk.length;
  if (received >= REPLY_BYTES && answered) answered();
});

async function poll(): Promise<void> {
  received = 0;
  const reply = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 900);
    answered = () => {
      clearTimeout(timer);
      resolve(true);
    };
  });
  writeSync(fd, REQUEST);
  if (await reply) commit(Date.now());
  answered = undefined;
}

function next(): void {
  setTimeout(() => void poll().then(next), 1000 - (Date.now() % 1000));
}
next();
process.on('SIGTERM', () => {
  db.close();
  process.exit(0);
});
