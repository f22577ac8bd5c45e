/**
 * The no-loss promise of --follow with a state directory, end to end: a kubelet-like writer
 * process writes audit events in CRI format at a steady rate (every 97th event ~40 KiB, split
 * into 16 KiB P parts) and rotates 0.log by rename (rotated files gzipped later), while the
 * router is killed with SIGKILL at random moments and started again on the same state dir.
 *
 * At the end: every event delivered at least once; each run's output in order; nothing a
 * checkpoint on disk covered at the moment of a kill delivered again by the next run (the
 * duplicates are only what the sinks had taken after the last checkpoint write); and the final
 * run's summary counts agree with what it wrote.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, finished, start, tempDir } from '../support/cli';
import { generationOf, readCheckpointEntries, readManifest, readOutput, type StoredCheckpoint, startWriter } from '../support/follow';
import { waitFor } from '../support/wait';

const dir = tempDir('ar-follow-kill-');
afterAll(() => dir.cleanup());

const EVENTS = 1500;

describe('--follow with a state dir through kill -9', () => {
  it('loses nothing across rotations and kills, and replays only what no checkpoint covered', async () => {
    const logDir = join(dir.path, 'pods', 'ns_mcp_uid', 'mcp');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(logDir, { recursive: true });
    const out = join(dir.path, 'audit.jsonl');
    const state = join(dir.path, 'state');
    const config = join(dir.path, 'router.toml');
    writeFileSync(
      config,
      [
        `data_dir = ${JSON.stringify(state)}`,
        '[[sources]]',
        'type = "file"',
        `paths = [${JSON.stringify(join(dir.path, 'pods', '*_*_*', 'mcp', '*.log'))}]`,
        'format = "cri"',
        'streams = ["stderr"]',
        'checkpoint_interval = "200ms"',
        'poll_interval = "50ms"',
        'glob_interval = "100ms"',
        '[sinks.archive]',
        'type = "file"',
        `path = ${JSON.stringify(out)}`,
        'size = false',
        `[dead_letter]\npath = ${JSON.stringify(join(dir.path, 'dead.jsonl'))}`,
      ].join('\n') + '\n',
    );

    interface Kill {
      /** Output events before the kill. */
      before: number;
      /** Checkpoints on disk right after the kill. */
      checkpoints: StoredCheckpoint[];
    }
    const kills: Kill[] = [];
    const random = mulberry32(9);
    let writer: ReturnType<typeof startWriter> | null = null;
    let writerDone = false;
    for (let k = 0; k < 4; k++) {
      const router = start(['-c', config]);
      const done = collect(router, 120_000);
      if (writer === null) {
        // The writer starts once the router follows the (still missing) file: nothing predates it.
        await waitFor(() => started(router), 'the router to start');
        writer = startWriter({ dir: logDir, events: EVENTS, format: 'cri', rotation: 'rename', rotateEvery: 300, bigEvery: 97, perTick: 5, tickMs: 12 });
        void writer.done.then(() => (writerDone = true));
      }
      const target = readOutput(out).seqs.length + 50 + Math.floor(random() * 150);
      await waitFor(() => readOutput(out).seqs.length >= target || writerDone, `router run ${k} to deliver events`);
      router.kill('SIGKILL');
      const r = await done;
      expect(r.signal).toBe('SIGKILL');
      kills.push({ before: readOutput(out).seqs.length, checkpoints: readCheckpointEntries(state, 'file') });
    }

    const router = start(['-c', config]);
    const done = collect(router, 120_000);
    await writer!.done;
    await waitFor(() => new Set(readOutput(out).seqs).size >= EVENTS, 'every event delivered');
    router.kill('SIGTERM');
    const r = await done;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);

    const { seqs, torn } = readOutput(out);
    expect(torn).toBeLessThanOrEqual(kills.length);
    // At least once: every event.
    expect(new Set(seqs).size).toBe(EVENTS);
    expect(Math.min(...seqs)).toBe(0);
    expect(Math.max(...seqs)).toBe(EVENTS - 1);
    // In order within each run; each restart resumes at or before where the last run stopped.
    const bounds = [0, ...kills.map((k) => k.before), seqs.length];
    let highest = -1;
    for (let i = 0; i + 1 < bounds.length; i++) {
      const run = seqs.slice(bounds[i], bounds[i + 1]);
      for (let j = 1; j < run.length; j++) expect(run[j]!, `run ${i} in order`).toBe(run[j - 1]! + 1);
      if (run.length > 0) {
        expect(run[0]!, `run ${i} leaves no gap`).toBeLessThanOrEqual(highest + 1);
        highest = Math.max(highest, run.at(-1)!);
      }
    }
    // Duplicates: only events no checkpoint on disk covered when the router was killed.
    const manifest = readManifest(join(logDir, 'manifest.jsonl'));
    const covered = (seq: number, checkpoints: StoredCheckpoint[]): boolean => {
      const e = manifest.events.get(seq)!;
      const byGen = new Map<number, number>();
      for (const c of checkpoints) {
        const gen = generationOf(c, manifest);
        if (gen !== undefined) byGen.set(gen, c.offset);
      }
      const offset = byGen.get(e.gen);
      // A file no longer in the checkpoints while a later one is was finished and let go.
      return offset !== undefined ? e.end <= offset : [...byGen.keys()].some((g) => g > e.gen);
    };
    let duplicates = 0;
    for (let i = 0; i < kills.length; i++) {
      const seen = new Set(seqs.slice(0, kills[i]!.before));
      const next = seqs.slice(kills[i]!.before, bounds[i + 2]);
      for (const seq of next) {
        if (!seen.has(seq)) continue;
        duplicates++;
        expect(covered(seq, kills[i]!.checkpoints), `event ${seq} replayed after kill ${i} though checkpointed`).toBe(false);
      }
    }
    expect(duplicates).toBe(seqs.length - EVENTS);
    // The final run's summary agrees with what it wrote.
    const summary = finished(r);
    const wrote = seqs.length - kills.at(-1)!.before;
    expect(summary).toMatchObject({ audit: wrote, lost: 0, sinks: { archive: { accepted: wrote, delivered: wrote } } });
    // eslint-disable-next-line no-console
    console.log(`follow-kill: ${EVENTS} events, ${kills.length} kills, ${duplicates} duplicates, ${torn} torn lines`);
  });
});

/** Whether the router logged "started" (its stderr is collected by `collect`). */
function started(router: ReturnType<typeof start>): boolean {
  const seen = router as unknown as { startedSeen?: boolean };
  if (seen.startedSeen === undefined) {
    seen.startedSeen = false;
    router.stderr!.on('data', (b: Buffer) => {
      if (b.toString().includes('"message":"started"')) seen.startedSeen = true;
    });
  }
  return seen.startedSeen;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
