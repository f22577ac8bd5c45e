/**
 * The compose stack's optional `otel` profile, checked without Docker in the style of
 * test/deploy.test.ts: the Collector service and its config (deploy/otel/collector.yaml), the
 * second router (deploy/audit-router-otel.toml) and the variables that join them agree, and the
 * router's command, rehearsed with its paths mapped into a temporary directory, delivers the
 * bundled stream to a local OTLP/HTTP receiver standing in for the Collector.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { finished, runRouter, tempDir } from '../support/cli';
import { startOtlpReceiver } from '../support/otlp-receiver';

const ROOT = join(__dirname, '..', '..');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');
type Obj = Record<string, unknown>;
const compose = parseYaml(read('docker-compose.yml')) as { services: Record<string, Obj>; volumes: Obj };
const services = compose.services;
const collectorName = Object.keys(services).find((n) => String(services[n]!['image'] ?? '').startsWith('otel/opentelemetry-collector'))!;
const collector = services[collectorName]!;
const routerOtel = services['router-otel']!;
const router = Object.values(services).find((s) => s['build'] !== undefined)!;

const dir = tempDir('ar-deploy-otel-');
afterAll(() => dir.cleanup());

/** host path of a read-only bind mount, by container path. */
function boundFile(service: Obj, target: string): string {
  for (const v of (service['volumes'] ?? []) as string[]) {
    const [source, to, mode] = v.split(':');
    if (to === target && source!.startsWith('.')) {
      expect(mode, `${target} read-only`).toBe('ro');
      return join(ROOT, source!);
    }
  }
  throw new Error(`${target} is not bind-mounted`);
}
/** The container's /etc/audit-router laid out under the temporary directory, its paths mapped there too. */
function layOut(): string {
  const etc = join(dir.path, 'etc');
  mkdirSync(etc, { recursive: true });
  mkdirSync(join(dir.path, 'log'), { recursive: true });
  copyFileSync(boundFile(routerOtel, '/etc/audit-router/mcp-policy.toml'), join(etc, 'mcp-policy.toml'));
  const config = readFileSync(boundFile(routerOtel, '/etc/audit-router/audit-router-otel.toml'), 'utf8')
    .replaceAll('/var/lib/audit-router', join(dir.path, 'lib'))
    .replaceAll('/var/log/audit-router', join(dir.path, 'log'));
  writeFileSync(join(etc, 'audit-router-otel.toml'), config);
  return join(etc, 'audit-router-otel.toml');
}

const volumeTargets = (service: Obj): string[] =>
  ((service['volumes'] ?? []) as string[]).map((v) => v.split(':')).filter(([s]) => !s!.startsWith('.')).map(([, t]) => t!);

describe('docker-compose.yml, profile otel', () => {
  it('the Collector: official contrib image pinned, only under the profile, its config mounted where its command reads it', () => {
    expect(collector['profiles']).toEqual(['otel']);
    expect(routerOtel['profiles']).toEqual(['otel']);
    expect(collector['image']).toMatch(/^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
    const config = /--config=(\S+)/.exec(((collector['command'] ?? []) as string[]).join(' '))![1]!;
    expect(existsSync(boundFile(collector, config))).toBe(true);
  });

  it('collector.yaml: an OTLP/HTTP receiver on 4318 in a logs pipeline whose every component is defined; the file lands in a volume', () => {
    const conf = parseYaml(read('deploy/otel/collector.yaml')) as Record<string, Obj>;
    const http = ((conf['receivers']!['otlp'] as Obj)['protocols'] as Obj)['http'] as Obj;
    expect(String(http['endpoint'])).toMatch(/^0\.0\.0\.0:4318$/);
    const pipeline = ((conf['service']!['pipelines'] as Obj)['logs']) as Record<string, string[]>;
    expect(pipeline['receivers']).toContain('otlp');
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const name of pipeline[kind] ?? []) expect(Object.keys(conf[kind] ?? {}), `${kind}.${name}`).toContain(name);
    }
    for (const name of (conf['service']!['extensions'] ?? []) as string[]) expect(Object.keys(conf['extensions'] ?? {})).toContain(name);
    const file = String((conf['exporters']!['file'] as Obj)['path']);
    expect(volumeTargets(collector).some((t) => file.startsWith(`${t}/`))).toBe(true);
    const named = ((collector['volumes'] ?? []) as string[]).map((v) => v.split(':')[0]!).filter((s) => !s.startsWith('.'));
    for (const name of named) expect(Object.keys(compose.volumes)).toContain(name);
    expect((collector['ports'] as string[]).map((p) => p.split(':').pop())).toContain('4318');
  });

  it('router-otel: the router image, its endpoint the Collector service on the receiver port, its config valid', async () => {
    expect(routerOtel['image']).toBe(router['image']);
    expect(Object.keys(routerOtel['depends_on'] as Obj)).toContain(collectorName);
    const endpoint = new URL(String((routerOtel['environment'] as Obj)['OTEL_EXPORTER_OTLP_ENDPOINT']));
    expect(endpoint.hostname).toBe(collectorName);
    expect(endpoint.port).toBe('4318');
    const config = /-c (\S+)/.exec(((routerOtel['command'] ?? []) as string[]).join(' '))![1]!;
    const host = boundFile(routerOtel, config);
    const toml = readFileSync(host, 'utf8');
    expect(toml).toMatch(/type = "otlp"/);
    expect(toml).not.toMatch(/^endpoint\s*=/m); // the standard variable decides, as in any OTel deployment
    const r = await runRouter(['check-config', '-c', layOut()], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: String(endpoint) } });
    expect(r.code, r.stderr).toBe(0);
  });

  it('rehearsed without Docker: the bundled stream reaches the stand-in Collector, every audit event, nothing dead-lettered', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const config = layOut();
      const input = readFileSync(boundFile(routerOtel, '/examples/redisctl-mcp-stderr.log'));
      const r = await runRouter(['-c', config], { input, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
      expect(r.code, r.stderr).toBe(0);
      const f = finished(r);
      expect(f['audit']).toBeGreaterThan(0);
      expect(receiver.records.length).toBe(f['audit']);
      expect((f['sinks'] as Record<string, Obj>)['otel']).toMatchObject({ delivered: f['audit'], deadLettered: 0 });
      expect(receiver.records.every((q) => q.resource['service.name'] === 'redisctl-mcp' && q.attributes['network.transport'] === 'pipe')).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});
