/**
 * When each pending event was accepted, kept only while metrics are on, so a sink can report
 * accepted → delivered times (audit_router_sink_delivery_seconds). Events leave a sink in the
 * order they came (written, acknowledged or given up), so a FIFO of runs `[time, count]` is
 * enough: events accepted in the same millisecond share one run, and memory is bounded by the
 * sink's own queue.
 */
import type { DeliveryLatency } from '../api/sink';

export class AcceptClock {
  private times: number[] = [];
  private counts: number[] = [];
  private head = 0;

  constructor(private readonly latency: DeliveryLatency) {}

  /** `events` accepted now (or at `at`, for events replayed from a disk buffer). */
  accepted(events = 1, at = Date.now()): void {
    const last = this.times.length - 1;
    if (last >= this.head && this.times[last] === at) this.counts[last]! += events;
    else {
      this.times.push(at);
      this.counts.push(events);
    }
  }

  /** The oldest `events` were delivered: report how long they waited. */
  delivered(events: number): void {
    this.take(events, Date.now());
  }

  /** The oldest `events` left without being delivered (dead-lettered, failed). */
  discarded(events: number): void {
    this.take(events, null);
  }

  private take(events: number, now: number | null): void {
    while (events > 0 && this.head < this.times.length) {
      const n = Math.min(events, this.counts[this.head]!);
      if (now !== null) this.latency.delivered(Math.max(0, now - this.times[this.head]!) / 1000, n);
      events -= n;
      this.counts[this.head]! -= n;
      if (this.counts[this.head] === 0) this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.counts = this.counts.slice(this.head);
      this.head = 0;
    }
  }
}
