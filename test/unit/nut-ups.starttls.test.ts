/**
 * STARTTLS of the nut-ups session and instant-command client over a real loopback TCP
 * socket. The peer is a small upsd-like server in this file, NOT upsd itself: Debian's upsd
 * would need a certificate database built with NSS (certutil) to offer STARTTLS. It speaks
 * just enough of the protocol: STARTTLS (answered `OK STARTTLS`, then `new tls.TLSSocket`
 * on the same socket with a self-signed certificate made by openssl for this run, or
 * refused with ERR FEATURE-NOT-CONFIGURED), USERNAME/PASSWORD, LIST VAR with a recorded
 * reply, INSTCMD and LOGOUT. It records each command and whether it came over TLS.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { TLSSocket } from 'node:tls';
import { silentLogger } from '../../src/core/log.js';
import { isNutUpsError, nutUpsDriver, type NutUpsSession } from '../../src/devices/nut-ups/index.js';
import { nutUpsVerb } from '../helpers/nut-ups-control.js';
import { NUT_UPS_DEMO_OPTIONS } from '../../src/simulators/nut-ups.js';
import { createSimLink } from '../../src/transports/sim.js';
import { TcpTransport } from '../../src/transports/tcp.js';
import { makeSelfSigned } from '../helpers/self-signed.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = 1_700_000_000_000;
const clock = new FakeClock(T0);
const signal = () => new AbortController().signal;
const cert = makeSelfSigned();
after(() => cert.cleanup());

/** As upsd 2.8 answers `LIST VAR demo` (dummy-ups, trimmed). */
const LIST_VAR_REPLY = [
  'BEGIN LIST VAR demo',
  'VAR demo battery.charge "100"',
  'VAR demo battery.runtime "2460"',
  'VAR demo device.mfr "American Power Conversion"',
  'VAR demo device.model "Smart-UPS 1500"',
  'VAR demo input.voltage "231.2"',
  'VAR demo ups.status "OL"',
  'END LIST VAR demo',
]
  .map((l) => `${l}\n`)
  .join('');

interface FakeUpsd {
  port: number;
  /** Every command line received, with `tls:` or `plain:` in front. */
  seen: string[];
  stop(): Promise<void>;
}

