import { describe, expect, it } from 'vitest';
import { LineSplitter, type OversizeLine } from '../../../src/framing/lines';
import { createHash } from 'node:crypto';

function split(chunks: (string | Buffer)[], max = 16): { lines: string[]; oversize: OversizeLine[] } {
  const lines: string[] = [];
  const oversize: OversizeLine[] = [];
  const s = new LineSplitter(max);
  const handler = {
    line: (b: Buffer, n: number) => lines.push(`${n}:${b.toString('latin1')}`),
    oversize: (o: OversizeLine) => oversize.push(o),
  };
  for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1'), handler);
  s.end(handler);
  return { lines, oversize };
}

const sha = (s: string) => createHash('sha256').update(Buffer.from(s, 'latin1')).digest('hex');

describe('LineSplitter', () => {
  it('splits on \\n, drops \\r of \\r\\n, keeps empty lines as lines, emits a last line without newline', () => {
    expect(split(['a\nb\r\n\nc']).lines).toEqual(['1:a', '2:b', '3:', '4:c']);
  });

  it('joins a line spread over many chunks, and a \\r\\n split between chunks', () => {
    expect(split(['ab', 'cd', 'e\r', '\nf', 'g\n']).lines).toEqual(['1:abcde', '2:fg']);
  });

  it('accepts a line of exactly max bytes and discards one byte more, whole, with size and hash', () => {
    const ok = 'x'.repeat(16);
    const big = 'y'.repeat(17);
    const r = split([`${ok}\n${big}\nz\n`]);
    expect(r.lines).toEqual([`1:${ok}`, '3:z']);
    expect(r.oversize).toEqual([{ line: 2, size: 17, sha256: sha(big) }]);
  });

  it('discards an oversize line spanning chunks without forwarding any part of it, also at EOF', () => {
    const big = 'q'.repeat(50);
    const r = split(['a\n', big.slice(0, 10), big.slice(10, 30), big.slice(30) + '\nb\n', 'c'.repeat(40)]);
    expect(r.lines).toEqual(['1:a', '3:b']);
    expect(r.oversize).toEqual([
      { line: 2, size: 50, sha256: sha(big) },
      { line: 4, size: 40, sha256: sha('c'.repeat(40)) },
    ]);
  });

  it('counts bytes, not characters', () => {
    const s = 'é'.repeat(9); // 18 bytes in UTF-8
    const r = split([Buffer.from(s + '\n', 'utf8')]);
    expect(r.lines).toEqual([]);
    expect(r.oversize[0]!.size).toBe(18);
  });

  it('empty input gives nothing', () => {
    expect(split([])).toEqual({ lines: [], oversize: [] });
  });
});
