/** Shared set-up for the itho-wpu tests: a temp folder with the demo map, a session factory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { ithoWpuDriver, type IthoWpuOptions } from '../../src/devices/itho-wpu/index.js';
import type { IthoWpuSession } from '../../src/devices/itho-wpu/session.js';
import type { CaptureRecord } from '../../src/devices/types.js';
import { writeDemoParameterMap } from '../../src/simulators/itho-demo-map.js';
import type { Transport } from '../../src/transports/transport.js';

export interface IthoDir {
  dir: string;
  map: string;
  cache: string;
  remove(): void;
}

export function ithoDir(): IthoDir {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-itho-'));
  const map = join(dir, 'map.sqlite');
  writeDemoParameterMap(map);
  return { dir, map, cache: join(dir, 'cache.sqlite'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function ithoOptions(d: IthoDir, extra: Record<string, unknown> = {}): IthoWpuOptions {
  return ithoWpuDriver.options.parse({ parameterMap: d.map, cacheDb: d.cache, replyTimeoutMs: 100, retryDelayMs: 5, ...extra });
}

export function ithoSession(transport: Transport, options: IthoWpuOptions, device = 'wpu', captures?: CaptureRecord[]): IthoWpuSession {
  return ithoWpuDriver.createSession({
    device,
    options,
    tags: { site: 'test' },
    transport,
    clock: systemClock,
    log: silentLogger(),
    ...(captures ? { capture: (direction, data, timeMs) => captures.push({ direction, data: Buffer.from(data), timeMs }) } : {}),
  }) as IthoWpuSession;
}
