/**
 * `--follow` end to end through bin/audit-router, with real files: every rotation scheme
 * (rename + create, copytruncate, delete + recreate) counted, a pattern picking up a file created
 * later, inode reuse across a restart, exactly-once across clean restarts, a partial last line at
 * shutdown, Docker json-file with a malformed line, and a FIFO whose writer closes and reopens.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, finished, start, tempDir } from '../support/cli';
import { logWatch, readCheckpoints, readOutput } from '../support/follow';
import { waitFor } from '../support/wait';

const dir = tempDir('ar-follow-');
afterAll(() => dir.cleanup());

let seqCounter = 0;
/** `n` audit events, one a line, numbered from `from` (fields.duration_ms). */
function events(from: number, n: number): string {
  let out = '';
  for (let i = from; i < from + n; i++) {
    out +=
      JSON.stringify({
        timestamp: '2026-03-05T10:30:00.000000Z',
        level: 'INFO',
        fields: { event: 'tool_invocation', tool: 'get_key', toolset: 'database', result: 'success', duration_ms: i, arguments: `{"key":"k${i}"}` },
        target: 'audit',
      }) + '\n';
  }
  return out;
}

function workdir(name: string): string {
  const d = join(dir.path, `${name}-${++seqCounter}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/** A config following `paths` with short intervals (tests wait by polling, never by timing). */
function config(d: string, paths: string[], extra: string[] = []): string {
  const file = join(d, 'router.toml');
  writeFileSync(
    file,
    [
      ...extra.filter((l) => !l.startsWith('+')),
      '[[sources]]',
      'type = "file"',
      `paths = [${paths.map((p) => JSON.stringify(p)).join(', ')}]`,
      'poll_interval = "30ms"',
      'glob_interval = "50ms"',
      'checkpoint_interval = "100ms"',
      'partial_line_timeout = "200ms"',
      ...extra.filter((l) => l.startsWith('+')).map((l) => l.slice(1)),
      '[sinks.archive]',
      'type = "file"',
      `path = ${JSON.stringify(join(d, 'out.jsonl'))}`,
      'size = false',
      '[dead_letter]',
      `path = ${JSON.stringify(join(d, 'dead.jsonl'))}`,
    ].join('\n') + '\n',
  );
  return file;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('--follow through rotation', () => {
  it('rename + create, copytruncate and delete + recreate: every event once, in order, each counted', async () => {
    const d = workdir('rotate');
    const log = join(d, 'app.log');
    const out = join(d, 'out.jsonl');
    writeFileSync(log, events(0, 100));
    const router = start(['-c', config(d, [log])]);
    const done = collect(router);
    const caughtUp = (n: number): Promise<void> => waitFor(() => readOutput(out).seqs.length >= n, `${n} events out`);
    await caughtUp(100);
    // rename + create (kubelet, logrotate "create"); a last write lands in the renamed file.
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, events(100, 10));
    writeFileSync(log, events(110, 90));
    await caughtUp(200);
    // copytruncate: copied aside, truncated in place, then written on (shorter than before).
    copyFileSync(log, `${log}.2`);
    truncateSync(log, 0);
    appendFileSync(log, events(200, 20));
    await caughtUp(220);
    appendFileSync(log, events(220, 80));
    await caughtUp(300);
    // delete + recreate.
    unlinkSync(log);
    writeFileSync(log, events(300, 50));
    await caughtUp(350);
    router.kill('SIGTERM');
    const r = await done;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(readOutput(out).seqs).toEqual(range(0, 350));
    const summary = finished(r);
    expect(summary).toMatchObject({ audit: 350, lost: 0, sources: { 'file': { rotations: 2, truncations: 1, files_opened: 4 } } });
  });

  it('a pattern picks up a file created after start-up, and exclude keeps one out', async () => {
    const d = workdir('glob');
    const out = join(d, 'out.jsonl');
    mkdirSync(join(d, 'pods', 'ns_a_1', 'mcp'), { recursive: true });
    const router = start(['-c', config(d, [join(d, 'pods', '*_*_*', 'mcp', '*.log')], ['+exclude = ["**/skip.log"]'])]);
    const done = collect(router);
    await waitFor(() => readFileSync(join(d, 'out.jsonl'), { flag: 'a+' }) !== null, 'the sink file');
    writeFileSync(join(d, 'pods', 'ns_a_1', 'mcp', 'skip.log'), events(1000, 5));
    mkdirSync(join(d, 'pods', 'ns_b_2', 'mcp'), { recursive: true });
    writeFileSync(join(d, 'pods', 'ns_b_2', 'mcp', '0.log'), events(0, 30));
    await waitFor(() => readOutput(out).seqs.length >= 30, 'the late file read');
    router.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(readOutput(out).seqs).toEqual(range(0, 30));
    expect(r.logs.some((l) => l['message'] === 'following file' && String(l['path']).endsWith('ns_b_2/mcp/0.log'))).toBe(true);
  });
});

describe('--follow with --state-dir across restarts', () => {
  it('a clean restart resumes exactly where the sinks left off: no duplicates', async () => {
    const d = workdir('resume');
    const log = join(d, 'app.log');
    const out = join(d, 'out.jsonl');
    const state = join(d, 'state');
    writeFileSync(log, events(0, 40));
    const first = start(['--follow', log, '--state-dir', state, '--file', out]);
    const firstDone = collect(first);
    await waitFor(() => readOutput(out).seqs.length >= 40, 'first run');
    first.kill('SIGTERM');
    expect((await firstDone).code).toBe(0);
    expect([...readCheckpoints(state, 'file').values()]).toEqual([statSync(log).size]);
    appendFileSync(log, events(40, 25));
    const second = start(['--follow', log, '--state-dir', state, '--file', out]);
    const secondDone = collect(second);
    await waitFor(() => readOutput(out).seqs.length >= 65, 'second run');
    second.kill('SIGTERM');
    const r = await secondDone;
    expect(readOutput(out).seqs).toEqual(range(0, 65));
    expect(finished(r)).toMatchObject({ audit: 25, sources: { file: { resumed: 1 } } });
  });

  it('inode reuse is not mistaken for the old file: same inode, other first bytes, read from the start', async () => {
    const d = workdir('inode');
    const log = join(d, 'app.log');
    const out = join(d, 'out.jsonl');
    const state = join(d, 'state');
    const cfg = config(d, [log], [`data_dir = ${JSON.stringify(state)}`]);
    writeFileSync(log, events(0, 20));
    const first = start(['-c', cfg]);
    const firstDone = collect(first);
    await waitFor(() => readOutput(out).seqs.length >= 20, 'first run');
    first.kill('SIGTERM');
    await firstDone;
    const ino = statSync(log).ino;
    // Replaced in place while the router is down: the same inode (for certain), longer content.
    writeFileSync(log, events(500, 60));
    expect(statSync(log).ino).toBe(ino);
    // And delete + create, which on ext4 usually hands out the freed inode again.
    const second = start(['-c', cfg]);
    const secondDone = collect(second);
    await waitFor(() => readOutput(out).seqs.length >= 80, 'second run');
    second.kill('SIGTERM');
    const r = await secondDone;
    expect(readOutput(out).seqs).toEqual([...range(0, 20), ...range(500, 560)]);
    expect(r.logs.some((l) => l['message'] === 'inode reused by another file: reading it from the start')).toBe(true);
    expect(finished(r)).toMatchObject({ audit: 60, sources: { 'file': { replaced: 1, resumed: 0 } } });
  });

  it('a partial last line waits at shutdown for partial_line_timeout, is handed on and counted, and is not checkpointed', async () => {
    const d = workdir('partial');
    const log = join(d, 'app.log');
    const out = join(d, 'out.jsonl');
    const state = join(d, 'state');
    const whole = events(0, 5);
    const last = events(5, 1).trimEnd();
    writeFileSync(log, whole + last);
    const router = start(['-c', config(d, [log], [`data_dir = ${JSON.stringify(state)}`])]);
    const done = collect(router);
    await waitFor(() => readOutput(out).seqs.length >= 5, 'the complete lines');
    router.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(readOutput(out).seqs).toEqual(range(0, 6));
    expect(finished(r)).toMatchObject({ audit: 6, framing: { incomplete: 1 } });
    // The checkpoint stays before it: the next run reads the line again, whole once finished.
    expect([...readCheckpoints(state, 'file').values()]).toEqual([Buffer.byteLength(whole)]);
  });

  it('without a state dir, start-up says that a restart reads again from read_from', async () => {
    const d = workdir('nostate');
    const log = join(d, 'app.log');
    writeFileSync(log, events(0, 3));
    const router = start(['--follow', log, '--file', join(d, 'out.jsonl')]);
    const done = collect(router);
    await waitFor(() => readOutput(join(d, 'out.jsonl')).seqs.length >= 3, 'the events');
    router.kill('SIGTERM');
    const r = await done;
    expect(r.logs.find((l) => l['message'] === 'no state directory: a restart reads the files again from read_from')).toMatchObject({
      level: 'WARN',
      read_from: 'beginning',
    });
  });
});

describe('container log formats on a followed file', () => {
  it('docker json-file (auto-detected): parts joined, a malformed line dead-lettered as size + hash only', async () => {
    const d = workdir('docker');
    const log = join(d, 'ctr-json.log');
    const out = join(d, 'out.jsonl');
    const lines = events(0, 3).trimEnd().split('\n');
    const docker = (log: string) => JSON.stringify({ log, stream: 'stderr', time: '2026-03-05T10:30:00.123456789Z' }) + '\n';
    const secret = 'not-json password=hunter2';
    writeFileSync(log, docker(lines[0]! + '\n') + docker(lines[1]!.slice(0, 50)) + docker(lines[1]!.slice(50) + '\n') + secret + '\n' + docker(lines[2]! + '\n'));
    const router = start(['--follow', log, '--input-format', 'auto', '--file', out, '--dead-letter', join(d, 'dead.jsonl')]);
    const done = collect(router);
    await waitFor(() => readOutput(out).seqs.length >= 3, 'the events');
    router.kill('SIGTERM');
    const r = await done;
    expect(readOutput(out).seqs).toEqual([0, 1, 2]);
    expect(finished(r)).toMatchObject({ audit: 3, malformed: 1, framing: { parts_joined: 1 } });
    const dead = readFileSync(join(d, 'dead.jsonl'), 'utf8');
    expect(JSON.parse(dead)).toMatchObject({ reason: 'malformed_framing', line: 4, size: secret.length, source: log });
    expect(dead).not.toContain('hunter2');
    expect(r.logs.find((l) => l['message'] === 'input format detected')).toMatchObject({ format: 'docker' });
  });
});

describe('--follow on a FIFO', () => {
  it('reads writer after writer: a closing writer does not end the router', async () => {
    const d = workdir('fifo');
    const fifo = join(d, 'mcp.stderr');
    const out = join(d, 'out.jsonl');
    execFileSync('mkfifo', [fifo]);
    const router = start(['--follow', fifo, '--file', out]);
    const logged = logWatch(router);
    const done = collect(router);
    // Each writer opens, writes and closes. A writer that opens before the router saw the previous
    // one close shares its session (a pipe has no notion of writers): each waits for the close,
    // as a server restarting in the pod takes a while.
    await writeFile(fifo, events(0, 10));
    await waitFor(() => logged('FIFO writer closed; waiting for the next one') >= 1, 'the first writer closed');
    await writeFile(fifo, events(10, 10) + '{"unfinished":'); // dies in the middle of a line
    await waitFor(() => logged('FIFO writer closed; waiting for the next one') >= 2, 'the second writer closed');
    await writeFile(fifo, events(20, 10));
    await waitFor(() => readOutput(out).seqs.length >= 30, 'the later writers');
    router.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(readOutput(out).seqs).toEqual(range(0, 30));
    expect(finished(r)).toMatchObject({ audit: 30, framing: { incomplete: 1 }, sources: { fifo: { writers: 3 } } });
  });
});
