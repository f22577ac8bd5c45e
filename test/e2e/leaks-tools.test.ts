/**
 * Leak class 1: tools whose credentials sit in neutral-looking fields (redisctl-mcp's tool list,
 * crates/redisctl-mcp/src/tools/). Each case goes through bin/audit-router to the file sink (and
 * its rotated .gz files), stdout, the dead letter and passthrough; no planted secret may show, and
 * the neighbouring non-secret fields must come through unchanged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { argsOf, Cases, probe, toolEvent, type Probe } from '../support/leak-probe';

const cases = new Cases();
// Ported first: the cases the issue names.
cases.event('redis_config_set requirepass', (s) => toolEvent('redis_config_set', { parameter: 'requirepass', value: s('requirepass') }));
cases.event('redis_config_set masterauth', (s) => toolEvent('redis_config_set', { parameter: 'masterauth', value: s('masterauth') }));
// Every other secret-bearing Redis config parameter, and spellings of them.
for (const parameter of ['primaryauth', 'tls-key-file-pass', 'tls-client-key-file-pass', 'REQUIREPASS', ' MasterAuth ', 'sentinel-pass', 'auth-pass']) {
  cases.event(`redis_config_set ${parameter}`, (s) => toolEvent('redis_config_set', { parameter, value: s('cfg') }));
}
cases.event('redis_config_set with the value run into the parameter', (s) =>
  toolEvent('redis_config_set', { parameter: `requirepass ${s('inparam')}`, value: '' }),
);
cases.event('redis_config_set with several pairs in one value', (s) =>
  toolEvent('redis_config_set', { parameter: 'masterauth', value: `${s('pair1')} requirepass ${s('pair2')}` }),
);
cases.event('redis_config_set with a glob parameter', (s) => toolEvent('redis_config_set', { parameter: '*pass*', value: s('glob') }));
// ACL rule strings (Redis ACL syntax: >password, <password, #sha256, !sha256).
cases.event('create_enterprise_acl with a password in the rule', (s) =>
  toolEvent('create_enterprise_acl', { name: 'app', acl: `+@all ~* >${s('acl')}`, description: 'app rule' }),
);
cases.event('update_enterprise_acl with a hash in the rule', (s) =>
  toolEvent('update_enterprise_acl', { uid: 3, name: 'app', acl: `on #${s('aclhash')} ~cache:* +get` }),
);
cases.event('validate_enterprise_acl with a removed password', (s) => toolEvent('validate_enterprise_acl', { name: 'x', acl: `<${s('aclrm')} +@read` }));
cases.event('create_redis_rule with a password', (s) => toolEvent('create_redis_rule', { name: 'ro', redis_rule: `+@read ~* >${s('rule')}` }));
cases.event('update_redis_rule with a hash', (s) => toolEvent('update_redis_rule', { rule_id: 7, name: 'ro', redis_rule: `!${s('rulehash')} +@read` }));
// Import and export locations.
cases.event('import_database from ftp with userinfo', (s) =>
  toolEvent('import_database', { subscription_id: 1, database_id: 2, source_type: 'ftp', import_from_uri: `ftp://backup:${s('ftp')}@ftp.example.com/dump.rdb` }),
);
cases.event('import_database from Azure blob storage (key with / and +)', (s) =>
  toolEvent('import_database', { subscription_id: 1, database_id: 2, source_type: 'azure-blob-storage', import_from_uri: `abs://:${s('azure')}/x+y==@account/container/dump.rdb` }),
);
cases.event('import_fixed_database from a scheme-less location', (s) =>
  toolEvent('import_fixed_database', { subscription_id: 1, database_id: 2, source_type: 'ftp', import_from_uri: `backup:${s('nosch')}@ftp.example.com/dump.rdb` }),
);
cases.event('import_enterprise_database with credentials in the location', (s) =>
  toolEvent('import_enterprise_database', { bdb_uid: 1, import_location: `sftp://ops:${s('sftp')}@10.0.0.5:22/backups/db.rdb`, flush: false }),
);
cases.event('export_enterprise_database with a signed location', (s) =>
  toolEvent('export_enterprise_database', { uid: 1, export_location: `s3://bucket/db.rdb?X-Amz-Credential=AKIA/x&X-Amz-Signature=${s('sig')}` }),
);
cases.event('export_enterprise_database to user:pass@host without a scheme', (s) =>
  toolEvent('export_enterprise_database', { uid: 1, export_location: `admin:${s('exp')}@backup.internal/exports` }),
);
// Values stored under Redis key names that say they are credentials.
cases.event('redis_set of an API token', (s) => toolEvent('redis_set', { key: 'cfg:upstream_api_token', value: s('set'), ex: 3600 }));
cases.event('redis_setnx of a password', (s) => toolEvent('redis_setnx', { key: 'user:42:password', value: s('setnx') }));
cases.event('redis_append to a secret', (s) => toolEvent('redis_append', { key: 'svc:secret', value: s('append') }));
cases.event('redis_mset with one credential entry', (s) =>
  toolEvent('redis_mset', { entries: [{ key: 'user:1:name', value: 'Ada' }, { key: 'user:1:api_key', value: s('mset') }] }),
);
cases.event('redis_json_set at a password path', (s) => toolEvent('redis_json_set', { key: 'svc:conn', path: '$.password', value: JSON.stringify(s('json')) }));
cases.event('redis_json_set of a credentials document', (s) => toolEvent('redis_json_set', { key: 'svc:credentials', path: '$', value: JSON.stringify({ u: 'a', p: s('jsondoc') }) }));
cases.event('redis_lpush onto a token list', (s) => toolEvent('redis_lpush', { key: 'auth:refresh_tokens', elements: [s('lpush')] }));
// Raw API escape hatches: the body names no secret.
cases.event('enterprise_raw_api certificate update (body.key)', (s) =>
  toolEvent('enterprise_raw_api', { method: 'PUT', path: '/v1/cluster/update_cert', body: { name: 'proxy', certificate: 'PUBLIC-CERT', key: s('rawkey') } }),
);
cases.event('enterprise_raw_api license update (body.license)', (s) =>
  toolEvent('enterprise_raw_api', { method: 'PUT', path: '/v1/license', body: { license: s('license') } }),
);
cases.event('cloud_raw_api with an API key in the path', (s) =>
  toolEvent('cloud_raw_api', { method: 'GET', path: `/v1/subscriptions?api_key=${s('rawpath')}&page=2` }),
);

// Neighbours that must come through unchanged.
cases.event('redis_config_set of a harmless parameter', () => toolEvent('redis_config_set', { parameter: 'maxmemory', value: '100mb' }));
cases.event('redis_set of an ordinary key', () => toolEvent('redis_set', { key: 'session:7f3a', value: 'v-1' }));

describe('leak class 1: credentials in neutral tool fields', () => {
  let p: Probe;
  beforeAll(async () => {
    p = await probe(cases);
  });

  it('rotates into gzip files, so the .gz path is checked too', () => {
    expect(p.rotatedGz).toBeGreaterThanOrEqual(1);
    expect(p.gzLines.length).toBeGreaterThan(cases.events.length);
  });

  it('leaks no planted secret anywhere', () => {
    expect(p.leaks()).toEqual([]);
  });

  it('keeps what is not a secret', () => {
    const at = (name: string) => cases.events.findIndex((c) => c.name === name);
    expect(argsOf(p.fileEvent(at('redis_config_set requirepass')))).toEqual({ parameter: 'requirepass', value: '[REDACTED]' });
    expect(argsOf(p.fileEvent(at('redis_config_set of a harmless parameter')))).toEqual({ parameter: 'maxmemory', value: '100mb' });
    expect(argsOf(p.fileEvent(at('redis_set of an ordinary key')))).toEqual({ key: 'session:7f3a', value: 'v-1' });
    expect(argsOf(p.fileEvent(at('create_enterprise_acl with a password in the rule')))).toEqual({
      name: 'app',
      acl: '+@all ~* >[REDACTED]',
      description: 'app rule',
    });
    expect(argsOf(p.fileEvent(at('redis_mset with one credential entry')))).toEqual({
      entries: [{ key: 'user:1:name', value: 'Ada' }, { key: 'user:1:api_key', value: '[REDACTED]' }],
    });
    expect(argsOf(p.fileEvent(at('cloud_raw_api with an API key in the path')))).toEqual({
      method: 'GET',
      path: '/v1/subscriptions?api_key=[REDACTED]&page=2',
    });
    // The same in the dead letter and passthrough.
    const i = at('redis_config_set masterauth');
    expect(argsOf(p.deadEvent(i))).toEqual({ parameter: 'masterauth', value: '[REDACTED]' });
    expect(argsOf(p.passedEvent(i))).toEqual({ parameter: 'masterauth', value: '[REDACTED]' });
  });
});
