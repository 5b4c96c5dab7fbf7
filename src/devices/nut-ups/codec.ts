/**
 * upsd's network protocol, pure (no I/O, no clock): tokenising
 * with double quotes and backslash escapes, `BEGIN LIST … / END LIST …` blocks and `ERR`
 * replies (NUT developer guide, "Network protocol information": docs/net-protocol.txt).
 *
 * Replies are LF-terminated lines of space-separated words; a word with spaces is quoted
 * with `"`, and inside quotes `\"` and `\\` stand for `"` and `\`.
 */
import { FrameError, WattlineError } from '../../core/errors.js';
import { LineFramer } from './framer.js';

/** upsd's error codes (net-protocol.txt, "Error responses"); others are kept as they come. */
export const NUT_ERROR_CODES = [
  'ACCESS-DENIED',
  'UNKNOWN-UPS',
  'VAR-NOT-SUPPORTED',
  'CMD-NOT-SUPPORTED',
  'INVALID-ARGUMENT',
  'INSTCMD-FAILED',
  'SET-FAILED',
  'READONLY',
  'TOO-LONG',
  'FEATURE-NOT-SUPPORTED',
  'FEATURE-NOT-CONFIGURED',
  'ALREADY-SSL-MODE',
  'DRIVER-NOT-CONNECTED',
  'DATA-STALE',
  'ALREADY-LOGGED-IN',
  'INVALID-PASSWORD',
  'ALREADY-SET-PASSWORD',
  'INVALID-USERNAME',
  'ALREADY-SET-USERNAME',
  'USERNAME-REQUIRED',
  'PASSWORD-REQUIRED',
  'UNKNOWN-COMMAND',
  'INVALID-VALUE',
] as const;

export type NutErrorCode = (typeof NUT_ERROR_CODES)[number] | (string & {});

/** An `ERR <code> [extra]` reply from upsd. `code` is what callers branch on. */
export class NutError extends WattlineError {
  override name = 'NutError';
  constructor(
    readonly nutCode: NutErrorCode,
    readonly extra: string | undefined,
    message?: string,
  ) {
    super(message ?? `upsd: ERR ${nutCode}${extra ? ` ${extra}` : ''}`, `nut.${nutCode}`);
  }
}

/** Splits one reply line into words: quotes group, `\` escapes the next character. */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\') {
      if (i + 1 >= line.length) throw new FrameError(`upsd reply ends in a lone backslash: ${show(line)}`, 'syntax');
      word += line[++i];
      inWord = true;
    } else if (c === '"') {
      quoted = !quoted;
      inWord = true;
    } else if ((c === ' ' || c === '\t') && !quoted) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quoted) throw new FrameError(`upsd reply has an unclosed quote: ${show(line)}`, 'syntax');
  if (inWord) words.push(word);
  return words;
}

