/**
 * Retry delays: from `min`, doubling up to `max`; back to `min` after a success. Used where a
 * lost connection is retried for as long as it takes (MQTT reconnects, the P1 port's reopen);
 * the InfluxDB flusher has its own, jittered, because many workers may retry one server.
 */
export class Backoff {
  private delay: number;

  constructor(
    private readonly min: number,
    private readonly max: number,
  ) {
    this.delay = min;
  }

  next(): number {
    const d = this.delay;
    this.delay = Math.min(d * 2, this.max);
    return d;
  }

  reset(): void {
    this.delay = this.min;
  }
}
