/**
 * The plugin SDK as a plugin author sees it: the example plugin in examples/plugins/webhook-sink
 * is installed into a scratch project's node_modules beside audit-router (as `npm install` would
 * lay them out), names `type = "audit-router-sink-webhook"`, imports only `audit-router/sdk`,
 * and delivers every audit event — redacted, in order — to a real HTTP server, retrying a 503.
 */
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, runRouter, tempDir } from '../support/cli';
import { generate } from '../../scripts/generate-stream.js';

const ROOT = resolve(__dirname, '..', '..');

interface Hook {
  server: Server;
  url: string;
  bodies: string[];
  contentTypes: string[];
  /** Answer 503 to this many requests first. */
  failFirst: number;
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((done) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => done(Buffer.concat(parts).toString('utf8')));
  });
}

async function startHook(): Promise<Hook> {
  const hook: Hook = { server: createServer(), url: '', bodies: [], contentTypes: [], failFirst: 0 };
  hook.server.on('request', async (req, res) => {
    const text = await body(req);
    if (hook.failFirst > 0) {
      hook.failFirst--;
      res.writeHead(503, { 'retry-after': '0' }).end();
      return;
    }
    hook.bodies.push(text);
    hook.contentTypes.push(String(req.headers['content-type']));
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/ingest`;
  return hook;
}

describe('a sink plugin installed as a package, written against audit-router/sdk', () => {
  const dir = tempDir('audit-router-plugin-');
  let hook: Hook;

  beforeAll(async () => {
    // A project's node_modules: audit-router itself (this checkout) and the plugin package.
    const modules = join(dir.path, 'node_modules');
    mkdirSync(modules, { recursive: true });
    symlinkSync(ROOT, join(modules, 'audit-router'), 'dir');
    cpSync(join(ROOT, 'examples', 'plugins', 'webhook-sink'), join(modules, 'audit-router-sink-webhook'), { recursive: true });
    hook = await startHook();
  });
  afterAll(() => {
    hook.server.close();
    dir.cleanup();
  });

  it('delivers every audit event, redacted and in order, through the SDK delivery layer', async () => {
    const items = [...generate({ seed: 21, lines: 2_000, scenario: 'mixed' })];
    const input = items.map((i) => i.line + '\n').join('');
    const secrets = items.flatMap((i) => i.truth.secrets);
    const audit = items.filter((i) => i.truth.kind === 'audit');
    expect(secrets.length).toBeGreaterThan(20);
    hook.failFirst = 2;
    const config = join(dir.path, 'audit-router.toml');
    writeFileSync(
      config,
      `[sinks.hook]\ntype = "audit-router-sink-webhook"\nurl = "${hook.url}"\nbatch = { max_events = 100, linger = "10ms" }\nretry = { initial_backoff = "10ms", max_backoff = "20ms" }\n`,
    );
    const r = await runRouter(['-c', config], { input, cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const lines = hook.bodies.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(audit.length);
    // The generator numbers audit events in duration_ms (nested `fields`, or the flattened layout).
    const seqOf = (l: string): unknown => {
      const e = JSON.parse(l) as { duration_ms?: number; fields?: { duration_ms?: number } };
      return (e.fields ?? e).duration_ms;
    };
    expect(lines.map(seqOf)).toEqual(audit.map((a) => a.truth.seq));
    expect(new Set(hook.contentTypes)).toEqual(new Set(['application/x-ndjson']));
    const everything = hook.bodies.join('') + r.stderr;
    for (const s of secrets) expect(everything).not.toContain(s);
    const sinks = finished(r)['sinks'] as Record<string, Record<string, number>>;
    expect(sinks['hook']).toMatchObject({ accepted: audit.length, delivered: audit.length, deadLettered: 0 });
    expect(sinks['hook']!['retried']).toBeGreaterThanOrEqual(2);
  });

  it('its options are validated by audit-router before anything starts, delivery keys included', async () => {
    const config = join(dir.path, 'bad.toml');
    writeFileSync(config, `[sinks.hook]\ntype = "audit-router-sink-webhook"\nurl = "${hook.url}"\nqueue = { max_events = 0 }\n`);
    const r = await runRouter(['-c', config], { input: '', cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sinks.hook.queue.max_events');
  });
});
