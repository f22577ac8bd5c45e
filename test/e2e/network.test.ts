/**
 * Network sinks end to end through bin/audit-router: the Datadog and Fluentd sinks delivering to
 * the strict local receivers (test/support/), through outages, rate limits, bad credentials,
 * shutdowns and crashes. No sleeps: every wait is a poll with a deadline or an event.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../scripts/generate-stream.js';
import { collect, finished, runRouter, start, tempDir } from '../support/cli';
import { startDatadogIntake } from '../support/datadog-intake';
import { makeTestCertificates, startFluentdServer } from '../support/fluentd-server';
import { waitFor as until } from '../support/wait';

const dir = tempDir('ar-net-');
afterAll(() => dir.cleanup());

const API_KEY = 'dd-test-key-0123456789abcdef0123';

interface Generated { line: string; truth: { kind: string; secrets: string[] } }

function audit(n: number, seed: number): { input: string; lines: string[]; secrets: string[] } {
  const items = [...(generate({ seed, lines: n, scenario: 'audit' }) as Iterable<Generated>)];
  const lines = items.map((g) => g.line);
  return { input: lines.join('\n') + '\n', lines, secrets: items.flatMap((g) => g.truth.secrets) };
}

const seqOf = (record: Record<string, unknown>): number =>
  ((record['fields'] as Record<string, unknown> | undefined) ?? record)['duration_ms'] as number;


/** Counts the router's "delivery failed, retrying" log lines as they happen (needs --log-level debug). */
function failedAttempts(child: ReturnType<typeof start>): () => number {
  let text = '';
  child.stderr!.on('data', (b: Buffer) => (text += b.toString('utf8')));
  return () => text.split('delivery failed, retrying').length - 1;
}

let configs = 0;
function config(text: string): string {
  const path = join(dir.path, `net-${++configs}.toml`);
  writeFileSync(path, text);
  return path;
}

const FAST_RETRY = 'retry = { initial_backoff = "50ms", max_backoff = "300ms" }\nbatch = { linger = "20ms" }\n';

