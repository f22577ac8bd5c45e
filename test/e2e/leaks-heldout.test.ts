/**
 * Issue 8, round 3: held-out cases of the five leak classes, each planted through bin/audit-router
 * and searched for in every output (file, rotated .gz, stdout, dead letter, passthrough). The
 * placements are ones real redisctl-mcp and Redis users produce: a location written without a
 * scheme, redis-cli output (ACL LIST, ACL GETUSER, CONFIG GET, HGETALL), colours around a secret,
 * percent-encoded text, prose around an AUTH, error and denial messages that echo a request,
 * `[name, value]` lists as Redis replies come in JSON.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { argsOf, Cases, probe, toolEvent, type JsonRecord, type Probe } from '../support/leak-probe';

const cases = new Cases();
// Userinfo without a scheme: under location-like keys, in text, scheme-relative.
cases.event('user:pass@host under location keys', (s) =>
  toolEvent('create_enterprise_database', {
    name: 'db',
    endpoint: `admin:${s('loc1')}@redis.example:6379`,
    host: `u:${s('loc2')}@h`,
    address: `${s('loc3')}@10.0.0.1:6379`,
    server: `ops:${s('loc4')}@srv.internal/0`,
    upstream: `a:${s('loc5')}@up:1`,
    target: `x:${s('loc6')}@t.example`,
    replica_of: [`:${s('loc7')}@replica.example:12000`],
  }),
);
cases.event('scheme-relative URLs in any string', (s) =>
  toolEvent('list_databases', { note: `see //admin:${s('rel1')}@redis.example:6379/0 for details`, link: `//u:${s('rel2')}@h/x`, bare: `//${s('rel3')}@api.example/v1` }),
);
cases.event('user:pass@host:port in free text and an error message', (s) => ({
  timestamp: '2026-03-05T10:30:00.123456Z',
  level: 'ERROR',
  fields: {
    event: 'tool_error',
    tool: 'redis_ping',
    toolset: 'redis',
    result: 'error',
    duration_ms: 3,
    error: `failed to connect to default:${s('err1')}@redis-12000.example:12000: connection refused`,
    message: `retrying with ops:${s('err2')}@10.0.0.9:6380/0`,
  },
  target: 'audit',
}));
// redis-cli output of ACL LIST / ACL GETUSER, and HGETALL/CONFIG GET replies.
cases.event('numbered ACL LIST output in a tool result', (s) =>
  toolEvent('list_databases', { output: `1) "user default on #${s('acll1')} ~* &* +@all"\n2) "user bob on >${s('acll2')} ~app:* +@read"` }),
);
cases.event('ACL GETUSER passwords as redis-cli prints them', (s) =>
  toolEvent('list_databases', {
    output: `1) "flags"\n2) 1) "on"\n   2) "sanitize-payload"\n3) "passwords"\n4) 1) "${s('getu1')}"\n   2) "${s('getu2')}"\n5) "commands"\n6) "+@all"`,
  }),
);
cases.event('HGETALL output with a password field', (s) => toolEvent('list_databases', { output: `1) "name"\n2) "bob"\n3) "api_token"\n4) "${s('hget1')}"` }));
cases.event('[name, value] pairs as CONFIG GET, HGETALL and ACL GETUSER reply in JSON', (s) =>
  toolEvent(
    'redis_config_get',
    { parameter: '*', pairs: [['requirepass', s('pair1')], ['maxmemory', '0']], flat: ['masterauth', s('pair2'), 'maxmemory', '0'] },
    { output: JSON.stringify(['flags', ['on'], 'passwords', [s('pair3')], 'commands', '+@all']) },
  ),
);
// Secrets in text: percent-encoded, colours, prose, echoed requests.
cases.event('percent-encoded URL and pair in text', (s) =>
  toolEvent('list_databases', { redirect: `redis%3A%2F%2Fu%3A${s('pct1')}%40h%3A6379`, form: `password%3D${s('pct2')}%26page%3D2` }),
);
cases.event('AUTH in lower and mixed case inside prose', (s) => toolEvent('list_databases', { note: `sent auth ${s('auth1')}`, other: `then aUtH default ${s('auth2')}` }));
cases.event('tool_denied reason echoing the arguments', (s) => ({
  timestamp: '2026-03-05T10:30:00.123456Z',
  level: 'WARN',
  fields: {
    event: 'tool_denied',
    tool: 'redis_config_set',
    toolset: 'redis',
    result: 'denied',
    duration_ms: 3,
    message: `denied redis_config_set {"parameter": "requirepass", "value": "${s('deny1')}"}`,
    error: `policy refused redis_config_set(parameter=masterauth, value=${s('deny2')})`,
  },
  target: 'audit',
}));
cases.event('key names with a qualifier before private', (s) => toolEvent('list_databases', { ssh_private: s('priv1'), tls_private: s('priv2') }));
// The same on the passthrough (stderr text logs).
cases.text('numbered ACL LIST line', (s) => `1) "user default on #${s('t1')} ~* &* +@all"`);
// A multi-line reply in a log line, escaped as tracing writes a field (`\n`, `\"`).
cases.text('ACL GETUSER passwords, nested, in an escaped log field', (s) =>
  String.raw`DEBUG redis: reply="3) \"passwords\"\n4) 1) \"${s('t2')}\"\n   2) \"${s('t3')}\"\n5) \"commands\""`,
);
cases.text('CONFIG GET reply in an escaped log field', (s) => String.raw`DEBUG redis: reply="1) \"masterauth\"\n2) \"${s('t9')}\""`);
cases.text('CONFIG GET reply without numbers (redis-cli --raw)', (s) => String.raw`out="requirepass\n${s('t10')}"`);
cases.text('colours between AUTH and its secret', (s) => `\x1b[2mAUTH\x1b[0m \x1b[1m${s('t4')}\x1b[0m`);
cases.text('colours between a config name and its value', (s) => `\x1b[33mrequirepass\x1b[0m ${s('t5')}`);
cases.text('scheme-relative URL in a log line', (s) => `WARN connecting to //default:${s('t6')}@redis.example:6379`);
cases.text('connection string without a scheme in a log line', (s) => `ERROR redis: dial admin:${s('t7')}@10.0.0.1:6379 failed`);
cases.text('auth in lower case after a word', (s) => `client sent auth ${s('t8')}`);

// What must stay as it is.
const HARMLESS_TEXT = [
  'mail bob@example.com about user:bob@example.com',
  'git@github.com:redis/redisctl.git',
  'mailto:bob@example.com',
  'auth failed for user bob',
  'Auth ok',
  'user default on nopass ~* &* +@all',
  '1) "name"\n2) "bob"',
];
cases.event('harmless text and names stay as they are', () =>
  toolEvent('list_databases', { email_address: 'bob@example.com', key: 'user:bob@example.com', texts: HARMLESS_TEXT, names: ['password', 'token'], private: true }),
);

describe('issue 8 round 3: held-out cases of the five leak classes', () => {
  let p: Probe;
  beforeAll(async () => {
    p = await probe(cases);
  });

  it('leaks no planted secret anywhere (file, rotated .gz, stdout, dead letter, passthrough)', () => {
    expect(p.rotatedGz).toBeGreaterThanOrEqual(1);
    expect(p.leaks()).toEqual([]);
  });

  it('masks only the userinfo of a location, keeping the host', () => {
    const args = argsOf(p.fileEvent(0)) as JsonRecord;
    expect(args['endpoint']).toBe('redacted:redacted@redis.example:6379');
    expect(args['address']).toBe('redacted@10.0.0.1:6379');
    expect(args['replica_of']).toEqual([':redacted@replica.example:12000']);
    expect((argsOf(p.fileEvent(1)) as JsonRecord)['note']).toBe('see //redacted:redacted@redis.example:6379/0 for details');
  });

  it('masks the values of redis-cli replies, keeping their layout', () => {
    const at = (name: string) => argsOf(p.fileEvent(cases.events.findIndex((c) => c.name === name))) as JsonRecord;
    expect(at('numbered ACL LIST output in a tool result')['output']).toBe(
      '1) "user default on #[REDACTED] ~* &* +@all"\n2) "user bob on >[REDACTED] ~app:* +@read"',
    );
    expect(at('ACL GETUSER passwords as redis-cli prints them')['output']).toBe(
      '1) "flags"\n2) 1) "on"\n   2) "sanitize-payload"\n3) "passwords"\n4) 1) "[REDACTED]"\n   2) "[REDACTED]"\n5) "commands"\n6) "+@all"',
    );
    const pairs = at('[name, value] pairs as CONFIG GET, HGETALL and ACL GETUSER reply in JSON');
    expect(pairs['pairs']).toEqual([['requirepass', '[REDACTED]'], ['maxmemory', '0']]);
    expect(pairs['flat']).toEqual(['masterauth', '[REDACTED]', 'maxmemory', '0']);
  });

  it('keeps colours where the secret needs none removed, and drops them only to mask one', () => {
    expect(p.passedText(4)).toBe('AUTH [REDACTED]');
    expect(p.passedText(5)).toBe('requirepass [REDACTED]');
    expect(p.passedText(1)).toBe(String.raw`DEBUG redis: reply="3) \"passwords\"\n4) 1) \"[REDACTED]\"\n   2) \"[REDACTED]\"\n5) \"commands\""`);
  });

  it('keeps harmless text, e-mail addresses, lists of names and a flag called private', () => {
    const i = cases.events.findIndex((c) => c.name === 'harmless text and names stay as they are');
    const expected = { email_address: 'bob@example.com', key: 'user:bob@example.com', texts: HARMLESS_TEXT, names: ['password', 'token'], private: true };
    expect(argsOf(p.fileEvent(i))).toEqual(expected);
    expect(argsOf(p.deadEvent(i))).toEqual(expected);
  });
});
