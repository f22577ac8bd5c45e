/**
 * The router on its own, from source (no dist/): lines in through the LineHandler interface,
 * redacted events out to in-memory sinks, rejected lines to a recording dead letter. Exact counts,
 * order, backpressure, a throwing sink contained, and the router's records redacted once.
 */
import { describe, expect, it } from 'vitest';
import type { DeadLetterRecord, Sink, SinkCounters, SinkEvent } from '../../../src/api/sink';
import { newCounters } from '../../../src/api/sink';
import { Router } from '../../../src/core/router';
import { LineSplitter } from '../../../src/framing/lines';
import { Redactor } from '../../../src/transforms/redact';
import { compileAuditValidator, Selector } from '../../../src/transforms/select';
import { silentLogger } from '../../../src/util/log';

class MemorySink implements Sink {
  readonly type = 'memory';
  readonly counters: SinkCounters = newCounters();
  readonly events: SinkEvent[] = [];
  /** write() returns false from this many buffered events on, until drain() is called. */
  highWater = Number.POSITIVE_INFINITY;
  drains = 0;
  constructor(readonly name: string) {}
  write(event: SinkEvent): boolean {
    this.counters.accepted++;
    this.events.push(event);
    this.counters.delivered++;
    return this.events.length < this.highWater;
  }
  async drain(): Promise<void> {
    this.drains++;
  }
  async close(): Promise<void> {}
}

class RecordingDeadLetter {
  readonly redacted: DeadLetterRecord[] = [];
  writeRedacted(record: DeadLetterRecord): boolean {
    this.redacted.push(record);
    return true;
  }
  async drain(): Promise<void> {}
}

const selector = new Selector(compileAuditValidator());

function audit(tool: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    timestamp: '2026-03-05T10:30:00.000001Z',
    level: 'INFO',
    fields: { event: 'tool_invocation', tool, toolset: 'database', result: 'success', duration_ms: 3, ...extra },
    target: 'audit',
  });
}

function route(lines: string[], sinks: Sink[], passthrough: ((t: string) => void) | null = null) {
  const deadLetter = new RecordingDeadLetter();
  const router = new Router({ selector, redactor: new Redactor(), sinks, deadLetter, passthrough, logger: silentLogger });
  const splitter = new LineSplitter(4096);
  splitter.push(Buffer.from(lines.join('\n') + '\n'), router);
  splitter.end(router);
  return { router, deadLetter };
}

describe('Router', () => {
  it('hands every audit event, redacted, in order, as one shared SinkEvent to every sink', async () => {
    const a = new MemorySink('a');
    const b = new MemorySink('b');
    const { router } = route(
      [audit('redis_get'), 'plain text log', audit('redis_set', { password: 'hunter2' }), '', audit('redis_del')],
      [a, b],
    );
    await router.settle();
    expect(a.events.map((e) => e.fields['tool'])).toEqual(['redis_get', 'redis_set', 'redis_del']);
    expect(b.events).toEqual(a.events);
    expect(b.events[1]).toBe(a.events[1]); // the same object: serialised once
    expect(a.events[1]!.json).not.toContain('hunter2');
    expect(a.events[1]!.json).toBe(JSON.stringify(a.events[1]!.record));
    expect(router.counters).toMatchObject({ lines: 5, audit: 3, dropped: 1, empty: 1, invalid: 0 });
  });

  it('dead-letters schema-invalid events through the core path (already redacted), unparseable ones without content', async () => {
    const sink = new MemorySink('a');
    const invalid = JSON.stringify({ timestamp: 'yesterday', level: 'INFO', fields: { event: 'tool_invocation', tool: 't', api_key: 'k-123' }, target: 'audit' });
    const broken = '{"target":"audit","fields":{"event":"tool_invocation","password":"p-456"';
    const { router, deadLetter } = route([invalid, broken], [sink]);
    await router.settle();
    expect(router.counters).toMatchObject({ invalid: 1, unparseable: 1, audit: 0 });
    const [first, second] = deadLetter.redacted;
    expect(first).toMatchObject({ reason: 'schema_invalid', line: 1 });
    expect(JSON.stringify(first)).not.toContain('k-123');
    expect(second).toMatchObject({ reason: 'unparseable_audit', line: 2 });
    expect(second!.event).toBeUndefined();
    expect(second!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(second)).not.toContain('p-456');
    expect(sink.events).toEqual([]);
  });

  it('waits on drain() of exactly the sinks that asked for it', async () => {
    const slow = new MemorySink('slow');
    slow.highWater = 2;
    const fast = new MemorySink('fast');
    const { router } = route([audit('a'), audit('b'), audit('c')], [slow, fast]);
    await router.settle();
    expect(slow.drains).toBe(1);
    expect(fast.drains).toBe(0);
  });

  it('contains a sink whose write() throws: its events go to the dead letter, the others go on', async () => {
    const good = new MemorySink('good');
    const bad = new MemorySink('bad');
    bad.write = () => {
      throw new TypeError('boom: secret-in-message');
    };
    const { router, deadLetter } = route([audit('a'), audit('b')], [bad, good]);
    await router.settle();
    expect(good.events).toHaveLength(2);
    expect(deadLetter.redacted.map((r) => [r.reason, r.sink, r.detail])).toEqual([
      ['undeliverable', 'bad', 'the sink threw TypeError'],
      ['undeliverable', 'bad', 'the sink threw TypeError'],
    ]);
  });

  it('passes non-audit lines through, redacted, once per settle', async () => {
    const out: string[] = [];
    const { router } = route(['connecting to redis://user:s3cret@cache:6379', audit('x')], [new MemorySink('a')], (t) => out.push(t));
    await router.settle();
    expect(out).toHaveLength(1);
    expect(out[0]).not.toContain('s3cret');
    expect(router.counters.passthrough).toBe(1);
  });
});
