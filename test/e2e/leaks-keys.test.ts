/**
 * Leak class 2: key names that contain a sensitive word (apikey inside longer names, Redis's own
 * masterauth / requirepass, password abbreviations, key-material names), and the allow-list of
 * harmless names that must not be masked — through bin/audit-router to every output.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { argsOf, Cases, probe, toolEvent, type JsonRecord, type Probe } from '../support/leak-probe';

/** Names whose values are credentials. */
const SENSITIVE = [
  // apikey and friends inside longer names
  'datadog_apikey', 'upstreamApiKey', 'DD-API-KEY-VALUE', 'apikeyPrimary', 'svc_api_secret_v2', 'myAccessKeyId',
  // Redis's own names
  'masterauth', 'requirepass', 'primaryauth', 'masterAuth', 'tls_key_file_pass', 'sentinel_auth_pass',
  // password abbreviations
  'pwd', 'db_pwd', 'passwd', 'userPasswd', 'admin_pw', 'redisPass', 'pswd', 'PASS', 'auth_pass', 'passPhrase',
  // key material
  'client_key_pem', 'tls_key_pem', 'keyPem', 'private_key', 'client_key', 'ssh_key', 'signing_key_b64',
  'account_key', 'storage_account_key', 'master_key', 'jwt_secret', 'hmacKey',
  // tokens and auth
  'x-auth-token', 'bearerToken', 'sas_token', 'basic_auth', 'proxy_auth', 'session_cookie', 'otp',
];

/** Names that look related but are counts, sizes, limits, policies or identifiers: kept. */
const HARMLESS: Record<string, JsonRecord[string]> = {
  key: 'user:1042',
  keys: ['a', 'b'],
  keyspace: 'db0',
  key_count: 12,
  max_keys: 100,
  num_keys: 3,
  key_prefix: 'cache:',
  key_pattern: 'user:*',
  primary_key: 'id',
  public_key: 'ssh-ed25519 AAAAC3',
  key_name: 'signing-2026',
  tokens_used: 1500,
  max_tokens: 4096,
  prompt_tokens: 10,
  token_count: 7,
  token_type: 'Bearer',
  password_policy: 'strong',
  password_min_length: 12,
  password_expiry_days: 90,
  password_required: true,
  has_password: true,
  secret_count: 2,
  api_key_count: 1,
  tls_key_file: '/etc/redis/tls/redis.key',
  auth_method: 'password',
  authentication_query_suffix: 'ou=people',
  bypass_cache: false,
  passthrough: true,
  compass_heading: 270,
  memory_limit_in_gb: 2,
};

const cases = new Cases();
cases.event('sensitive names in arguments', (s) => {
  const a: JsonRecord = {};
  for (const name of SENSITIVE) a[name] = s(name);
  return toolEvent('create_enterprise_database', a);
});
cases.event('sensitive names as event fields and span fields', (s) => {
  const e = toolEvent('list_databases', { name: 'x' }, { masterauth: s('f1'), upstreamApiKey: s('f2') });
  e['span'] = { name: 'call', db_pwd: s('f3') };
  return e;
});
cases.event('sensitive names nested and holding objects', (s) =>
  toolEvent('update_enterprise_database', { updates: { sync_sources: [{ uri: 'redis://h:1', client_key_pem: s('n1') }], masterAuth: { v: s('n2') } } }),
);
cases.event('harmless names', () => toolEvent('update_enterprise_database', HARMLESS));
cases.text('sensitive names in a text line', (s) => `cfg masterauth=${s('t1')} datadog_apikey: ${s('t2')} db_pwd="${s('t3')}" key_count=3`);

describe('leak class 2: key names containing a sensitive word', () => {
  let p: Probe;
  beforeAll(async () => {
    p = await probe(cases);
  });

  it('leaks no planted secret anywhere (file, rotated .gz, stdout, dead letter, passthrough)', () => {
    expect(p.rotatedGz).toBeGreaterThanOrEqual(1);
    expect(p.leaks()).toEqual([]);
  });

  it('masks every sensitive name, keeping the name', () => {
    const out = argsOf(p.fileEvent(0)) as JsonRecord;
    expect(Object.keys(out)).toEqual(SENSITIVE);
    for (const name of SENSITIVE) expect(out[name], name).toBe('[REDACTED]');
  });

  it('keeps every harmless name and its value, in the file, the dead letter and passthrough', () => {
    const i = cases.events.findIndex((c) => c.name === 'harmless names');
    expect(argsOf(p.fileEvent(i))).toEqual(HARMLESS);
    expect(argsOf(p.deadEvent(i))).toEqual(HARMLESS);
    expect(argsOf(p.passedEvent(i))).toEqual(HARMLESS);
  });

  it('keeps harmless pairs in text', () => {
    expect(p.passedText(0)).toMatch(/key_count=3$/);
  });
});
