/**
 * The two waiting primitives every sink needs, written once: a list of callers parked until a
 * condition holds (`drain()`, "idle"), and a bounded wait that gives up at a deadline (shutdown).
 * Used by the line writer (file, stdout) and the delivery layer (network sinks) alike.
 */

/** Callers parked until `release()`; each `wait()` resolves exactly once. */
export class Waiters {
  private parked: Array<() => void> = [];

  /** A promise that resolves at the next `release()`. */
  wait(): Promise<void> {
    return new Promise((resolve) => this.parked.push(resolve));
  }

  get size(): number {
    return this.parked.length;
  }

  /** Resolves every parked caller. Callers parked while releasing wait for the next release. */
  release(): void {
    if (this.parked.length === 0) return;
    const parked = this.parked;
    this.parked = [];
    for (const resolve of parked) resolve();
  }
}

/**
 * Waits for `work` until `deadline` (ms since the epoch). Resolves `'done'` when it settled first,
 * `'expired'` when the deadline came first; the timer never outlives the wait. A rejection of
 * `work` is passed on.
 */
export async function untilDeadline(work: Promise<unknown>, deadline: number): Promise<'done' | 'expired'> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work.then(() => 'done' as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}
