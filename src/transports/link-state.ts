/**
 * Whether a device's link works, for the log: a network link that fails every poll or every
 * reconnect attempt logs one warning when it goes down and one line when it is back (with how
 * many reconnects it took and how long it was down), the attempts in between at debug. The
 * counting is the session's (its stats()); this only decides what is worth a log line.
 */
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Transport } from './transport.js';

export class LinkState {
  private downSinceMs: number | undefined;
  private attempts = 0;
  /** reset() is closing the link: the session's 'close' handler has nothing to add. */
  resetting = false;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  get isDown(): boolean {
    return this.downSinceMs !== undefined;
  }

  /** The link failed (closed, quiet, no reply): a warning on the first failure, debug after. */
  down(nowMs: number, reason: string, fields: Record<string, unknown> = {}): void {
    if (this.downSinceMs === undefined) {
      this.downSinceMs = nowMs;
      this.attempts = 0;
      this.log.warn({ ...fields, reason }, `${this.what} down; reconnecting`);
      return;
    }
    this.log.debug({ ...fields, reason, attempts: this.attempts }, `${this.what} still down`);
  }

  /**
   * A connection that looks open but got no answer (a gateway rebooted, a relay froze: no FIN):
   * down, and closed so that the next use connects afresh.
   */
  async reset(transport: Transport, nowMs: number, reason: string): Promise<void> {
    this.down(nowMs, reason, { port: transport.key });
    this.resetting = true;
    try {
      await transport.close();
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, `${this.what}: close failed`);
    } finally {
      this.resetting = false;
    }
  }

  /** A reconnect was made (or tried) while down. */
  attempt(): void {
    if (this.downSinceMs !== undefined) this.attempts++;
  }

  /** The device answers again: one info line if it had been down. */
  up(nowMs: number, fields: Record<string, unknown> = {}): void {
    if (this.downSinceMs === undefined) return;
    this.log.info({ ...fields, reconnects: this.attempts, downS: Math.round((nowMs - this.downSinceMs) / 1000) }, `${this.what} back`);
    this.downSinceMs = undefined;
  }
}