describe('datadog sink, end to end', () => {
  it('delivers every event with its attributes, status, date, tags and service; the API key never shows', async () => {
    const intake = await startDatadogIntake({ apiKey: API_KEY });
    try {
      const { input, lines, secrets } = audit(1_500, 31);
      const c = config(`[sinks.dd]\ntype = "datadog"\nendpoint = "${intake.url}"\napi_key = "\${DD_KEY_FOR_TEST}"\nservice = "redisctl-mcp"\ntags = ["env:test", "team:sre"]\nhostname = "mcp-host-1"\n${FAST_RETRY}`);
      const r = await runRouter(['-c', c, '--log-level', 'debug'], { input, env: { DD_KEY_FOR_TEST: API_KEY } });
      expect(r.code).toBe(0);
      expect(intake.logs.length).toBe(lines.length);
      const first = JSON.parse(lines[0]!);
      const firstFields = first.fields ?? first;
      const log = intake.logs[0]!;
      expect(log).toMatchObject({
        ddsource: 'redisctl-mcp',
        service: 'redisctl-mcp',
        hostname: 'mcp-host-1',
        event: firstFields.event,
        tool: firstFields.tool,
        toolset: firstFields.toolset,
        result: firstFields.result,
        duration_ms: 0,
      });
      expect(String(log['ddtags'])).toContain('env:test');
      expect(String(log['message'])).toContain(firstFields.tool);
      // Order and exactly-once, from the facets alone.
      expect(intake.logs.map((l) => l['duration_ms'])).toEqual(lines.map((_, i) => i));
      const statuses = new Set(intake.logs.map((l) => `${l['event']}:${l['status']}`));
      for (const s of statuses) expect(['tool_invocation:info', 'tool_denied:warn', 'tool_error:error']).toContain(s);
      expect(finished(r)['sinks']).toMatchObject({ dd: { accepted: lines.length, delivered: lines.length } });
      for (const text of [r.stderr, r.stdout, JSON.stringify(intake.logs)]) {
        expect(text).not.toContain(API_KEY);
        expect(secrets.filter((s) => text.includes(s))).toEqual([]);
      }
    } finally {
      await intake.close();
    }
  });

  it('a receiver down for a while, then back: everything delivered, nothing duplicated', async () => {
    const intake = await startDatadogIntake({ apiKey: API_KEY });
    try {
      await intake.goAway();
      const { lines } = audit(400, 32);
      const c = config(`[sinks.dd]\ntype = "datadog"\nendpoint = "${intake.url}"\napi_key = "${API_KEY}"\n${FAST_RETRY}`);
      const child = start(['-c', c, '--log-level', 'debug']);
      const attempts = failedAttempts(child);
      const done = collect(child);
      child.stdin!.write(lines.slice(0, 200).join('\n') + '\n');
      // Wait until the router has tried (and failed) at least twice, then bring the intake back.
      await until(() => attempts() >= 2, 'delivery attempts while the intake is down');
      await intake.comeBack();
      child.stdin!.end(lines.slice(200).join('\n') + '\n');
      const r = await done;
      expect(r.code).toBe(0);
      expect(intake.logs.map((l) => l['duration_ms'])).toEqual(lines.map((_, i) => i));
      const dd = (finished(r)['sinks'] as Record<string, Record<string, unknown>>)['dd']!;
      expect(dd['retried']).toBeGreaterThan(0);
      expect(dd['delivered']).toBe(400);
    } finally {
      await intake.close();
    }
  });

  it('429 with x-ratelimit-reset and 503s are retried; all delivered', async () => {
    const intake = await startDatadogIntake({ apiKey: API_KEY });
    try {
      intake.fault({ status: 429, headers: { 'x-ratelimit-reset': '0' }, count: 2 }, { status: 503, count: 2 });
      const { input, lines } = audit(300, 33);
      const c = config(`[sinks.dd]\ntype = "datadog"\nendpoint = "${intake.url}"\napi_key = "${API_KEY}"\n${FAST_RETRY}`);
      const r = await runRouter(['-c', c], { input });
      expect(r.code).toBe(0);
      expect(intake.logs.map((l) => l['duration_ms'])).toEqual(lines.map((_, i) => i));
      expect(intake.requests.filter((q) => q.status === 429).length).toBe(2);
    } finally {
      await intake.close();
    }
  });

  it('a wrong API key (403) is a clear error, said once; events are kept in the dead letter, not lost', async () => {
    const intake = await startDatadogIntake({ apiKey: API_KEY });
    try {
      const { input, lines, secrets } = audit(200, 34);
      const dead = join(dir.path, 'dd-403-dead.jsonl');
      const c = config(`[sinks.dd]\ntype = "datadog"\nendpoint = "${intake.url}"\napi_key = "wrong-key-0000"\n${FAST_RETRY}`);
      const r = await runRouter(['-c', c, '--dead-letter', dead], { input });
      expect(intake.logs).toEqual([]);
      const records = readFileSync(dead, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(records.length).toBe(lines.length);
      expect(records.every((d) => d.reason === 'undeliverable' && d.sink === 'dd')).toBe(true);
      expect(records.map((d) => seqOf(d.event))).toEqual(lines.map((_, i) => i));
      const authErrors = r.logs.filter((l) => l['level'] === 'ERROR' && /credential|403|API key/i.test(String(l['message'])));
      expect(authErrors.length).toBe(1);
      expect(r.code).toBe(0); // every accepted event is saved (dead letter), so nothing was lost
      const deadText = readFileSync(dead, 'utf8');
      expect(deadText).not.toContain('wrong-key-0000');
      expect(r.stderr).not.toContain('wrong-key-0000');
      expect(secrets.filter((s) => deadText.includes(s))).toEqual([]);
    } finally {
      await intake.close();
    }
  });

  it('413 splits the batch down to what the intake takes; nothing lost or reordered', async () => {
    const intake = await startDatadogIntake({ apiKey: API_KEY });
    try {
      intake.fault({ status: 413, count: 3 });
      const { input, lines } = audit(400, 36);
      const c = config(`[sinks.dd]\ntype = "datadog"\nendpoint = "${intake.url}"\napi_key = "${API_KEY}"\n${FAST_RETRY}`);
      const r = await runRouter(['-c', c], { input });
      expect(r.code).toBe(0);
      expect(intake.logs.map((l) => l['duration_ms'])).toEqual(lines.map((_, i) => i));
      const sizes = intake.requests.map((q) => q.entries);
      expect(intake.requests.filter((q) => q.status === 413).length).toBe(3);
      // After the refusals the intake saw smaller requests than the first one.
      expect(Math.min(...sizes.filter((n) => n > 0))).toBeLessThan(Math.max(...sizes));
    } finally {
      await intake.close();
    }
  });

  it('a hung request times out and is retried', async () => {
    const intake = await startDatadogIntake({ apiKey: API_KEY });
    try {
      intake.fault({ hang: true, count: 1 });
      const { input, lines } = audit(100, 37);
      const c = config(`[sinks.dd]\ntype = "datadog"\nendpoint = "${intake.url}"\napi_key = "${API_KEY}"\ntimeout = "500ms"\n${FAST_RETRY}`);
      const r = await runRouter(['-c', c], { input });
      expect(r.code).toBe(0);
      expect(intake.logs.map((l) => l['duration_ms'])).toEqual(lines.map((_, i) => i));
      const dd = (finished(r)['sinks'] as Record<string, Record<string, unknown>>)['dd']!;
      expect(dd['retried']).toBeGreaterThan(0);
      expect(dd['lastError']).toBe('timeout');
    } finally {
      await intake.close();
    }
  });

  it('SIGTERM during an outage with a disk buffer, then a restart that delivers everything', async () => {
    const intake = await startDatadogIntake({ apiKey: API_KEY });
    try {
      await intake.goAway();
      const buffer = join(dir.path, 'dd-buffer');
      const { lines } = audit(500, 35);
      const c = config(`shutdown_timeout = "1s"\n[sinks.dd]\ntype = "datadog"\nendpoint = "${intake.url}"\napi_key = "${API_KEY}"\nbuffer = { type = "disk", path = "${buffer}", max_bytes = "16M" }\n${FAST_RETRY}`);
      const child = start(['-c', c, '--log-level', 'debug']);
      const attempts = failedAttempts(child);
      const done = collect(child);
      child.stdin!.write(lines.join('\n') + '\n');
      await until(() => attempts() >= 1, 'a failed delivery attempt');
      await until(() => existsSync(buffer), 'the disk buffer');
      child.kill('SIGTERM');
      const first = await done;
      expect(first.code).toBe(0); // undelivered events are kept in the disk buffer: not lost
      const f = finished(first);
      expect(f['reason']).toBe('SIGTERM');
      const accepted = f['audit'] as number;
      expect((f['sinks'] as Record<string, Record<string, number>>)['dd']!['buffered']).toBe(accepted);

      await intake.comeBack();
      // The restart's shutdown (right after the empty input) waits for the replay: 1 s was too
      // short on a loaded machine (the buffer stayed, the intake got nothing). It ends once delivered.
      const second = await runRouter(['-c', config(readFileSync(c, 'utf8').replace('shutdown_timeout = "1s"', 'shutdown_timeout = "30s"'))], { input: '' });
      expect(second.code).toBe(0);
      expect(intake.logs.map((l) => l['duration_ms'])).toEqual(lines.slice(0, accepted).map((_, i) => i));
    } finally {
      await intake.close();
    }
  });
});

describe('fluentd sink, end to end', () => {
  it('delivers every event with the tag and an EventTime carrying the timestamp\'s nanoseconds', async () => {
    const server = await startFluentdServer();
    try {
      const { input, lines, secrets } = audit(1_000, 41);
      const c = config(`[sinks.fd]\ntype = "fluentd"\nhost = "127.0.0.1"\nport = ${server.port}\ntag = "audit.mcp"\n${FAST_RETRY}`);
      const r = await runRouter(['-c', c], { input });
      expect(r.code).toBe(0);
      expect(server.events.length).toBe(lines.length);
      expect(server.events.map((e) => seqOf(e.record))).toEqual(lines.map((_, i) => i));
      for (let i = 0; i < lines.length; i += 111) {
        const e = server.events[i]!;
        expect(e.tag).toBe('audit.mcp');
        const ts = JSON.parse(lines[i]!).timestamp as string; // 2026-03-05T10:30:00.123456Z
        const fraction = /\.(\d+)Z$/.exec(ts)![1]!.padEnd(9, '0');
        expect(e.time).toEqual({ seconds: Math.floor(Date.parse(ts) / 1000), nanoseconds: Number(fraction) });
      }
      expect(secrets.filter((s) => JSON.stringify(server.events).includes(s))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('a withheld ack and a connection dropped mid-chunk lose nothing (at least once)', async () => {
    const server = await startFluentdServer();
    try {
      server.fault({ withholdAck: true, count: 1 }, { dropMidChunk: true, count: 1 });
      const { input, lines } = audit(300, 42);
      const c = config(`[sinks.fd]\ntype = "fluentd"\nport = ${server.port}\nack_timeout = "500ms"\n${FAST_RETRY}`);
      const r = await runRouter(['-c', c], { input });
      expect(r.code).toBe(0);
      const seen = new Set(server.events.map((e) => seqOf(e.record)));
      expect([...seen].sort((a, b) => a - b)).toEqual(lines.map((_, i) => i));
      // The chunk whose ack was withheld was recorded and then sent again: a duplicate, by design.
      expect(server.events.length).toBeGreaterThan(lines.length);
    } finally {
      await server.close();
    }
  });

  it('kill -9 with a disk buffer during an outage, then a restart that delivers everything accepted', async () => {
    const server = await startFluentdServer();
    try {
      await server.stop();
      const buffer = join(dir.path, 'fd-buffer');
      const { lines } = audit(300, 43);
      const c = config(`[sinks.fd]\ntype = "fluentd"\nport = ${server.port}\nbuffer = { type = "disk", path = "${buffer}", fsync = "always" }\n${FAST_RETRY}`);
      const child = start(['-c', c, '--log-level', 'debug']);
      const done = collect(child);
      child.stdin!.write(lines.join('\n') + '\n');
      // Accepted = appended to the buffer: wait until every event is in a segment file, then SIGKILL.
      const segmentLines = (): number => {
        if (!existsSync(buffer)) return 0;
        return require('node:fs').readdirSync(buffer).filter((f: string) => f.endsWith('.jsonl'))
          .reduce((n: number, f: string) => n + readFileSync(join(buffer, f), 'utf8').split('\n').filter(Boolean).length, 0);
      };
      await until(() => segmentLines() === lines.length, 'every event in the disk buffer');
      child.kill('SIGKILL');
      const killed = await done;
      expect(killed.signal).toBe('SIGKILL');

      await server.restart();
      const second = await runRouter(['-c', c], { input: '' });
      expect(second.code).toBe(0);
      const seen = new Set(server.events.map((e) => seqOf(e.record)));
      expect([...seen].sort((a, b) => a - b)).toEqual(lines.map((_, i) => i));
    } finally {
      await server.close();
    }
  });

  it('TLS with a certificate the test made, and shared-key authentication', async () => {
    const certs = makeTestCertificates(join(dir.path, 'certs'));
    const server = await startFluentdServer({ tls: { key: certs.key, cert: certs.cert }, sharedKey: 'k3y-for-test', selfHostname: 'fluentd.test' });
    try {
      const { input, lines } = audit(200, 45);
      const c = config(`[sinks.fd]\ntype = "fluentd"\nport = ${server.port}\nshared_key = "k3y-for-test"\nself_hostname = "router.test"\ntls = { ca = "${certs.caPath}", verify = true }\n${FAST_RETRY}`);
      const r = await runRouter(['-c', c], { input });
      expect(r.code).toBe(0);
      expect(server.events.map((e) => seqOf(e.record))).toEqual(lines.map((_, i) => i));
      expect(server.authFailures).toBe(0);
      expect(r.stderr).not.toContain('k3y-for-test');
    } finally {
      await server.close();
    }
  });

  it('a wrong shared key is refused by the server: a clear error once, events dead-lettered, key never logged', async () => {
    const server = await startFluentdServer({ sharedKey: 'right-key-123' });
    try {
      const dead = join(dir.path, 'fd-auth-dead.jsonl');
      const { input, lines } = audit(50, 46);
      const c = config(`shutdown_timeout = "2s"\n[sinks.fd]\ntype = "fluentd"\nport = ${server.port}\nshared_key = "wrong-key-456"\n${FAST_RETRY}`);
      const r = await runRouter(['-c', c, '--dead-letter', dead], { input });
      expect(server.events).toEqual([]);
      expect(server.authFailures).toBeGreaterThan(0);
      const records = readFileSync(dead, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(records.length).toBe(lines.length);
      expect(r.logs.filter((l) => l['level'] === 'ERROR' && l['sink'] === 'fd').length).toBeGreaterThanOrEqual(1);
      expect(r.stderr).not.toContain('wrong-key-456');
      expect(r.stderr).not.toContain('right-key-123');
      expect(r.code).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('when_full = "drop_newest": input never blocks; drops are counted and dead-lettered', async () => {
    const server = await startFluentdServer();
    try {
      await server.stop();
      const dead = join(dir.path, 'fd-drop-dead.jsonl');
      const { input, lines } = audit(500, 44);
      const c = config(`shutdown_timeout = "300ms"\n[sinks.fd]\ntype = "fluentd"\nport = ${server.port}\nwhen_full = "drop_newest"\nqueue = { max_events = 50 }\n${FAST_RETRY}`);
      const r = await runRouter(['-c', c, '--dead-letter', dead], { input });
      const fd = (finished(r)['sinks'] as Record<string, Record<string, number>>)['fd']!;
      expect(fd['dropped']).toBeGreaterThanOrEqual(lines.length - 50);
      const records = readFileSync(dead, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(records.filter((d) => d.reason === 'dropped_queue_full').length).toBe(fd['dropped']);
      // The rest were not delivered by the deadline (receiver down): dead-lettered too, so nothing is lost.
      expect(records.length).toBe(lines.length);
      expect(r.code).toBe(0);
    } finally {
      await server.close();
    }
  });
});
