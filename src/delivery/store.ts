/**
 * Where accepted events wait until the receiver acknowledged them. One batch is in flight at a
 * time, always the oldest events, so a store is a FIFO with a cursor: `next` looks at the head,
 * `ack` removes a prefix of what `next` returned.
 */
import { isJsonObject } from '../util/json';
import type { SinkEvent } from '../api/sink';

export interface Entry {
  /** The event, or null when a disk buffer record could not be read back (dead-lettered). */
  readonly event: SinkEvent | null;
  /** Size the event takes in a request (the transport's measure), for batch limits. */
  readonly size: number;
  /** Bytes the entry takes in the store, for queue limits and `bufferedBytes`. */
  readonly stored: number;
}

export interface Store {
  /** Events accepted and not yet acknowledged (in flight included). */
  readonly events: number;
  readonly bytes: number;
  /** Appends one event. A disk store throws when the append failed (the event is not accepted). */
  append(event: SinkEvent, size: number): void;
  /** Up to `maxEvents` entries and `maxBytes` (at least one entry) from the head, without removing them. */
  next(maxEvents: number, maxBytes: number, measure: (event: SinkEvent) => number): Entry[];
  /** Removes `entries`, which must be the head of the store in order. */
  ack(entries: readonly Entry[]): void;
  /** Releases files; what is unacknowledged stays (disk) or is dropped with the process (memory). */
  close(): void;
}

/** Rebuilds a SinkEvent from its JSON (disk buffer replay). Null when it is not a JSON object. */
export function sinkEventFromJson(json: string): SinkEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (!isJsonObject(value)) return null;
  const fields = isJsonObject(value.fields) ? value.fields : value;
  return { record: value, json, fields };
}

export class MemoryStore implements Store {
  private items: Entry[] = [];
  private head = 0;
  events = 0;
  bytes = 0;

  append(event: SinkEvent, size: number): void {
    this.items.push({ event, size, stored: size });
    this.events++;
    this.bytes += size;
  }

  next(maxEvents: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.items.length && out.length < maxEvents; i++) {
      const entry = this.items[i]!;
      if (out.length > 0 && bytes + entry.size > maxBytes) break;
      out.push(entry);
      bytes += entry.size;
    }
    return out;
  }

  ack(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (this.items[this.head] !== entry) throw new Error('delivery: acknowledged entries are not the head of the queue');
      this.head++;
      this.events--;
      this.bytes -= entry.stored;
    }
    // Compact once the consumed prefix dominates, so the array does not grow forever.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  close(): void {}
}
