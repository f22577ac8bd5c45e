/**
 * The Datadog sink builds its intake request itself (sinks/datadog.ts), without the official
 * client at run time. This proves the wire format is still the official one: the same events go
 * to the local intake (test/support/datadog-intake.ts) once through our sink and once through
 * `@datadog/datadog-api-client`'s own `LogsApi.submitLog` (its default HTTP layer, gzip), and the
 * two bodies, parsed by the intake, must be equal: same items, same values, same key order.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { join } from 'node:path';
import { client as ddClient, v2 as ddV2 } from '@datadog/datadog-api-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSink, parseDatadogOptions, toLogItem } from '../../../sinks/datadog';
import type { DeliverySink } from '../../../src/delivery';
import { createLogger } from '../../../src/util/log';
import type { SinkEvent } from '../../../src/api/sink';
import { startDatadogIntake, type DatadogIntake } from '../../support/datadog-intake';
import { CollectingDeadLetter } from '../../support/dead-letter';
import { waitFor } from '../../support/wait';

const API_KEY = 'dd-wire-key-0123456789abcdef01234';

/** Events with what a serialiser could get wrong: nesting, unicode, escapes, reserved names, numbers. */
function events(): SinkEvent[] {
  const records: Record<string, unknown>[] = [
    {
      timestamp: '2026-03-05T10:30:00.000001Z',
      level: 'INFO',
      fields: {
        event: 'tool_invocation',
        tool: 'create_database',
        toolset: 'cloud',
        result: 'success',
        duration_ms: 12,
        arguments: JSON.stringify({ name: 'cache-db', password: '[REDACTED]', memory_gb: 2.5 }),
      },
      target: 'audit',
    },
    {
      timestamp: '2026-03-05T10:30:00.000002Z',
      level: 'WARN',
      fields: { event: 'tool_denied', tool: 'flush_database', result: 'denied', duration_ms: 0, reason: 'policy "deny" — ünïcödé ✓ \u2028 \\ \t' },
      target: 'audit',
    },
    {
      timestamp: '2026-03-05T10:30:00.000003Z',
      fields: {
        event: 'tool_error',
        tool: 'redis_command',
        message: 'a field named like a reserved key',
        service: 'x',
        status: 'y',
        date: 'z',
        hostname: 'h',
        ddtags: 't',
        ddsource: 's',
        nested: { deep: [1, -0.5, 1e21, true, null, { k: 'v' }], empty: {} },
      },
      target: 'audit',
    },
    // A flat event (no `fields` object) and one without a timestamp.
    { event: 'tool_invocation', tool: 'list_keys', result: 'success', duration_ms: 3, target: 'audit' },
  ];
  return records.map((record) => {
    const fields = (record.fields ?? record) as SinkEvent['fields'];
    return { record: record as SinkEvent['record'], json: JSON.stringify(record), fields };
  });
}

let intake: DatadogIntake;
beforeEach(async () => {
  intake = await startDatadogIntake({ apiKey: API_KEY });
});
afterEach(async () => {
  await intake.close();
});

describe('datadog wire format', () => {
  for (const options of [
    { service: 'redisctl-mcp', tags: ['env:test', 'team:sre'], hostname: 'mcp-1' },
    { hostname: 'mcp-2', source: 'custom-source' },
  ]) {
    it(`the body our sink sends equals LogsApi.submitLog's for the same events (${Object.keys(options).join(', ')})`, async () => {
      const context = { name: 'dd', logger: createLogger('error', () => {}), deadLetter: new CollectingDeadLetter(), baseDir: os.tmpdir() };
      const sinkOptions = { api_key: API_KEY, endpoint: intake.url, batch: { linger: '5ms' }, ...options };
      const sink = (await createSink(sinkOptions, context)) as DeliverySink;
      const batch = events();
      for (const event of batch) sink.write(event);
      await waitFor(() => sink.counters.delivered === batch.length, 'our sink delivered');
      await sink.close(Date.now() + 1000);
      const ours = intake.logs.splice(0);
      const ourRequest = intake.requests[0]!;

      // The official client, given the same items as HTTPLogItems (named properties + the rest as
      // additionalProperties), with its own HTTP layer and gzip.
      const settings = parseDatadogOptions(sinkOptions, context);
      const items: ddV2.HTTPLogItem[] = batch.map((event) => {
        const { ddsource, ddtags, hostname, message, service, ...additionalProperties } = toLogItem(event, settings);
        const item: ddV2.HTTPLogItem = { message: message as string, additionalProperties };
        if (ddsource !== undefined) item.ddsource = ddsource as string;
        if (ddtags !== undefined) item.ddtags = ddtags as string;
        if (hostname !== undefined) item.hostname = hostname as string;
        if (service !== undefined) item.service = service as string;
        return item;
      });
      const api = new ddV2.LogsApi(
        ddClient.createConfiguration({
          authMethods: { apiKeyAuth: API_KEY },
          baseServer: new ddClient.BaseServerConfiguration(intake.url, {}),
          enableRetry: false,
        }),
      );
      await api.submitLog({ body: items, contentEncoding: 'gzip' });
      const official = intake.logs.splice(0);
      const officialRequest = intake.requests[1]!;

      expect(ours).toHaveLength(batch.length);
      expect(ours).toEqual(official);
      // Same key order and serialisation, not just the same values.
      expect(JSON.stringify(ours)).toBe(JSON.stringify(official));
      // The reserved names really were moved aside, and the values survived.
      expect(ours[2]).toMatchObject({ audit_message: 'a field named like a reserved key', audit_status: 'y', status: 'error', nested: { deep: [1, -0.5, 1e21, true, null, { k: 'v' }] } });
      for (const header of ['content-type', 'content-encoding', 'accept', 'dd-api-key']) {
        expect([header, ourRequest.headers[header]]).toEqual([header, officialRequest.headers[header]]);
      }
      expect([ourRequest.status, officialRequest.status]).toEqual([202, 202]);
      expect(ourRequest.bytes).toBe(officialRequest.bytes);
    });
  }

  it('the built sink does not load the official client', () => {
    const probe = spawnSync(
      process.execPath,
      ['-e', "require(process.argv[1]); process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes('datadog-api-client'))))", join(__dirname, '..', '..', '..', 'dist', 'sinks', 'datadog', 'index.js')],
      { encoding: 'utf8' },
    );
    expect(probe.stderr).toBe('');
    expect(probe.stdout).toBe('false');
  });
});
