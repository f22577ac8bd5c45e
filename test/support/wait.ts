/**
 * Polls `condition` until it holds, or fails with what was awaited once `timeoutMs` passes. The
 * timeout only catches a hang: tests never assert on how long something took.
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000, pollMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
