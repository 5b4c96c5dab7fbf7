/**
 * The bare-client floor of `modbus-tcp` (b) (issue 20), spawned by modbus-tcp.ts as its own
 * process so it does not share an event loop with the bench's responders, as the worker does
 * not. No project code: node's net module and a dozen lines of MBAP.
 *
 *   node dist/scripts/bench/modbus-bare-client.js <seconds> <port> [<port> ...]
 *
 * Each second on the second (one timer, like the worker's scheduler tick) it sends one FC03
 * request (unit 1, registers 8-23, what an hdhk unit's poll reads) to every port at once and
 * times each reply from that tick (performance.now). One JSON line a second on stdout:
 * `{"ms":[...]}`, the round trips in port order; then it exits. A reply that is not the
 * request's (transaction id, function, byte count) ends it with exit 1.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

const [seconds, ...ports] = process.argv.slice(2).map(Number);

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

async function main(): Promise<void> {
  const sockets = await Promise.all(ports.map(open));
  let tid = 0;
  let t0 = 0;
  let times: number[] = [];
  let pending = 0;
  sockets.forEach((socket, i) => {
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      if (buffer.length < 6 || buffer.length < 6 + buffer.readUInt16BE(4)) return;
      times[i] = performance.now() - t0;
      if (buffer.readUInt16BE(0) !== tid || buffer[7] !== 0x03 || buffer[8] !== 32) {
        console.error(`bare client: bad reply on port ${ports[i]}: ${buffer.toString('hex')}`);
        process.exit(1);
      }
      buffer = Buffer.alloc(0);
      if (--pending === 0) console.log(JSON.stringify({ ms: times }));
    });
  });
  const tick = () => {
    t0 = performance.now();
    tid = (tid % 0xffff) + 1;
    times = new Array<number>(sockets.length);
    pending = sockets.length;
    const req = Buffer.from([tid >> 8, tid & 0xff, 0, 0, 0, 6, 1, 0x03, 0, 8, 0, 16]);
    for (const s of sockets) s.write(req);
  };
  // As the worker's PeriodTimer: a timer that fires before the second re-arms without sending.
  const end = Date.now() + seconds! * 1000;
  let due = Math.floor(Date.now() / 1000) * 1000 + 1000;
  const arm = () => {
    if (due > end) {
      // The last second's replies first.
      setTimeout(() => sockets.forEach((s) => s.destroy()), 500);
      return;
    }
    setTimeout(() => {
      const now = Date.now();
      if (now >= due) {
        due = Math.floor(now / 1000) * 1000 + 1000;
        tick();
      }
      arm();
    }, due - Date.now());
  };
  arm();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
