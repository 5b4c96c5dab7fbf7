/**
 * Retry delays: from `min`, doubling up to `max`; back to `min` after a success. Used where a
 * lost connection is retried for as long as it takes (MQTT reconnects, the P1 port's reopen,
 * network links); the InfluxDB flusher has its own, jittered, because many workers may retry
 * one server.
 *
 * `jitter` (0…1): each delay is drawn from [(1 - jitter) × d, d], so devices that lost one
 * gateway together do not knock on it together (network links use 0.5). The doubling goes on
 * from the undrawn delay, so jitter never stretches the series.
 */
export class Backoff {
  private delay: number;

  constructor(
    private readonly min: number,
    private readonly max: number,
    private readonly jitter = 0,
    private readonly random: () => number = Math.random,
  ) {
    this.delay = min;
  }

  next(): number {
    const d = this.delay;
    this.delay = Math.min(d * 2, this.max);
    return this.jitter > 0 ? Math.round(d * (1 - this.jitter * this.random())) : d;
  }

  reset(): void {
    this.delay = this.min;
  }
}
