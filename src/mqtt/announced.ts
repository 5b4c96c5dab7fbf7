/**
 * What this worker has announced to Home Assistant and left retained on the broker, per
 * device, kept in a small JSON file beside the outbox. When a device is gone from the config,
 * its discovery configs and retained states are cleared with empty retained messages (which
 * is how Home Assistant removes an entity), then forgotten.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

interface FileShape {
  version: 1;
  /** Device name → retained topics (discovery configs, states) this worker published. */
  devices: Record<string, string[]>;
}

export class AnnouncedTopics {
  private readonly devices = new Map<string, Set<string>>();
  private dirty = false;

  /** `path` null: remember in memory only. A missing or unreadable file starts empty (logged by the caller). */
  constructor(private readonly path: string | null) {}

  load(): string | undefined {
    if (!this.path) return undefined;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return `${this.path}: cannot read: ${(err as Error).message}`;
    }
    try {
      const data = JSON.parse(text) as FileShape;
      for (const [device, topics] of Object.entries(data.devices ?? {})) {
        if (Array.isArray(topics)) this.devices.set(device, new Set(topics.filter((t) => typeof t === 'string')));
      }
      return undefined;
    } catch (err) {
      return `${this.path}: not valid JSON (${(err as Error).message}); starting afresh`;
    }
  }

  /** Record a retained topic; true when it is new (the file needs saving). */
  add(device: string, topic: string): boolean {
    let set = this.devices.get(device);
    if (!set) this.devices.set(device, (set = new Set()));
    if (set.has(topic)) return false;
    set.add(topic);
    this.dirty = true;
    return true;
  }

  /** Devices remembered but not configured any more, with their topics (kept until forget()). */
  stale(configured: ReadonlySet<string>): { device: string; topics: string[] }[] {
    return [...this.devices].filter(([device]) => !configured.has(device)).map(([device, topics]) => ({ device, topics: [...topics] }));
  }

  /** The retained topics remembered for a device. */
  topics(device: string): string[] {
    return [...(this.devices.get(device) ?? [])];
  }

  /** After the broker took the empty retained messages of a removed device. */
  forget(device: string): void {
    if (this.devices.delete(device)) this.dirty = true;
  }

  /** Write the file when something changed (atomic: temp file and rename). */
  save(): void {
    if (!this.path || !this.dirty) return;
    const data: FileShape = { version: 1, devices: Object.fromEntries([...this.devices].map(([d, t]) => [d, [...t].sort()])) };
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 1) + '\n');
    renameSync(tmp, this.path);
    this.dirty = false;
  }
}
