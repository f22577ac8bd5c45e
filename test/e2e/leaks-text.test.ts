/**
 * Leak class 3: secrets inside text values, under any key and in text lines — Authorization
 * headers, query parameters in scheme-less paths, PEM private keys, Redis commands written as
 * text, CONFIG GET output, JSON behind a BOM or a non-breaking space, command-line flags.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { argsOf, Cases, probe, toolEvent, type JsonRecord, type Probe } from '../support/leak-probe';

const PEM = (kind: string, body: string, end = true) =>
  `-----BEGIN ${kind}-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC${body}\nkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ\n${end ? `-----END ${kind}-----\n` : ''}`;

const cases = new Cases();
// Authorization headers in any string.
cases.event('Authorization: Basic in a header string', (s) => toolEvent('cloud_raw_api', { method: 'GET', path: '/v1/x', header: `Authorization: Basic ${s('basic')}` }));
cases.event('Bearer in an array of header strings', (s) =>
  toolEvent('cloud_raw_api', { method: 'GET', path: '/v1/x', headers: ['Accept: application/json', `authorization: Bearer ${s('bearer')}`] }),
);
cases.event('Proxy-Authorization and token scheme in a note', (s) =>
  toolEvent('enterprise_raw_api', { method: 'GET', path: '/v1/bdbs', note: `sent Proxy-Authorization: Digest ${s('digest')} then Authorization: token ${s('tokensch')}` }),
);
// Query parameters in a path or URL without a scheme.
cases.event('api_key query parameter in a path', (s) => toolEvent('cloud_raw_api', { method: 'GET', path: `/v1/subscriptions?api_key=${s('q1')}&page=2` }));
cases.event('token and signature parameters in a host/path', (s) =>
  toolEvent('enterprise_raw_api', { method: 'GET', path: `/v1/bdbs?page=1&access_token=${s('q2')}#sig=${s('q3')}`, target_host: `api.example.com/cb?secret=${s('q4')}` }),
);
cases.event('percent-encoded parameter name', (s) => toolEvent('cloud_raw_api', { method: 'GET', path: `/v1/x?p%61ssword=${s('q5')}` }));
// PEM private keys under any key.
cases.event('PEM RSA private key in a certificate bundle', (s) =>
  toolEvent('update_enterprise_cluster_certificates', { name: 'proxy', certificate: `${PEM('CERTIFICATE', 'PUBLICPART')}${PEM('RSA PRIVATE KEY', s('pem1'))}` }),
);
cases.event('PEM private keys of other kinds, one unterminated', (s) =>
  toolEvent('profile_create', { name: 'x', profile_type: 'database', ca_cert: PEM('OPENSSH PRIVATE KEY', s('pem2')), note: PEM('ENCRYPTED PRIVATE KEY', s('pem3'), false) }),
);
// Redis commands as text under command-like keys.
cases.event('AUTH under a command key', (s) => toolEvent('run_script', { command: `AUTH ${s('auth1')}` }));
cases.event('auth with a user under cmd', (s) => toolEvent('run_script', { cmd: `auth default ${s('auth2')}` }));
cases.event('HELLO 3 AUTH under query', (s) => toolEvent('run_script', { query: `HELLO 3 AUTH default ${s('hello')} SETNAME app` }));
cases.event('MIGRATE with AUTH and AUTH2', (s) =>
  toolEvent('run_script', { commands: [`MIGRATE 10.0.0.9 6379 "" 0 5000 COPY AUTH ${s('mig1')} KEYS a b`, `migrate h 6379 k 0 5000 AUTH2 ops ${s('mig2')}`] }),
);
cases.event('ACL SETUSER with passwords and hashes', (s) =>
  toolEvent('run_script', { script: `ACL SETUSER app on >${s('acl1')} <${s('acl2')} #${s('acl3')} ~app:* +@read` }),
);
cases.event('CONFIG SET of secret parameters, quoted and several pairs', (s) =>
  toolEvent('run_script', { statement: `config set requirepass "${s('cs1')}" maxmemory 1gb masterauth ${s('cs2')}` }),
);
cases.event('Redis commands as arrays of strings', (s) =>
  toolEvent('run_script', { argv: ['AUTH', 'default', s('arr1')], pipeline: [['CONFIG', 'SET', 'masterauth', s('arr2')], ['GET', 'k']] }),
);
// The same in free text under ordinary keys.
cases.event('Redis commands in a message and a note', (s) =>
  toolEvent('list_databases', { note: `replayed: AUTH default ${s('txt1')}; then CONFIG SET masterauth ${s('txt2')}` }, { message: `slowlog: HELLO 3 AUTH ops ${s('txt3')}` }),
);
// CONFIG GET output.
cases.event('CONFIG GET output as redis-cli prints it', (s) => toolEvent('list_databases', { output: `1) "requirepass"\n2) "${s('cg1')}"\n3) "maxmemory"\n4) "0"` }));
cases.event('CONFIG GET output as name value lines', (s) => toolEvent('list_databases', { output: `masterauth ${s('cg2')}\nrequirepass: ${s('cg3')}\nmaxmemory: 0` }));
// JSON behind a BOM or a non-breaking space.
cases.event('JSON after a BOM inside a string', (s) => toolEvent('list_databases', { payload: `\ufeff{"password":"${s('bom')}","a":1}` }));
cases.event('JSON after a non-breaking space inside a string', (s) => toolEvent('list_databases', { payload: `\u00a0 {"token":"${s('nbsp')}"}` }));
cases.event('arguments string itself behind a BOM', (s) => toolEvent('create_enterprise_database', `\ufeff{"name":"db","password":"${s('argbom')}"}`));
// Command-line flags.
cases.event('redis-cli flags in a text value', (s) =>
  toolEvent('run_script', { line: `redis-cli -h 10.0.0.9 -a ${s('cli1')} --no-auth-warning ping`, other: `tool --password ${s('cli2')} --api-key=${s('cli3')} --verbose` }),
);

// Text lines on the passthrough.
cases.text('AUTH in a text line', (s) => `127.0.0.1:6379> AUTH ${s('l1')}`);
cases.text('CONFIG SET in a text line', (s) => `\x1b[34mDEBUG\x1b[0m redis: sending CONFIG SET requirepass ${s('l2')}`);
cases.text('MIGRATE AUTH2 in a text line', (s) => `executing MIGRATE h 6379 k 0 5000 AUTH2 default ${s('l3')}`);
cases.text('ACL SETUSER in a text line', (s) => `acl: ACL SETUSER bob on >${s('l4')} ~* +@all`);
cases.text('redis.conf lines', (s) => `requirepass ${s('l5')}`);
cases.text('ACL LIST output', (s) => `user default on #${s('l6')} ~* &* +@all`);
cases.text('Authorization Basic in a text line', (s) => `http request headers="Authorization: Basic ${s('l7')}"`);
cases.text('PEM in an escaped text value', (s) => `loaded key="-----BEGIN PRIVATE KEY-----\\nMIIE${s('l8')}\\n-----END PRIVATE KEY-----" ok`);
cases.text('CLI flag in a text line', (s) => `spawn: redis-cli --user ops --pass ${s('l9')} -p 6380`);

describe('leak class 3: secrets inside text values', () => {
  let p: Probe;
  beforeAll(async () => {
    p = await probe(cases);
  });

  it('leaks no planted secret anywhere (file, rotated .gz, stdout, dead letter, passthrough)', () => {
    expect(p.rotatedGz).toBeGreaterThanOrEqual(1);
    expect(p.leaks()).toEqual([]);
  });

  it('masks only the secret, keeping the text around it', () => {
    const at = (name: string) => argsOf(p.fileEvent(cases.events.findIndex((c) => c.name === name))) as JsonRecord;
    expect(at('Authorization: Basic in a header string')['header']).toBe('Authorization: Basic [REDACTED]');
    expect(at('Bearer in an array of header strings')['headers']).toEqual(['Accept: application/json', 'authorization: Bearer [REDACTED]']);
    expect(at('api_key query parameter in a path')['path']).toBe('/v1/subscriptions?api_key=[REDACTED]&page=2');
    expect(at('AUTH under a command key')['command']).toBe('AUTH [REDACTED]');
    expect(at('HELLO 3 AUTH under query')['query']).toBe('HELLO 3 AUTH default [REDACTED] SETNAME app');
    expect(at('ACL SETUSER with passwords and hashes')['script']).toBe('ACL SETUSER app on >[REDACTED] <[REDACTED] #[REDACTED] ~app:* +@read');
    expect(at('CONFIG SET of secret parameters, quoted and several pairs')['statement']).toBe(
      'config set requirepass "[REDACTED]" maxmemory 1gb masterauth [REDACTED]',
    );
    const pem = at('PEM RSA private key in a certificate bundle')['certificate'] as string;
    expect(pem).toContain('-----BEGIN CERTIFICATE-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCPUBLICPART');
    expect(pem).toContain('-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----');
  });

  it('masks text lines on the passthrough, keeping their shape', () => {
    expect(p.passedText(0)).toBe('127.0.0.1:6379> AUTH [REDACTED]');
    expect(p.passedText(1)).toBe('\x1b[34mDEBUG\x1b[0m redis: sending CONFIG SET requirepass [REDACTED]');
    expect(p.passedText(4)).toBe('requirepass [REDACTED]');
  });
});
