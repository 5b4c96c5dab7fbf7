/**
 * Messages waiting for the broker, bounded and coalesced by topic: a newer message for a topic
 * replaces the waiting one (state is "latest value", so a slow broker gets the newest reading,
 * not a backlog), and when the queue is full the oldest waiting message is dropped and counted.
 * Collection never waits on this: push() is O(1) and never blocks.
 */
export interface OutMessage {
  topic: string;
  payload: string;
  retain: boolean;
  qos: 0 | 1 | 2;
}

export class MessageQueue {
  private readonly waiting = new Map<string, OutMessage>();
  /** Messages thrown away because the queue was full. */
  dropped = 0;
  /** Messages replaced by a newer one for the same topic before they were sent. */
  superseded = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.waiting.size;
  }

  push(message: OutMessage): void {
    if (this.waiting.delete(message.topic)) this.superseded++;
    else if (this.waiting.size >= this.max) {
      const oldest = this.waiting.keys().next().value as string;
      this.waiting.delete(oldest);
      this.dropped++;
    }
    this.waiting.set(message.topic, message);
  }

  shift(): OutMessage | undefined {
    const first = this.waiting.entries().next();
    if (first.done) return undefined;
    this.waiting.delete(first.value[0]);
    return first.value[1];
  }
}
