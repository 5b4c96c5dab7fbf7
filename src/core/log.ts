import { pino, type Logger as PinoLogger } from 'pino';
import { createRequire } from 'node:module';

export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Keys that may carry secrets; pino replaces them wherever they appear one or two levels down. */
const REDACT = ['token', 'password', 'username', '*.token', '*.password', '*.username', 'headers.authorization', '*.headers.authorization'];

export interface LogOptions {
  level?: LogLevel;
  /** 'pretty' for people (default on a TTY), 'json' for journald/log shippers. */
  format?: 'pretty' | 'json';
  /** Where log lines go; stderr by default so stdout stays clean for line protocol. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  const destination = options.destination ?? process.stderr;
  const format = options.format ?? ((destination as NodeJS.WriteStream).isTTY ? 'pretty' : 'json');
  const base = { level: options.level ?? 'info', redact: { paths: REDACT, censor: '[redacted]' }, base: undefined };
  if (format === 'json') return pino(base, pino.destination({ fd: fdOf(destination), sync: true }));
  // Synchronous pretty stream: no worker thread, so memory stays low on a Pi; loaded only
  // when wanted (it costs ~10 MB resident, a daemon under systemd logs JSON).
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const stream = pretty({ destination, sync: true, colorize: (destination as NodeJS.WriteStream).isTTY ?? false, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return pino(base, stream);
}

function fdOf(stream: NodeJS.WritableStream): number {
  if (stream === process.stdout) return 1;
  return 2;
}

/** A logger that drops everything (tests, `--quiet`). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
