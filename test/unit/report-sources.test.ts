/**
 * What the report reads and in which order (src/report/sources.ts): a trail's rotated files by
 * name then its current file, every file once however it is named, the .history index read as an
 * index (gone files noted), never as data.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planSources } from '../../src/report/sources';
import { tempDir } from '../support/cli';

const dir = tempDir('audit-router-report-sources-');
afterAll(() => dir.cleanup());

describe('planSources', () => {
  const trail = join(dir.path, 'trail');
  mkdirSync(trail);
  const rotated = ['audit.jsonl.20260305T103000.123Z.001.gz', 'audit.jsonl.20260305T113000.000Z.001', 'audit.jsonl.20260304T090000.000Z.002.gz'];
  for (const name of rotated) writeFileSync(join(trail, name), '');
  writeFileSync(join(trail, 'audit.jsonl'), '');
  writeFileSync(join(trail, 'audit-rejected.jsonl'), '');
  // The index lists a rotated file retention has since removed (absolute paths, as rfs writes them).
  writeFileSync(
    join(trail, 'audit.jsonl.history'),
    ['/elsewhere/audit.jsonl.20260301T000000.000Z.001.gz', ...rotated.map((n) => join('/var/log', n))].join('\n') + '\n',
  );
  const names = (args: string[]): string[] => planSources(args).sources.map((s) => (s.file === null ? '-' : s.file.slice(trail.length + 1)));

  it('a directory: each trail in rotation order (rotated by name, then current), the history not as data', () => {
    const plan = planSources([trail]);
    expect(names([trail])).toEqual([
      'audit-rejected.jsonl',
      'audit.jsonl.20260304T090000.000Z.002.gz',
      'audit.jsonl.20260305T103000.123Z.001.gz',
      'audit.jsonl.20260305T113000.000Z.001',
      'audit.jsonl',
    ]);
    expect(plan.notes).toEqual(['audit.jsonl.history lists 1 rotated file(s) that are gone (retention removed them, or they were moved)']);
  });

  it('the current file (or its .history) means the whole trail; a rotated file means just that file', () => {
    const whole = names([join(trail, 'audit.jsonl')]);
    expect(whole.at(-1)).toBe('audit.jsonl');
    expect(whole).toHaveLength(4);
    expect(names([join(trail, 'audit.jsonl.history')])).toEqual(whole);
    expect(names([join(trail, rotated[1]!)])).toEqual([rotated[1]]);
  });

  it('reads every file once, whatever names it, and stdin once', () => {
    expect(names([trail, join(trail, 'audit.jsonl'), join(trail, rotated[0]!), '-', '-'])).toEqual([
      'audit-rejected.jsonl',
      'audit.jsonl.20260304T090000.000Z.002.gz',
      'audit.jsonl.20260305T103000.123Z.001.gz',
      'audit.jsonl.20260305T113000.000Z.001',
      'audit.jsonl',
      '-',
    ]);
  });

  it('a path that does not exist is a usage error naming it', () => {
    expect(() => planSources([join(dir.path, 'missing.jsonl')])).toThrow(/missing\.jsonl: ENOENT/);
  });
});