/** Quotes a word for a request (usernames, passwords, UPS names) as upsd expects. */
export function quote(word: string): string {
  if (/[\r\n]/.test(word)) throw new RangeError('a NUT request word cannot contain a line break');
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `ERR <code> …` → NutError; anything else → undefined. */
export function parseErr(line: string): NutError | undefined {
  const words = tokenize(line);
  if (words[0] !== 'ERR') return undefined;
  const code = words[1] ?? 'UNKNOWN';
  return new NutError(code, words.length > 2 ? words.slice(2).join(' ') : undefined);
}

export type ListKind = 'VAR' | 'UPS' | 'CMD';

/**
 * One reply to `LIST VAR <ups>`, `LIST CMD <ups>` (entries: command name → '') or `LIST UPS`, assembled from lines as they come:
 * `push(line)` returns the result once the block (or an ERR in its place) is complete.
 */
export type ListOutcome = { done: false } | { done: true; ok: true; entries: Map<string, string> } | { done: true; ok: false; error: NutError };

export class ListReader {
  private started = false;
  private readonly entries = new Map<string, string>();
  private readonly head: string[];

  /** kind VAR or CMD with the UPS name, or kind UPS. */
  constructor(
    readonly kind: ListKind,
    readonly ups?: string,
  ) {
    this.head = kind === 'UPS' ? ['UPS'] : [kind, ups ?? ''];
  }

  push(line: string): ListOutcome {
    const words = tokenize(line);
    if (words.length === 0) return { done: false };
    if (!this.started) {
      if (words[0] === 'ERR') return { done: true, ok: false, error: parseErr(line)! };
      if (words[0] === 'BEGIN' && words[1] === 'LIST' && this.matches(words.slice(2))) {
        this.started = true;
        return { done: false };
      }
      throw new FrameError(`upsd: expected BEGIN LIST ${this.head.join(' ')}, got ${show(line)}`, 'unexpected');
    }
    if (words[0] === 'END' && words[1] === 'LIST' && this.matches(words.slice(2))) {
      return { done: true, ok: true, entries: this.entries };
    }
    if (this.kind === 'VAR') {
      // VAR <ups> <name> "<value>"
      if (words[0] !== 'VAR' || words[1] !== this.ups || words.length !== 4) throw new FrameError(`upsd: bad line in LIST VAR ${this.ups}: ${show(line)}`, 'syntax');
      this.entries.set(words[2]!, words[3]!);
    } else if (this.kind === 'CMD') {
      // CMD <ups> <command>
      if (words[0] !== 'CMD' || words[1] !== this.ups || words.length !== 3) throw new FrameError(`upsd: bad line in LIST CMD ${this.ups}: ${show(line)}`, 'syntax');
      this.entries.set(words[2]!, '');
    } else {
      // UPS <name> "<description>"
      if (words[0] !== 'UPS' || words.length < 2) throw new FrameError(`upsd: bad line in LIST UPS: ${show(line)}`, 'syntax');
      this.entries.set(words[1]!, words[2] ?? '');
    }
    return { done: false };
  }

  private matches(rest: string[]): boolean {
    return rest.length === this.head.length && rest.every((w, i) => w === this.head[i]);
  }
}

/** Parses a whole recorded reply (lines joined by LF) in one go; for tests and `decode`. */
export function parseList(kind: ListKind, ups: string | undefined, text: string): Map<string, string> {
  const reader = new ListReader(kind, ups);
  for (const line of new LineFramer().push(text.endsWith('\n') ? text : `${text}\n`)) {
    const out = reader.push(line);
    if (out.done) {
      if (!out.ok) throw out.error;
      return out.entries;
    }
  }
  throw new FrameError(`upsd: LIST ${kind} reply has no END`, 'truncated');
}

// ---- Instant commands (net-protocol.txt: LIST CMD, GET CMDDESC, INSTCMD; USERNAME/PASSWORD) ----

/** An instant command name as NUT spells them (`test.battery.start`, `load.off.delay`). */
export const CMD_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function checkCmd(cmd: string): void {
  if (!CMD_NAME.test(cmd)) throw new RangeError(`not an instant command name: ${JSON.stringify(cmd)} (letters, digits, . _ -)`);
}

/** `USERNAME` then `PASSWORD`, as upsd wants them before INSTCMD (LOGIN is not needed). */
export function loginRequests(username: string | undefined, password: string | undefined): string[] {
  const out: string[] = [];
  if (username !== undefined) out.push(`USERNAME ${quote(username)}`);
  if (password !== undefined) out.push(`PASSWORD ${quote(password)}`);
  return out;
}

/** `LIST CMD <ups>`: its reply is read with `new ListReader('CMD', ups)`. */
export function listCmdRequest(ups: string): string {
  return `LIST CMD ${quote(ups)}`;
}

/** `GET CMDDESC <ups> <cmd>`: its reply is read with readCmdDesc. */
export function cmdDescRequest(ups: string, cmd: string): string {
  checkCmd(cmd);
  return `GET CMDDESC ${quote(ups)} ${cmd}`;
}

/** `INSTCMD <ups> <cmd> [value]`: its reply is read with readInstcmdReply. */
export function instcmdRequest(ups: string, cmd: string, value?: string): string {
  checkCmd(cmd);
  return `INSTCMD ${quote(ups)} ${cmd}${value !== undefined ? ` ${quote(value)}` : ''}`;
}

/** A one-line reply: the value, or the ERR as a NutError. */
export type LineReply<T> = { ok: true; value: T } | { ok: false; error: NutError };

/** An accepted INSTCMD: `OK`, or `OK TRACKING <id>` when the client turned TRACKING on. */
export interface InstcmdAccepted {
  /** upsd's line as it came, e.g. `OK` or `OK TRACKING 2DDC5036-…`. */
  line: string;
  tracking?: string;
}

/** Reads the reply to INSTCMD (also good for USERNAME/PASSWORD, which answer `OK`). */
export function readInstcmdReply(line: string): LineReply<InstcmdAccepted> {
  const err = parseErr(line);
  if (err) return { ok: false, error: err };
  const words = tokenize(line);
  if (words[0] === 'OK' && words.length === 1) return { ok: true, value: { line } };
  if (words[0] === 'OK' && words[1] === 'TRACKING' && words.length === 3) return { ok: true, value: { line, tracking: words[2]! } };
  throw new FrameError(`upsd: expected OK or ERR, got ${show(line)}`, 'unexpected');
}

/** Reads the reply to `GET CMDDESC <ups> <cmd>`: `CMDDESC <ups> <cmd> "<description>"`. */
export function readCmdDesc(line: string, ups: string, cmd: string): LineReply<string> {
  const err = parseErr(line);
  if (err) return { ok: false, error: err };
  const words = tokenize(line);
  if (words[0] !== 'CMDDESC' || words[1] !== ups || words[2] !== cmd || words.length !== 4) throw new FrameError(`upsd: expected CMDDESC ${ups} ${cmd}, got ${show(line)}`, 'unexpected');
  return { ok: true, value: words[3]! };
}

function show(line: string): string {
  return JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line);
}
