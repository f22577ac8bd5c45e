#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * The no-loss figure of `--follow` + a state directory across kill -9 (issue 9), at scale:
 * a kubelet-like writer (test/support/log-writer.js) writes N audit events in CRI format at a
 * steady rate into 0.log, rotating by rename every `rotate` events (rotated files gzipped two
 * rotations later; every 997th event ~40 KiB in 16 KiB P parts), while the router (file sink,
 * checkpoint_interval 1 s, the default) is killed with SIGKILL `kills` times at random moments
 * and restarted on the same state dir. At the end: events lost (must be 0), duplicates, and the
 * final run's peak RSS. Run once by hand, not in CI:
 *
 *   node bench/follow-kill.js [--events 100000] [--kills 5] [--rate 5000] [--seed 1]
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** @type {Record<string, string | undefined>} */
const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a?.startsWith('--')) args[a.slice(2)] = process.argv[++i];
}
const EVENTS = Number(args.events ?? 100_000);
const KILLS = Number(args.kills ?? 5);
const RATE = Number(args.rate ?? 5000);
let seed = Number(args.seed ?? 1);
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'audit-router');
const WRITER = path.join(ROOT, 'test', 'support', 'log-writer.js');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-bench-follow-'));
const logDir = path.join(dir, 'pods', 'ns_mcp_uid', 'mcp');
fs.mkdirSync(logDir, { recursive: true });
const out = path.join(dir, 'audit.jsonl');
const config = path.join(dir, 'router.toml');
fs.writeFileSync(
  config,
  [
    `data_dir = ${JSON.stringify(path.join(dir, 'state'))}`,
    '[[sources]]',
    'type = "file"',
    `paths = [${JSON.stringify(path.join(dir, 'pods', '*_*_*', 'mcp', '*.log'))}]`,
    'format = "cri"',
    '[sinks.archive]',
    'type = "file"',
    `path = ${JSON.stringify(out)}`,
    'size = false',
  ].join('\n') + '\n',
);

/** Output events in order (seq = fields.duration_ms); a torn line left by a kill is recovered. */
function readOutput() {
  if (!fs.existsSync(out)) return { seqs: /** @type {number[]} */ ([]), torn: 0 };
  const text = fs.readFileSync(out, 'utf8');
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop();
  const seqs = [];
  let torn = 0;
  for (const line of lines) {
    if (!line) continue;
    let v = null;
    try {
      v = JSON.parse(line);
    } catch {
      torn++;
      const at = line.lastIndexOf('{"timestamp"');
      try {
        v = at > 0 ? JSON.parse(line.slice(at)) : null;
      } catch {
        v = null;
      }
    }
    if (v?.fields?.duration_ms !== undefined) seqs.push(v.fields.duration_ms);
  }
  return { seqs, torn };
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startRouter() {
  const rusage = path.join(dir, `rusage-${Date.now()}`);
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rusage, process.execPath, BIN, '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b.toString()));
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, done, rusage, stderr: () => stderr };
}

async function main() {
  const t0 = Date.now();
  let router = startRouter();
  await sleep(1000);
  const perTick = Math.max(1, Math.round(RATE / 100));
  const writer = spawn(process.execPath, [WRITER, JSON.stringify({ dir: logDir, events: EVENTS, format: 'cri', rotation: 'rename', rotateEvery: Math.max(1000, Math.floor(EVENTS / 12)), bigEvery: 997, perTick, tickMs: 10 })], { stdio: 'inherit' });
  const writerDone = new Promise((resolve) => writer.on('close', resolve));
  const writeSeconds = EVENTS / RATE;
  const kills = [];
  for (let k = 0; k < KILLS; k++) {
    await sleep(((writeSeconds * 1000) / (KILLS + 1)) * (0.5 + random()));
    // The killed process is the router (time's child): find it by its parent's pid.
    const pids = fs.readFileSync(`/proc/${router.child.pid}/task/${router.child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await router.done;
    kills.push({ at_s: (Date.now() - t0) / 1000, delivered: readOutput().seqs.length });
    router = startRouter();
  }
  await writerDone;
  while (new Set(readOutput().seqs).size < EVENTS) {
    await sleep(500);
    if (Date.now() - t0 > 600_000) break;
  }
  const pids = fs.readFileSync(`/proc/${router.child.pid}/task/${router.child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const end = await router.done;
  const { seqs, torn } = readOutput();
  const unique = new Set(seqs);
  const lost = EVENTS - [...unique].filter((s) => s >= 0 && s < EVENTS).length;
  const finished = router.stderr().split('\n').find((l) => l.includes('"message":"finished"'));
  const peakKb = Number(fs.readFileSync(router.rusage, 'utf8').trim().split('\n').pop());
  const result = {
    events: EVENTS,
    rate_per_s: RATE,
    kills: kills.length,
    kill_points: kills,
    delivered_lines: seqs.length,
    lost,
    duplicates: seqs.length - unique.size,
    torn_lines: torn,
    final_run: { exit: end, peak_rss_mb: Math.round(peakKb / 102.4) / 10, summary: finished ? JSON.parse(finished) : null },
    wall_s: (Date.now() - t0) / 1000,
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load ${os.loadavg()[0].toFixed(1)}`,
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = lost === 0 ? 0 : 1;
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
