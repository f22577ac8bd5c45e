/**
 * `[kubernetes]` metadata end to end: values from the downward-API environment variables reach
 * Datadog as standard tags and the hostname, Fluentd as a `kubernetes` object in the record, and
 * the file sink only with `enrich = true`; the event's own keys and values are never changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRouter, tempDir } from '../support/cli';
import { startDatadogIntake } from '../support/datadog-intake';
import { startFluentdServer } from '../support/fluentd-server';
import { startOtlpReceiver } from '../support/otlp-receiver';

const dir = tempDir('ar-k8s-meta-');
afterAll(() => dir.cleanup());

const API_KEY = 'k8s-meta-test-key-0123456789abcdef';
const EVENT = JSON.stringify({
  timestamp: '2026-03-05T10:30:00.000000Z',
  level: 'INFO',
  fields: { event: 'tool_invocation', tool: 'get_key', toolset: 'database', result: 'success', duration_ms: 7, arguments: '{"key":"k"}' },
  target: 'audit',
});
const ENV = { POD_NAME: 'mcp-7d9f-abcde', POD_NAMESPACE: 'tools', NODE_NAME: 'node-a1' };

describe('[kubernetes] metadata', () => {
  it('Datadog tags and hostname, a Fluentd kubernetes object, file lines only with enrich', async () => {
    const intake = await startDatadogIntake({ apiKey: API_KEY });
    const fluentd = await startFluentdServer();
    try {
      const plain = join(dir.path, 'plain.jsonl');
      const enriched = join(dir.path, 'enriched.jsonl');
      const config = join(dir.path, 'router.toml');
      writeFileSync(
        config,
        [
          '[kubernetes]',
          'container = "mcp"',
          '[sinks.dd]',
          'type = "datadog"',
          `endpoint = "${intake.url}"`,
          `api_key = "${API_KEY}"`,
          'tags = ["env:test"]',
          'batch = { linger = "10ms" }',
          '[sinks.fd]',
          'type = "fluentd"',
          `port = ${fluentd.port}`,
          'batch = { linger = "10ms" }',
          '[sinks.plain]',
          'type = "file"',
          `path = ${JSON.stringify(plain)}`,
          '[sinks.enriched]',
          'type = "file"',
          `path = ${JSON.stringify(enriched)}`,
          'enrich = true',
        ].join('\n') + '\n',
      );
      const r = await runRouter(['-c', config], { input: EVENT + '\n', env: ENV });
      expect(r.code, r.stderr).toBe(0);
      const log = intake.logs[0]!;
      expect(log['hostname']).toBe('node-a1');
      expect(String(log['ddtags']).split(',').sort()).toEqual(['env:test', 'kube_container_name:mcp', 'kube_namespace:tools', 'pod_name:mcp-7d9f-abcde']);
      expect(fluentd.events[0]!.record).toEqual({
        ...JSON.parse(EVENT),
        kubernetes: { pod_name: 'mcp-7d9f-abcde', namespace_name: 'tools', container_name: 'mcp', host: 'node-a1' },
      });
      expect(readFileSync(plain, 'utf8')).toBe(EVENT + '\n');
      expect(readFileSync(enriched, 'utf8')).toBe(
        EVENT.slice(0, -1) + ',"kubernetes":{"pod_name":"mcp-7d9f-abcde","namespace_name":"tools","container_name":"mcp","host":"node-a1"}}\n',
      );
    } finally {
      await intake.close();
      await fluentd.close();
    }
  });

  it('OTLP: the pod, namespace, node and container become k8s.* resource attributes; the record is unchanged', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const config = join(dir.path, 'otlp.toml');
      writeFileSync(
        config,
        ['[kubernetes]', 'container = "mcp"', '[sinks.otel]', 'type = "otlp"', `endpoint = "${receiver.url}"`, 'batch = { linger = "10ms" }'].join('\n') + '\n',
      );
      const r = await runRouter(['-c', config], { input: EVENT + '\n', env: ENV });
      expect(r.code, r.stderr).toBe(0);
      expect(receiver.records).toHaveLength(1);
      expect(receiver.records[0]!.resource).toMatchObject({
        'k8s.pod.name': 'mcp-7d9f-abcde',
        'k8s.namespace.name': 'tools',
        'k8s.node.name': 'node-a1',
        'k8s.container.name': 'mcp',
      });
      expect(receiver.records[0]!.body).toBe(EVENT);
    } finally {
      await receiver.close();
    }
  });

  it('without [kubernetes], nothing is added even with the variables set', async () => {
    const out = join(dir.path, 'none.jsonl');
    const config = join(dir.path, 'none.toml');
    writeFileSync(config, `[sinks.f]\ntype = "file"\npath = ${JSON.stringify(out)}\nenrich = true\n`);
    const r = await runRouter(['-c', config], { input: EVENT + '\n', env: ENV });
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(EVENT + '\n');
  });
});
