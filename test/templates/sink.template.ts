/**
 * A test template for a new sink (copy to test/unit/sinks/<type>.test.ts and to
 * test/e2e/<type>.test.ts, then replace the stdout sink with yours). Typechecked with the rest of
 * the tests, never run itself (its name does not end in .test.ts).
 *
 * 1. Unit: build the sink straight from its module with a collecting dead letter; assert exact
 *    counters and what reached the destination. A real destination, not a mock: a temp file, a
 *    receiver from test/support/ that speaks the protocol byte for byte.
 * 2. End to end: through bin/audit-router with a config file; assert the exit status, the
 *    `finished` line's counters, the output, and that no planted secret appears anywhere.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createSink } from '../../sinks/stdout';
import { silentLogger, type SinkContext, type SinkEvent } from '../../src/sdk';
import { generate } from '../../scripts/generate-stream.js';
import { finished, runRouter } from '../support/cli';
import { CollectingDeadLetter } from '../support/dead-letter';

function event(seq: number): SinkEvent {
  const record = { timestamp: '2026-03-05T10:30:00.000001Z', level: 'INFO', fields: { event: 'tool_invocation', tool: 'redis_get', seq }, target: 'audit' };
  return { record, json: JSON.stringify(record), fields: record.fields };
}

describe('<type> sink (template)', () => {
  it('delivers what it accepts and counts it', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (b: Buffer) => chunks.push(b));
    const deadLetter = new CollectingDeadLetter();
    const context: SinkContext = { name: 'under_test', logger: silentLogger, deadLetter, baseDir: process.cwd(), stdout: out };
    const sink = await createSink({}, context);
    for (let i = 1; i <= 100; i++) if (!sink.write(event(i))) await sink.drain();
    await sink.close(Date.now() + 5_000);
    expect(sink.counters).toMatchObject({ accepted: 100, delivered: 100, deadLettered: 0, failed: 0 });
    expect(Buffer.concat(chunks).toString().trim().split('\n')).toHaveLength(100);
    expect(deadLetter.records).toEqual([]);
  });

  it('end to end through bin/audit-router', async () => {
    const items = [...generate({ seed: 1, lines: 1_000, scenario: 'mixed' })];
    const r = await runRouter(['--stdout'], { input: items.map((i) => i.line + '\n').join('') });
    expect(r.code).toBe(0);
    const audit = items.filter((i) => i.truth.kind === 'audit').length;
    expect(r.stdout.trim().split('\n')).toHaveLength(audit);
    for (const secret of items.flatMap((i) => i.truth.secrets)) expect(r.stdout + r.stderr).not.toContain(secret);
    expect(finished(r)['audit']).toBe(audit);
  });
});
