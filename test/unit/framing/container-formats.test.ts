/**
 * Container log framings (src/framing/cri.ts, docker.ts) through the per-stream framer
 * (src/framing/stream.ts): parts joined per stream, the limit on the joined line, malformed lines
 * reported as size + hash, `auto` detection, and the offset a checkpoint may move to.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCriLine } from '../../../src/framing/cri';
import { type FramedHandler, type MalformedLine, newDecoderCounters, type StreamName } from '../../../src/framing/decoder';
import { parseDockerLine } from '../../../src/framing/docker';
import { type InputFormat, StreamFramer } from '../../../src/framing/stream';

const TS = '2026-03-05T10:30:00.123456789Z';

interface Out {
  lines: string[];
  oversize: { line: number; size: number; sha256: string }[];
  malformed: MalformedLine[];
}

function framer(format: InputFormat, maxLineBytes = 1024, streams: StreamName[] | null = null) {
  const out: Out = { lines: [], oversize: [], malformed: [] };
  const handler: FramedHandler = {
    line: (bytes) => void out.lines.push(bytes.toString('utf8')),
    oversize: (info) => void out.oversize.push(info),
    malformed: (info) => void out.malformed.push(info),
  };
  const counters = newDecoderCounters();
  const detected: string[] = [];
  const f = new StreamFramer({ format, maxLineBytes, streams: streams ? new Set(streams) : null, onDetect: (d) => detected.push(d) }, handler, counters);
  return { f, out, counters, detected };
}

/** Feeds `text` in pieces of `step` bytes, as writes might split it. */
function feed(f: StreamFramer, text: string | Buffer, step = 7): void {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (let i = 0; i < bytes.length; i += step) f.push(bytes.subarray(i, i + step));
}

const cri = (stream: string, tag: string, content: string): string => `${TS} ${stream} ${tag} ${content}\n`;
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

describe('CRI framing', () => {
  it('parses the kubelet line shape, with a time offset, extra tags and empty content', () => {
    expect(parseCriLine(Buffer.from(`${TS} stderr F {"a":1}`))).toMatchObject({ stream: 'stderr', partial: false });
    expect(parseCriLine(Buffer.from(`${TS} stderr F {"a":1}`))!.content.toString()).toBe('{"a":1}');
    expect(parseCriLine(Buffer.from(`2026-03-05T10:30:00+02:00 stdout P:x part`))).toMatchObject({ stream: 'stdout', partial: true });
    expect(parseCriLine(Buffer.from(`${TS} stdout F`))!.content.length).toBe(0);
    expect(parseCriLine(Buffer.from(`${TS} stdout F  two spaces`))!.content.toString()).toBe(' two spaces');
    for (const bad of ['plain text line', `${TS} stdin F x`, `${TS} stdout X x`, `${TS} stdout FF x`, `2026-03-05 10:30:00 stdout F x`, `${TS}`]) {
      expect(parseCriLine(Buffer.from(bad)), bad).toBeNull();
    }
  });

  it('joins P parts until F per stream, with stdout and stderr interleaved, whatever the write split', () => {
    for (const step of [1, 5, 64, 4096]) {
      const { f, out, counters } = framer('cri');
      const text = cri('stderr', 'P', 'abc') + cri('stdout', 'P', 'OUT-') + cri('stderr', 'P', 'def') + cri('stdout', 'F', 'END') + cri('stderr', 'F', 'ghi') + cri('stderr', 'F', 'single');
      feed(f, text, step);
      expect(out.lines).toEqual(['OUT-END', 'abcdefghi', 'single']);
      expect(counters.partsJoined).toBe(3);
      expect(f.committable).toBe(text.length);
    }
  });

  it('a 40 KiB event split by the kubelet into 16 KiB P parts comes out whole and byte-exact', () => {
    const event = JSON.stringify({ target: 'audit', fields: { event: 'tool_invocation', blob: 'é'.repeat(20 * 1024) } });
    expect(Buffer.byteLength(event)).toBeGreaterThan(40 * 1024);
    const bytes = Buffer.from(event);
    // Cut on bytes, as the kubelet does: a part may end inside a UTF-8 sequence.
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 16 * 1024) {
      const last = i + 16 * 1024 >= bytes.length;
      parts.push(Buffer.from(`${TS} stderr ${last ? 'F' : 'P'} `), bytes.subarray(i, i + 16 * 1024), Buffer.from('\n'));
    }
    const { f, out } = framer('cri', 1024 * 1024);
    feed(f, Buffer.concat(parts), 3000);
    expect(out.lines).toEqual([event]);
  });

  it('max_line_bytes applies to the joined line: reported once with the size and hash of the whole line', () => {
    const { f, out } = framer('cri', 10);
    feed(f, cri('stderr', 'P', 'aaaaaa') + cri('stderr', 'P', 'bbbbbb') + cri('stderr', 'F', 'cc') + cri('stderr', 'F', 'short'));
    expect(out.lines).toEqual(['short']);
    expect(out.oversize).toEqual([{ line: 1, size: 14, sha256: sha('aaaaaabbbbbbcc') }]);
  });

  it('keeps only the streams asked for', () => {
    const { f, out, counters } = framer('cri', 1024, ['stderr']);
    feed(f, cri('stdout', 'F', 'noise') + cri('stderr', 'F', 'audit') + cri('stdout', 'P', 'x') + cri('stdout', 'F', 'y'));
    expect(out.lines).toEqual(['audit']);
    expect(counters.otherStream).toBe(3);
  });

  it('a malformed line is reported as size and hash only, and the lines around it go on', () => {
    const { f, out, counters } = framer('cri');
    feed(f, cri('stderr', 'F', 'one') + 'secret=hunter2 not cri\n' + cri('stderr', 'F', 'two'));
    expect(out.lines).toEqual(['one', 'two']);
    expect(counters.malformed).toBe(1);
    expect(out.malformed).toEqual([{ format: 'cri', line: 2, size: 22, sha256: sha('secret=hunter2 not cri') }]);
    expect(JSON.stringify(out.malformed)).not.toContain('hunter2');
  });

  it('committable stops at the first held P part and moves past it with the F part', () => {
    const { f } = framer('cri');
    const a = cri('stderr', 'F', 'done');
    const p = cri('stderr', 'P', 'part');
    f.push(Buffer.from(a + p));
    expect(f.committable).toBe(a.length);
    f.push(Buffer.from(cri('stdout', 'F', 'other stream')));
    expect(f.committable).toBe(a.length);
    const fin = cri('stderr', 'F', 'end');
    f.push(Buffer.from(fin + 'half a li'));
    expect(f.committable).toBe(a.length + p.length + Buffer.byteLength(cri('stdout', 'F', 'other stream')) + fin.length);
    expect(f.partialBytes).toBe(9);
  });

  it('end() hands on held parts and a last line without newline, and says so', () => {
    const { f, out, counters } = framer('cri');
    f.push(Buffer.from(cri('stderr', 'P', 'held')));
    expect(f.end()).toBe(true);
    expect(out.lines).toEqual(['held']);
    expect(counters.incomplete).toBe(1);
  });
});

