/** The process's own figures: memory, CPU, event-loop delay, uptime. */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface ProcessFigures {
  rssBytes: number;
  heapUsedBytes: number;
  /** User + system CPU since the process started. */
  cpuSeconds: number;
  /** 99th percentile of the event-loop delay over the last window (about a minute, sampled every 5 s), ms. */
  eventLoopDelayP99Ms: number;
  uptimeS: number;
}

/** Event-loop delay sampling period, ms. */
const SAMPLE_MS = 5000;

/** A window shorter than this is not reset when read, so frequent readers (scrapes) share one window. */
const WINDOW_MS = 60_000;

export class ProcessWatch {
  /**
   * Sampled every 5 s: each sample is a timer wake-up of a worker that otherwise wakes only
   * for its polls. In an otherwise idle Node 20 process, sampling every 20 ms cost ~2.7 ms of
   * CPU a second, every 500 ms ~0.1 ms (measured over 20 s each); on the poll-cpu bench's
   * 2-core VM each wake-up costs ≈ 0.05–0.1 ms, so 0.5 s sampling was a tenth of a poll's
   * CPU (issue 24). A stall that covers a sample's due time makes that sample late by what
   * was left of it: stalls of 5 s or more always show, shorter ones as often as they happen
   * to cover a sample.
   */
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: SAMPLE_MS });
  private windowStart = Date.now();
  private lastP99Ms = 0;

  start(): void {
    this.histogram.enable();
  }

  stop(): void {
    this.histogram.disable();
  }

  figures(): ProcessFigures {
    const now = Date.now();
    if (this.histogram.count > 0) this.lastP99Ms = this.histogram.percentile(99) / 1e6;
    if (now - this.windowStart >= WINDOW_MS) {
      this.histogram.reset();
      this.windowStart = now;
    }
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    return {
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      eventLoopDelayP99Ms: Math.round(this.lastP99Ms * 1000) / 1000,
      uptimeS: Math.round(process.uptime()),
    };
  }
}
