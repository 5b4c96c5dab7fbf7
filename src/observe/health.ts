/**
 * GET /health's checks, like Telegraf's outputs.health: each failed check is one entry with
 * a name and a sentence; none failed means healthy.
 */
import type { HealthConfig } from '../config/observe.js';
import type { Snapshot } from './snapshot.js';

export interface FailedCheck {
  check: 'outbox_pending_age' | 'output_refused' | 'devices_failing';
  message: string;
}

export function healthChecks(s: Snapshot, h: HealthConfig): { healthy: boolean; failed: FailedCheck[] } {
  const failed: FailedCheck[] = [];
  const oldest = s.outbox?.oldestPendingMs ?? null;
  if (oldest !== null && s.timeMs - oldest > h.maxPendingAgeS * 1000) {
    failed.push({ check: 'outbox_pending_age', message: `oldest pending point is ${Math.round((s.timeMs - oldest) / 1000)}s old (limit ${h.maxPendingAgeS}s)` });
  }
  for (const o of s.outputs) {
    if (o.state === 'refused') failed.push({ check: 'output_refused', message: `${o.output} refuses our writes (${o.lastErrorClass ?? 'refused'})` });
  }
  const limitMs = h.maxDeviceFailureS * 1000;
  if (s.devices.length > 0 && s.devices.every((d) => d.failingSinceMs !== null && s.timeMs - d.failingSinceMs > limitMs)) {
    failed.push({ check: 'devices_failing', message: `every device (${s.devices.length}) has been failing for more than ${h.maxDeviceFailureS}s` });
  }
  return { healthy: failed.length === 0, failed };
}
