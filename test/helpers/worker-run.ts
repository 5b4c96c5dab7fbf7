/**
 * A Worker started in-process from a config object (validated like a file), its log lines
 * captured as JSON and every successful collection recorded: what the MQTT tests observe.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { validate, type LoadedConfig } from '../../src/config/load.js';
import type { Driver } from '../../src/devices/types.js';
import { Worker, type JobReport } from '../../src/runtime/worker.js';

export interface RunningWorker {
  worker: Worker;
  reports: JobReport[];
  logs: Record<string, unknown>[];
  /** Log records whose msg matches. */
  logged(msg: RegExp): Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startWorker(raw: unknown, drivers: readonly Driver[], dir: string): Promise<RunningWorker> {
  const loaded: LoadedConfig = { config: validate(raw, drivers, 'test config'), path: null, dir, demo: false };
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const worker = new Worker({ loaded, drivers, log: pino({ level: 'info' }, sink) });
  const reports: JobReport[] = [];
  worker.onCollected((r) => reports.push(r));
  await worker.start();
  return {
    worker,
    reports,
    logs,
    logged: (msg) => logs.filter((l) => typeof l.msg === 'string' && msg.test(l.msg)),
    stop: () => worker.stop(),
  };
}
