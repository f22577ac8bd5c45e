/**
 * The tap's bounded per-client buffer, over a real HTTP connection on 127.0.0.1: a client that
 * does not read gets at most the buffer, the rest is dropped and counted, publishing never waits,
 * and once the client reads again it is told how many were dropped.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { TapHub } from '../../../src/observe/tap';
import { waitFor } from '../../support/wait';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(() => r(undefined)));
});

async function serve(hub: TapHub): Promise<number> {
  const server = http.createServer((_req, res) => hub.attach(res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

it('a slow client: bounded, dropped and counted, never waited for; told how many once it reads', async () => {
  const hub = new TapHub(64 * 1024);
  const port = await serve(hub);
  // A raw client that sends the request and then does not read.
  const socket = net.connect(port, '127.0.0.1');
  socket.pause();
  socket.write('GET /tap HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor(() => hub.clientCount === 1, 'the client attached');
  const line = JSON.stringify({ event: 'tool_invocation', pad: 'x'.repeat(1000) });
  // ~20 MB, published synchronously with nobody reading: far more than the socket buffers take.
  for (let i = 0; i < 20_000; i++) hub.publish(line);
  expect(hub.droppedEvents).toBeGreaterThan(0);
  expect(hub.sentEvents + hub.droppedEvents).toBe(20_000);
  // Read everything now: the sent events, then one notice with the count of dropped ones.
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (s: string) => (text += s));
  socket.resume();
  await waitFor(() => text.includes('"audit_router_tap"'), 'the dropped notice', 20_000);
  const notice = /\{"audit_router_tap":\{"dropped":(\d+)\}\}/.exec(text);
  expect(Number(notice![1])).toBe(hub.droppedEvents);
  await hub.close();
  socket.destroy();
});

it('a client that reads keeps up: nothing dropped; close ends the stream after the last event', async () => {
  const hub = new TapHub();
  const port = await serve(hub);
  const lines: string[] = [];
  let ended = false;
  http.get({ host: '127.0.0.1', port, path: '/tap' }, (res) => {
    let rest = '';
    res.setEncoding('utf8');
    res.on('data', (s: string) => {
      const parts = (rest + s).split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
    });
    res.on('end', () => (ended = true));
  });
  await waitFor(() => hub.clientCount === 1, 'the client attached');
  for (let i = 0; i < 500; i++) hub.publish(JSON.stringify({ seq: i }));
  await hub.close();
  await waitFor(() => ended, 'the end of the stream');
  expect(hub.droppedEvents).toBe(0);
  expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(Array.from({ length: 500 }, (_, i) => i));
});
