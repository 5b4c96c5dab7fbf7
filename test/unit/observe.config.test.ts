import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { drivers } from '../../src/devices/index.js';

const problem = (raw: unknown): string => {
  try {
    validate(raw, drivers, 'w.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  throw new Error('accepted');
};

test('defaults: self-metrics on every 30 s, HTTP off, health thresholds and the log reminder as documented', () => {
  const c = validate({}, drivers, 'w.yaml');
  assert.deepEqual(c.internal, { enabled: true, schedule: '*/30 * * * * *' });
  assert.equal(c.http, undefined);
  assert.deepEqual(c.health, { maxPendingAgeS: 900, maxDeviceFailureS: 600 });
  assert.equal(c.log.reminderS, 300);
  assert.deepEqual(validate({ http: {} }, drivers, 'w.yaml').http, { listen: '127.0.0.1:9464', allowNonLoopback: false, maxConnections: 16, requestTimeoutMs: 5000 });
});

test('http.listen: loopback unless allowNonLoopback says otherwise; host:port checked', () => {
  assert.match(problem({ http: { listen: '0.0.0.0:9464' } }), /http\.listen.*0\.0\.0\.0 is not a loopback address: set http\.allowNonLoopback: true/);
  assert.equal(validate({ http: { listen: '0.0.0.0:9464', allowNonLoopback: true } }, drivers, 'w.yaml').http?.listen, '0.0.0.0:9464');
  assert.equal(validate({ http: { listen: '[::1]:9464' } }, drivers, 'w.yaml').http?.listen, '[::1]:9464');
  assert.match(problem({ http: { listen: '9464' } }), /http\.listen.*host:port/);
  assert.match(problem({ http: { listen: '127.0.0.1:70000' } }), /http\.listen.*port 70000 is above 65535/);
  assert.match(problem({ http: { listen: '127.0.0.1:9464', extra: 1 } }), /http/);
});

test('internal.schedule: a bad cron expression is a config error naming the path', () => {
  assert.match(problem({ internal: { schedule: 'every minute' } }), /internal\.schedule.*not a cron expression/);
});
