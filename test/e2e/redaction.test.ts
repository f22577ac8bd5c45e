/**
 * The upstream redaction cases (and ours), end to end: one line each through bin/audit-router to a
 * file, to stdout and (as invalid variants) to the dead letter.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/util/json';
import { redactionCases } from '../fixtures/redaction-cases';
import { finished, runRouter, tempDir, type RunResult } from '../support/cli';

const dir = tempDir('ar-redact-e2e-');
afterAll(() => dir.cleanup());

/** The same event with a schema error, so it travels the dead-letter path. */
function invalidVariant(record: JsonObject): JsonObject {
  const copy = structuredClone(record);
  (copy['fields'] as JsonObject)['duration_ms'] = 'slow';
  return copy;
}

describe('upstream redaction cases through the whole pipeline', () => {
  const file = join(dir.path, 'audit.jsonl');
  const dead = join(dir.path, 'dead.jsonl');
  let r: RunResult;
  let fileLines: string[];
  let deadLines: string[];

  beforeAll(async () => {
    const input = [
      ...redactionCases.map((c) => JSON.stringify(c.input)),
      ...redactionCases.map((c) => JSON.stringify(invalidVariant(c.input))),
    ].join('\n');
    r = await runRouter(['--file', file, '--stdout', '--dead-letter', dead, '--passthrough'], { input });
    fileLines = readFileSync(file, 'utf8').trim().split('\n');
    deadLines = readFileSync(dead, 'utf8').trim().split('\n');
  });

  it('routes every case', () => {
    expect(r.code).toBe(0);
    expect(finished(r)).toMatchObject({ audit: redactionCases.length, invalid: redactionCases.length });
    expect(fileLines).toHaveLength(redactionCases.length);
    expect(deadLines).toHaveLength(redactionCases.length);
  });

  redactionCases.forEach((c, i) => {
    it(c.name, () => {
      for (const [where, text] of [
        ['file', fileLines[i]!],
        ['stdout', r.stdout.split('\n')[i]!],
        ['dead letter', deadLines[i]!],
        ['stderr', r.stderr],
      ] as const) {
        for (const secret of c.secrets) expect(text, `${secret} in ${where}`).not.toContain(secret);
      }
      if (c.expectedFields) expect(JSON.parse(fileLines[i]!).fields).toEqual(c.expectedFields);
      const deadEvent = JSON.parse(deadLines[i]!).event;
      if (c.expectedFields) expect(deadEvent.fields).toEqual({ ...c.expectedFields, duration_ms: 'slow' });
    });
  });
});
