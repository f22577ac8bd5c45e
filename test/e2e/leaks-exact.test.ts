/**
 * Leak class 5 (exact values): integers beyond 2^53 in an audit record come out digit for digit
 * — in the record, inside `arguments`, in the dead letter, passthrough and the rotated .gz.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Cases, probe, toolEvent, type Probe } from '../support/leak-probe';

const BIG = ['18446744073709551615', '-9223372036854775808', '123456789012345678901234567890', '9007199254740993'];

const cases = new Cases();
cases.event('big integers inside arguments', () =>
  toolEvent('get_subscription', `{"subscription_id":${BIG[0]},"offset":${BIG[1]},"n":[${BIG[2]},${BIG[3]},1.5,2]}`),
);
// Raw JSON text: JSON.stringify cannot write these numbers.
cases.rawEvent(
  'big integers as event fields',
  JSON.stringify(toolEvent('get_subscription', { a: 1 }, { request_seq: 0, request_id: 0 }))
    .replace('"request_seq":0', `"request_seq":${BIG[0]}`)
    .replace('"request_id":0', `"request_id":${BIG[2]}`),
);
cases.event('big integer next to a secret', (s) => toolEvent('create_database', `{"subscription_id":${BIG[0]},"password":"${s('pw')}"}`));
cases.event('a string of digits stays a string', () => toolEvent('get_subscription', { id: '18446744073709551615', note: 'digits 12345678901234567890 in text' }));

describe('leak class 5: exact values', () => {
  let p: Probe;
  beforeAll(async () => {
    p = await probe(cases);
  });

  it('keeps every big integer exact in the file, rotated .gz, stdout, dead letter and passthrough', () => {
    expect(p.leaks()).toEqual([]);
    expect(p.gzLines[0]).toBe(p.trail[0]);
    for (const [where, text] of [
      ['file (rotated .gz)', p.trail[0]!],
      ['stdout', p.stdout[0]!],
      ['dead letter', p.dead[0]!],
      ['passthrough', p.passthrough[0]!],
    ] as const) {
      expect(text, where).toContain(`\\"subscription_id\\":${BIG[0]},\\"offset\\":${BIG[1]},\\"n\\":[${BIG[2]},${BIG[3]},1.5,2]`);
    }
    for (const [where, text] of [
      ['file', p.trail[1]!],
      ['stdout', p.stdout[1]!],
      ['dead letter', p.dead[1]!],
      ['passthrough', p.passthrough[1]!],
    ] as const) {
      expect(text, where).toContain(`"request_seq":${BIG[0]}`);
      expect(text, where).toContain(`"request_id":${BIG[2]}`);
    }
  });

  it('still redacts next to a big integer, and leaves digit strings alone', () => {
    expect(p.trail[2]).toContain(`{\\"subscription_id\\":${BIG[0]},\\"password\\":\\"[REDACTED]\\"}`);
    expect(p.trail[3]).toContain('\\"id\\":\\"18446744073709551615\\"');
  });
});
