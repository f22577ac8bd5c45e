/**
 * The dead letter's re-redaction rule, from source (no dist/): what sinks and plugins hand in
 * through the public `write()` is redacted again; the router's own records (`writeRedacted`) are
 * kept as they are; without a destination, records are counted and accepted events are lost.
 */
import { describe, expect, it } from 'vitest';
import type { Sink, SinkEvent } from '../../../src/api/sink';
import { newCounters } from '../../../src/api/sink';
import { DeadLetterRouter } from '../../../src/core/dead-letter';
import { Redactor } from '../../../src/transforms/redact';
import { createLogger } from '../../../src/util/log';

function memorySink(): Sink & { written: SinkEvent[] } {
  const written: SinkEvent[] = [];
  return {
    name: 'dead_letter', type: 'memory', counters: newCounters(), written,
    write(event) { written.push(event); return true; },
    drain: async () => {},
    close: async () => {},
  };
}

describe('DeadLetterRouter', () => {
  it('write(): a record a plugin hands in is redacted again, and the original is not mutated', () => {
    const sink = memorySink();
    const dl = new DeadLetterRouter(sink, new Redactor(), createLogger('error', () => {}));
    const event = { fields: { tool: 't', password: 'plain-secret' } };
    dl.write({ reason: 'undeliverable', sink: 'plugin', detail: 'ECONNREFUSED', event });
    expect(sink.written[0]!.json).not.toContain('plain-secret');
    expect(sink.written[0]!.record).toMatchObject({ reason: 'undeliverable', sink: 'plugin', detail: 'ECONNREFUSED' });
    expect(event.fields.password).toBe('plain-secret');
    expect(dl.counts).toEqual({ undeliverable: 1 });
  });

  it('writeRedacted(): the router already redacted the event, so it is kept as it is (not walked twice)', () => {
    const sink = memorySink();
    const dl = new DeadLetterRouter(sink, new Redactor(), createLogger('error', () => {}));
    const event = { fields: { tool: 't', note: 'kept exactly' } };
    dl.writeRedacted({ reason: 'schema_invalid', line: 7, size: 99, detail: ['timestamp: must match pattern'], event });
    expect(sink.written[0]!.record['event']).toBe(event);
    expect(sink.written[0]!.record).toMatchObject({ reason: 'schema_invalid', line: 7, size: 99 });
  });

  it('without a destination: counted, warned once per reason, accepted events counted lost', () => {
    const lines: string[] = [];
    const dl = new DeadLetterRouter(null, new Redactor(), createLogger('warn', (l) => lines.push(l)));
    for (let i = 0; i < 3; i++) dl.write({ reason: 'undeliverable', sink: 's', event: { x: i } });
    dl.writeRedacted({ reason: 'oversize_line', line: 1, size: 10, sha256: 'ab' });
    expect(dl.total).toBe(4);
    expect(dl.lostEvents).toBe(3);
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain('"x"');
  });
});