async function fakeUpsd(starttls: 'ok' | 'not-configured'): Promise<FakeUpsd> {
  const seen: string[] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((plain) => {
    sockets.push(plain);
    plain.on('error', () => undefined);
    const serve = (s: Socket, how: 'plain' | 'tls') => {
      let buf = '';
      const onData = (d: Buffer) => {
        buf += d.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          seen.push(`${how}:${line.startsWith('PASSWORD') ? 'PASSWORD' : line}`);
          if (line === 'STARTTLS' && how === 'plain') {
            if (starttls === 'not-configured') {
              s.write('ERR FEATURE-NOT-CONFIGURED\n');
              continue;
            }
            s.off('data', onData);
            s.write('OK STARTTLS\n', () => {
              const secure = new TLSSocket(s, { isServer: true, key: cert.key, cert: cert.cert });
              secure.on('error', () => undefined);
              serve(secure, 'tls');
            });
            return;
          }
          if (line.startsWith('USERNAME') || line.startsWith('PASSWORD')) s.write('OK\n');
          else if (line === 'LIST VAR demo') s.write(LIST_VAR_REPLY);
          else if (/^INSTCMD "?demo"? /.test(line)) s.write('OK\n');
          else if (line === 'LOGOUT') s.end('OK Goodbye\n');
          else s.write('ERR UNKNOWN-COMMAND\n');
        }
      };
      s.on('data', onData);
    };
    serve(plain, 'plain');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    seen,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function session(port: number, options: Record<string, unknown>): NutUpsSession {
  const parsed = nutUpsDriver.options.parse({ ...NUT_UPS_DEMO_OPTIONS, host: '127.0.0.1', port, timeoutMs: 2000, ...options });
  const transport = new TcpTransport({ host: parsed.host, port: parsed.port });
  return nutUpsDriver.createSession({ device: 'rack-ups', options: parsed, tags: {}, transport, clock, log: silentLogger() }) as NutUpsSession;
}

test('tls options: default off, rejectUnauthorized true; unknown keys refused', () => {
  const o = nutUpsDriver.options.parse(NUT_UPS_DEMO_OPTIONS);
  assert.deepEqual(o.tls, { mode: 'off', rejectUnauthorized: true });
  const t = nutUpsDriver.options.parse({ ...NUT_UPS_DEMO_OPTIONS, tls: { mode: 'starttls', ca: '/etc/nut/ca.pem' } });
  assert.deepEqual(t.tls, { mode: 'starttls', ca: '/etc/nut/ca.pem', rejectUnauthorized: true });
  assert.throws(() => nutUpsDriver.options.parse({ ...NUT_UPS_DEMO_OPTIONS, tls: { mode: 'tls' } }));
  assert.throws(() => nutUpsDriver.options.parse({ ...NUT_UPS_DEMO_OPTIONS, tls: { mode: 'starttls', cafile: 'x' } }));
});

test('STARTTLS (in-test upsd-like server, not upsd): OK STARTTLS, handshake, login and LIST VAR inside TLS', async () => {
  const upsd = await fakeUpsd('ok');
  const s = session(upsd.port, { username: 'mon', password: 'secret', tls: { mode: 'starttls', ca: cert.certPath, servername: 'localhost' } });
  try {
    await s.start();
    const { points } = await s.collect(signal());
    assert.equal(points[0]!.fields.battery_charge_pct, 100);
    assert.equal(points[0]!.fields.input_voltage_v, 231.2);
    await s.collect(signal());
    assert.deepEqual(upsd.seen, ['plain:STARTTLS', 'tls:USERNAME "mon"', 'tls:PASSWORD', 'tls:LIST VAR demo', 'tls:LIST VAR demo']);
  } finally {
    await s.close();
    await upsd.stop();
  }
});

test('STARTTLS refused (in-test upsd-like server, not upsd): ERR FEATURE-NOT-CONFIGURED is a tls error, no plaintext fallback', async () => {
  const upsd = await fakeUpsd('not-configured');
  const s = session(upsd.port, { username: 'mon', password: 'secret', tls: { mode: 'starttls' } });
  try {
    await s.start();
    await assert.rejects(s.collect(signal()), (err: unknown) => {
      assert.ok(isNutUpsError(err, 'tls'), String(err));
      assert.match(err.message, /STARTTLS refused by upsd at tcp:127\.0\.0\.1:\d+: upsd has no certificate configured/);
      assert.match(err.message, /not continuing in plaintext/);
      return true;
    });
    // Never a login or a LIST VAR in the clear.
    assert.ok(upsd.seen.length > 0);
    assert.ok(
      upsd.seen.every((l) => l === 'plain:STARTTLS'),
      upsd.seen.join(', '),
    );
  } finally {
    await s.close();
    await upsd.stop();
  }
});

test('STARTTLS with a certificate the client does not trust (in-test upsd-like server, not upsd): a clear tls error, nothing sent in the clear', async () => {
  const upsd = await fakeUpsd('ok');
  const s = session(upsd.port, { username: 'mon', password: 'secret', tls: { mode: 'starttls', servername: 'localhost' } });
  try {
    await s.start();
    await assert.rejects(s.collect(signal()), (err: unknown) => {
      assert.ok(isNutUpsError(err, 'tls'), String(err));
      assert.match(err.message, /TLS to upsd failed: .*server certificate rejected \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
      return true;
    });
    assert.deepEqual(upsd.seen, ['plain:STARTTLS', 'plain:STARTTLS']); // start() tried once, collect() once
  } finally {
    await s.close();
    await upsd.stop();
  }
});

test('tls.ca that cannot be read: one-line error naming the path at session start', async () => {
  const s = session(1, { tls: { mode: 'starttls', ca: '/nonexistent/wattline-ca.pem' } });
  try {
    await assert.rejects(s.start(), (err: unknown) => {
      assert.ok(isNutUpsError(err, 'tls'), String(err));
      assert.match(err.message, /^rack-ups: tls\.ca: cannot read the CA file \/nonexistent\/wattline-ca\.pem: /);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  } finally {
    await s.close();
  }
});

test('tls.mode starttls on a link that cannot carry TLS (sim link) is a tls error', async () => {
  const { host, device } = createSimLink('sim:ups');
  await device.open();
  device.on('data', (d: Buffer) => {
    if (String(d).startsWith('STARTTLS')) void device.write(Buffer.from('OK STARTTLS\n'));
  });
  const parsed = nutUpsDriver.options.parse({ ...NUT_UPS_DEMO_OPTIONS, timeoutMs: 500, tls: { mode: 'starttls' } });
  const s = nutUpsDriver.createSession({ device: 'rack-ups', options: parsed, tags: {}, transport: host, clock, log: silentLogger() }) as NutUpsSession;
  try {
    await assert.rejects(s.collect(signal()), (err: unknown) => isNutUpsError(err, 'tls') && /cannot carry TLS/.test(err.message));
  } finally {
    await s.close();
  }
});

test('instant command over STARTTLS (in-test upsd-like server, not upsd): login and INSTCMD inside TLS; refusal is a tls error', async () => {
  const upsd = await fakeUpsd('ok');
  try {
    const o = nutUpsDriver.options.parse({
      ...NUT_UPS_DEMO_OPTIONS,
      port: upsd.port,
      username: 'admin',
      password: 'pw',
      timeoutMs: 2000,
      commands: { allow: ['beeper.disable'] },
      tls: { mode: 'starttls', ca: cert.certPath, servername: 'localhost' },
    });
    const reply = await nutUpsVerb(o, 'cmd', ['beeper.disable']);
    assert.equal(reply.message, 'OK');
    assert.deepEqual(upsd.seen.slice(0, 4), ['plain:STARTTLS', 'tls:USERNAME "admin"', 'tls:PASSWORD', 'tls:INSTCMD "demo" beeper.disable']);
  } finally {
    await upsd.stop();
  }
  const refusing = await fakeUpsd('not-configured');
  try {
    const o = nutUpsDriver.options.parse({ ...NUT_UPS_DEMO_OPTIONS, port: refusing.port, username: 'admin', password: 'pw', timeoutMs: 2000, commands: { allow: ['beeper.disable'] }, tls: { mode: 'starttls' } });
    await assert.rejects(nutUpsVerb(o, 'cmd', ['beeper.disable']), (err: unknown) => isNutUpsError(err, 'tls') && /no certificate configured/.test(err.message));
    assert.deepEqual(refusing.seen, ['plain:STARTTLS']);
  } finally {
    await refusing.stop();
  }
});