describe('Docker json-file framing', () => {
  const docker = (stream: string, log: string): string => JSON.stringify({ log, stream, time: TS }) + '\n';

  it('unwraps log, joining lines without a trailing newline per stream, escapes undone', () => {
    const { f, out, counters } = framer('docker');
    feed(f, docker('stderr', '{"a":"\\u00e9') + docker('stdout', 'other\n') + docker('stderr', '","b":12345678901234567890}\n') + docker('stderr', 'crlf\r\n'));
    expect(out.lines).toEqual(['other', '{"a":"\\u00e9","b":12345678901234567890}', 'crlf']);
    expect(counters.partsJoined).toBe(1);
  });

  it('malformed lines (not JSON, no log string, unknown stream) are counted and hashed', () => {
    const { f, out, counters } = framer('docker');
    feed(f, 'not json\n{"log":1,"stream":"stdout"}\n{"log":"x\\n","stream":"tty"}\n' + docker('stdout', 'ok\n'));
    expect(out.lines).toEqual(['ok']);
    expect(counters.malformed).toBe(3);
    expect(out.malformed.map((m) => m.line)).toEqual([1, 2, 3]);
    expect(parseDockerLine(Buffer.from('[1]'))).toBeNull();
  });
});

describe('auto', () => {
  it('decides from the first non-empty line: docker, cri, or raw', () => {
    const d = framer('auto');
    feed(d.f, '\n' + JSON.stringify({ log: 'x\n', stream: 'stderr' }) + '\n');
    expect(d.detected).toEqual(['docker']);
    expect(d.out.lines).toEqual(['', 'x']);
    const c = framer('auto');
    feed(c.f, cri('stderr', 'F', 'y'));
    expect(c.detected).toEqual(['cri']);
    expect(c.out.lines).toEqual(['y']);
    const r = framer('auto', 19);
    feed(r.f, '{"target":"audit"}\nplain\n' + 'z'.repeat(20) + '\n');
    expect(r.detected).toEqual(['raw']);
    expect(r.out.lines).toEqual(['{"target":"audit"}', 'plain']);
    expect(r.out.oversize).toEqual([{ line: 3, size: 20, sha256: sha('z'.repeat(20)) }]);
  });
});
