/**
 * Acknowledgements from the sinks back to the input: which input offsets every sink has taken
 * responsibility for, so a source may checkpoint them.
 *
 * Sinks settle events in the order they accepted them and say how many (`Sink.committed`, a
 * prefix count). After routing the lines of a chunk, the core marks the stream's committable
 * offset together with each sink's `accepted` count at that moment; the mark is settled once every
 * sink's `committed` reached its snapshot. Events a sink hands to the dead letter are only safe
 * once the dead-letter file wrote them, so a settled mark also waits for the dead-letter sink to
 * have written everything it had been given when the mark settled (usually at once: it is idle).
 */
import type { Sink } from '../api/sink';

interface Mark {
  readonly stream: string;
  readonly offset: number;
  /** Each sink's `counters.accepted` when the mark was made. */
  readonly need: readonly number[];
}

/** What a sink has taken responsibility for (see `Sink.committed`). */
export function committedOf(sink: Sink): number {
  return sink.committed ?? sink.counters.delivered + sink.counters.deadLettered;
}

export class AckTracker {
  private readonly marks: Mark[] = [];
  private head = 0;
  private readonly lastMarked = new Map<string, number>();
  /** Marks settled by the sinks, waiting for the dead-letter file to catch up with `dlNeed`. */
  private waiting: { marks: Mark[]; dlNeed: number } | null = null;

  constructor(
    private readonly sinks: readonly Sink[],
    private readonly deadLetterSink: Sink | null,
    private readonly commit: (stream: string, offset: number) => void,
  ) {}

  /** After the lines of `stream` up to `offset` were routed: remember what the sinks must settle. */
  mark(stream: string, offset: number): void {
    if (this.lastMarked.get(stream) === offset) return;
    this.lastMarked.set(stream, offset);
    const need = this.sinks.map((s) => s.counters.accepted);
    this.marks.push({ stream, offset, need });
  }

  /** A stream that ended: nothing more will be marked for it. */
  forget(stream: string): void {
    this.lastMarked.delete(stream);
  }

  /** Hands every mark the sinks (and the dead letter) have settled to `commit`, in order. */
  poll(): void {
    const dl = this.deadLetterSink;
    if (this.waiting !== null) {
      if (dl !== null && committedOf(dl) < this.waiting.dlNeed) return;
      for (const m of this.waiting.marks) this.commit(m.stream, m.offset);
      this.waiting = null;
    }
    const settled: Mark[] = [];
    const committed = this.sinks.map(committedOf);
    while (this.head < this.marks.length) {
      const mark = this.marks[this.head]!;
      if (!mark.need.every((n, i) => committed[i]! >= n)) break;
      settled.push(mark);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.marks.length) {
      this.marks.splice(0, this.head);
      this.head = 0;
    }
    if (settled.length === 0) return;
    const dlNeed = dl === null ? 0 : dl.counters.accepted;
    if (dl !== null && committedOf(dl) < dlNeed) {
      this.waiting = { marks: settled, dlNeed };
      return;
    }
    for (const m of settled) this.commit(m.stream, m.offset);
  }
}
