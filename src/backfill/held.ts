/**
 * The HeldHandles of one decode run (`backfill`, `decode`): what a decoder opened once and
 * keeps for the following polls — opening the Itho parameter map per poll was most of a
 * backfill's time — closed together when the run ends.
 */
import type { HeldHandles } from '../devices/types.js';

export class HeldOpen implements HeldHandles {
  private readonly open = new Map<string, { close(): void }>();

  get<T extends { close(): void }>(key: string, open: () => T): T {
    let h = this.open.get(key);
    if (!h) {
      h = open();
      this.open.set(key, h);
    }
    return h as T;
  }

  close(): void {
    const all = [...this.open.values()];
    this.open.clear();
    for (const h of all) h.close();
  }
}
