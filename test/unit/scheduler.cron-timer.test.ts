/**
 * cronTimer: the self-metrics schedule ticks as the scheduler's jobs do — a fixed period on
 * PeriodTimer (no croner, so no Intl.DateTimeFormat for a zone: ~6.4 MB of ICU data, issue 24),
 * any other pattern on croner in the zone; a pattern or zone croner refuses is a ConfigError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cron } from 'croner';
import { ConfigError } from '../../src/core/errors.js';
import { PeriodTimer } from '../../src/scheduler/period.js';
import { cronTimer } from '../../src/scheduler/index.js';

const noop = () => undefined;

test('cronTimer: fixed periods (the default */30 s, minutes */15) on PeriodTimer with a zone; others on croner in it', () => {
  for (const pattern of ['*/30 * * * * *', '* * * * * *', '0 */15 * * * *', '*/5 * * * *']) {
    const t = cronTimer(pattern, 'Europe/Amsterdam', noop, 'internal.schedule');
    try {
      assert.ok(t instanceof PeriodTimer, pattern);
    } finally {
      t.stop();
    }
  }
  for (const pattern of ['15 * * * * *', '0 */20 * * * *', '0 0 3 * * *']) {
    const t = cronTimer(pattern, 'Europe/Amsterdam', noop, 'internal.schedule');
    try {
      assert.ok(t instanceof Cron, pattern);
      const next = t.nextRun();
      assert.ok(next && next.getTime() > Date.now(), `${pattern}: next run ${next?.toISOString()}`);
    } finally {
      t.stop();
    }
  }
});

test('cronTimer: a pattern croner refuses, or an unknown zone for a croner pattern, is a one-line ConfigError naming the setting', () => {
  for (const [pattern, zone] of [
    ['61 * * * * *', undefined],
    ['a b c', undefined],
    ['15 * * * * *', 'Mars/Olympus_Mons'],
  ] as const) {
    assert.throws(
      () => cronTimer(pattern, zone, noop, 'internal.schedule').stop(),
      (err: unknown) => err instanceof ConfigError && err.message.startsWith('internal.schedule: ') && !err.message.includes('\n'),
      `${pattern} ${zone ?? ''}`,
    );
  }
});
