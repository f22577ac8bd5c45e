#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * Benchmarks of the network sinks (Datadog, Fluentd) against the strict local receivers of the
 * tests, run in this process (bench/lib/receivers.js). See bench/README.md, "Network sinks".
 *
 *   node bench/network.js [outage|throughput|all] [--outage-seconds S] [--rate R] [--events N]
 *                         [--seed S] [--parallel P] [--max-backoff D] [--rusage gnu-time|node-hook]
 *
 * outage: audit events paced at --rate into `audit-router -c <one network sink>`; the receiver is
 * taken down for --outage-seconds, then brought back. Measured: the router's RSS over time
 * (/proc, every 0.5 s), its event-loop delay per phase (a preload hook), when delivery resumes
 * and when the backlog is delivered; checked: every event sent arrives.
 * throughput: N audit events from a file, as fast as the router takes them, to one receiver;
 * wall time to exit, CPU seconds (GNU time), and every event checked at the receiver.
 *
 * Exit status: 0 when every run was correct, 1 when one was not, 2 on bad usage.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { generate } = require('../scripts/generate-stream.js');
const { ensureInput, CACHE_DIR } = require('./lib/inputs.js');
const { runMeasured, describeMethod, describeCommand, detectMethod, useMethod } = require('./lib/proc.js');
const { machine, load, fixed, grouped, table, writeResult, check, finishedLog, checkBuild, targetsTable, ROOT } = require('./lib/report.js');
const { quantile, max } = require('./lib/stats.js');
const { sampleRss } = require('./lib/rss-sampler.js');
const { startDatadog, startFluentd } = require('./lib/receivers.js');

const BIN = path.join(ROOT, 'bin', 'audit-router');
const LOOP_HOOK = path.join(__dirname, 'lib', 'loop-delay-hook.js');
const KINDS = /** @type {const} */ (['datadog', 'fluentd']);
const BUFFERS = /** @type {const} */ (['memory', 'disk']);
/** Seconds of steady feeding with the receiver up before the outage, and after the backlog is delivered. */
const WARMUP_S = 5;
const TAIL_S = 5;
const RSS_INTERVAL_MS = 500;

const TARGETS = {
  /** docs/performance.md: every scenario. */
  rssMB: 64,
  /** Ours: RSS at the end of the outage over RSS at a third of it (20 s of 60): bounded, not growing. */
  outageRssGrowth: 1.1,
};

const USAGE = `usage: node bench/network.js [outage|throughput|all] [options]
  --outage-seconds S  outage: how long the receiver is down (default 60)
  --rate R            outage: audit events per second written to the router (default 1000)
  --events N          throughput: audit events per run (default 200000)
  --seed S            generator seed (default 42)
  --parallel P        outage: how many of its 4 runs (2 receivers x memory/disk) run at once (default 2)
  --max-backoff D     outage: the sinks' retry.max_backoff, e.g. "10s" (default: the sinks' default, 60s)
  --receiver K        only this receiver: datadog or fluentd (default both)
  --buffer B          outage: only this buffer: memory or disk (default both)
  --rusage M          throughput: gnu-time (default when /usr/bin/time exists) or node-hook`;

/**
 * @typedef {{ scenarios: string[], outageSeconds: number, rate: number, events: number, seed: number,
 *   parallel: number, maxBackoff: string | null, kinds: ('datadog'|'fluentd')[], buffers: ('memory'|'disk')[] }} Options
 */

/** @param {string[]} argv @returns {Options} */
function parseArgs(argv) {
  /** @type {string | undefined} */ let which;
  /** @type {Options} */
  const o = { scenarios: [], outageSeconds: 60, rate: 1000, events: 200_000, seed: 42, parallel: 2, maxBackoff: null, kinds: [...KINDS], buffers: [...BUFFERS] };
  const num = (/** @type {string} */ flag, /** @type {string | undefined} */ v, /** @type {number} */ min) => {
    const x = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(x) || x < min) throw new Error(`${flag} needs a number >= ${min}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--outage-seconds': o.outageSeconds = num(a, argv[++i], 1); break;
      case '--rate': o.rate = num(a, argv[++i], 1); break;
      case '--events': o.events = Math.floor(num(a, argv[++i], 1)); break;
      case '--seed': o.seed = num(a, argv[++i], 0); break;
      case '--parallel': o.parallel = Math.floor(num(a, argv[++i], 1)); break;
      case '--max-backoff': {
        const d = argv[++i];
        if (d === undefined || !/^\d+(ms|s|m)?$/.test(d)) throw new Error('--max-backoff needs a duration like 10s or 500ms');
        o.maxBackoff = d;
        break;
      }
      case '--receiver': {
        const k = KINDS.find((x) => x === argv[i + 1]);
        if (!k) throw new Error('--receiver must be datadog or fluentd');
        o.kinds = [k];
        i++;
        break;
      }
      case '--buffer': {
        const b = BUFFERS.find((x) => x === argv[i + 1]);
        if (!b) throw new Error('--buffer must be memory or disk');
        o.buffers = [b];
        i++;
        break;
      }
      case '--rusage': {
        const m = argv[++i];
        if (m !== 'gnu-time' && m !== 'node-hook') throw new Error('--rusage must be gnu-time or node-hook');
        useMethod(m);
        break;
      }
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default:
        if (a.startsWith('-') || which !== undefined || !['outage', 'throughput', 'all'].includes(a)) throw new Error(`unexpected argument ${a}`);
        which = a;
    }
  }
  o.scenarios = which === undefined || which === 'all' ? ['outage', 'throughput'] : [which];
  return o;
}

/** @param {string} msg */
const log = (msg) => process.stderr.write(`bench: ${msg}\n`);
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
/** @param {number} x @param {number} digits */
const round = (x, digits) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);


/** The sink's counters from the finished line. @param {any} finished @param {string} sink */
function sinkCounters(finished, sink) {
  return finished?.sinks?.[sink] ? finished.sinks[sink] : null;
}

/** @param {'datadog'|'fluentd'} kind @param {string} dir */
function startReceiver(kind, dir) {
  return kind === 'datadog' ? startDatadog(path.join(dir, 'dd-api-key')) : startFluentd();
}

// ---------------------------------------------------------------------------------------------
// outage

/**
 * Writes generated audit events to `stdin` at `rate` per second, on schedule whether or not the
 * router reads them: when it stops reading (when_full = "block"), the lines wait in the pipe and
 * then in this process, as they would in front of a blocked stderr.
 * @param {import('node:stream').Writable} stdin @param {number} rate @param {number} seed
 */
function startPacing(stdin, rate, seed) {
  const lines = generate({ scenario: 'audit', lines: Number.MAX_SAFE_INTEGER, seed });
  const interval = 1000 / rate;
  const t0 = nowMs();
  let sent = 0;
  let stopped = false;
  let maxBacklogBytes = 0;
  /** @type {number[]} */ const lag = [];
  /** @type {Error | null} */ let error = null;
  /** @type {NodeJS.Timeout | null} */ let timer = null;
  stdin.on('error', (err) => { error = err; });
  const tick = () => {
    timer = null;
    if (stopped) return;
    const now = nowMs();
    while (t0 + sent * interval <= now) {
      const { value } = lines.next();
      if (value === undefined) throw new Error('generator ended');
      lag.push(now - (t0 + sent * interval));
      stdin.write(value.line + '\n');
      sent++;
    }
    if (stdin.writableLength > maxBacklogBytes) maxBacklogBytes = stdin.writableLength;
    timer = setTimeout(tick, Math.max(0, t0 + sent * interval - nowMs()));
  };
  tick();
  return {
    sent: () => sent,
    /** Stops writing and ends stdin (EOF once what waits in this process is written). */
    end() {
      stopped = true;
      if (timer) clearTimeout(timer);
      stdin.end();
    },
    stats: () => ({
      sent,
      maxBacklogMB: round(maxBacklogBytes / 2 ** 20, 2),
      lagP99Ms: round(quantile(lag, 0.99), 2),
      lagMaxMs: round(max(lag), 2),
      error: error ? /** @type {Error} */ (error).message : null,
    }),
  };
}

/** @param {() => boolean} done @param {number} timeoutMs @param {string} what */
async function until(done, timeoutMs, what) {
  const deadline = nowMs() + timeoutMs;
  while (!done()) {
    if (nowMs() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * RSS figures of a run from its samples. @param {{ tS: number, rssKB: number }[]} samples
 * @param {Record<string, number>} at phase times, s from spawn
 * @param {number} outageS
 */
function rssFigures(samples, at, outageS) {
  const mb = (/** @type {number} */ kb) => round(kb / 1024, 1);
  /** The last sample at or before t. @param {number} t */
  const atTime = (t) => {
    let v = NaN;
    for (const s of samples) if (s.tS <= t) v = s.rssKB;
    return mb(v);
  };
  /** @param {number} a @param {number} b */
  const peak = (a, b) => mb(max(samples.filter((s) => s.tS >= a && s.tS <= b).map((s) => s.rssKB)));
  const third = at.down + outageS / 3;
  return {
    started: atTime(at.started + RSS_INTERVAL_MS / 1000),
    beforeOutage: atTime(at.down),
    atThirdOfOutage: atTime(third),
    atEndOfOutage: atTime(at.up),
    peakOutage: peak(at.down, at.up),
    peakRecovery: peak(at.up, at.drained),
    end: atTime(at.eof),
    thirdAtS: round(outageS / 3, 1),
  };
}

/**
 * One outage run: a receiver, a router with one sink to it, paced input, the outage.
 * @param {'datadog'|'fluentd'} kind @param {'memory'|'disk'} buffer @param {Options} o
 */
async function outageRun(kind, buffer, o) {
  const label = `${kind}/${buffer}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `audit-router-bench-net-${kind}-${buffer}-`));
  const rx = await startReceiver(kind, dir);
  try {
    let toml = rx.sinkToml(kind) + 'when_full = "block"\n';
    toml += buffer === 'memory' ? 'queue = { max_events = 10000 }\n' : `buffer = { type = "disk", path = ${JSON.stringify(path.join(dir, 'buffer'))} }\n`;
    if (o.maxBackoff) toml += `retry = { max_backoff = "${o.maxBackoff}" }\n`;
    const configPath = path.join(dir, 'audit-router.toml');
    fs.writeFileSync(configPath, toml);
    const loopFile = path.join(dir, 'loop-delay.json');
    // The launcher itself (its V8 flags are part of what is measured), the hook preloaded through
    // NODE_OPTIONS; the launcher execs node, so the PID sampled is the router's.
    const argv = [BIN, '-c', configPath, '--log-level', 'debug'];
    const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(LOOP_HOOK)}`.trim();

    const t0 = nowMs();
    const since = () => round((nowMs() - t0) / 1000, 3);
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: nodeOptions, AUDIT_ROUTER_BENCH_LOOP_DELAY: loopFile },
    });
    const sampler = sampleRss(/** @type {number} */ (child.pid), { wrapped: false, intervalMs: RSS_INTERVAL_MS });
    let stderr = '';
    let partial = '';
    let started = false;
    /** The sink's failed attempts and its recovery, from the router's own log (--log-level debug). */
    /** @type {{ atS: number, message: string, attempt?: number, retryInMs?: number, detail?: string, events?: number }[]} */
    const attempts = [];
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (/** @type {string} */ s) => {
      stderr += s;
      if (stderr.length > 256 * 1024) stderr = stderr.slice(-128 * 1024);
      partial += s;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        if (!started && line.includes('"message":"started"')) started = true;
        if (!line.includes('"message":"delivery ')) continue;
        try {
          const l = JSON.parse(line);
          attempts.push({ atS: since(), message: l.message, attempt: l.attempt, retryInMs: l.retry_in_ms, detail: l.detail, events: l.events });
        } catch {
          // not one of ours
        }
      }
    });
    /** @type {Promise<{ code: number | null, signal: string | null }>} */
    const exited = new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    let exitedYet = false;
    exited.then(() => { exitedYet = true; }, () => { exitedYet = true; });
    /** Closes the router's current event-loop-delay phase (bench/lib/loop-delay-hook.js). */
    const mark = () => { if (!exitedYet) child.kill('SIGUSR2'); };

    /** @type {Record<string, number>} */ const at = {};
    /** @type {ReturnType<typeof startPacing> | null} */ let pacing = null;
    /** @type {string | null} */ let failure = null;
    let sentAtUp = 0;
    let distinctAtUp = 0;
    try {
      await until(() => started || exitedYet, 30_000, `${label}: the router's "started" line`);
      if (exitedYet) throw new Error('the router exited before it started');
      at.started = since();
      pacing = startPacing(/** @type {import('node:stream').Writable} */ (child.stdin), o.rate, o.seed);
      const p = pacing;
      await sleep(WARMUP_S * 1000);
      mark();
      await rx.down();
      at.down = since();
      log(`${label}: receiver down at ${at.down.toFixed(1)} s (${grouped(p.sent())} sent, ${grouped(rx.tally().distinct)} delivered)`);
      await sleep(o.outageSeconds * 1000);
      mark();
      await rx.up();
      at.up = since();
      sentAtUp = p.sent();
      const tally = rx.tally();
      distinctAtUp = tally.distinct;
      log(`${label}: receiver back at ${at.up.toFixed(1)} s (${grouped(sentAtUp)} sent, ${grouped(distinctAtUp)} delivered)`);
      const backoffS = o.maxBackoff ? Number.parseInt(o.maxBackoff, 10) * (o.maxBackoff.endsWith('ms') ? 0.001 : o.maxBackoff.endsWith('m') ? 60 : 1) : 60;
      await until(() => {
        const t = rx.tally();
        if (at.resumed === undefined && t.distinct > distinctAtUp) at.resumed = since();
        return t.prefix >= sentAtUp || exitedYet;
      }, (backoffS + 120) * 1000, `${label}: the ${grouped(sentAtUp)} events sent before the receiver came back`);
      if (exitedYet) throw new Error('the router exited during the recovery');
      at.drained = since();
      mark();
      log(`${label}: backlog delivered ${(at.drained - at.up).toFixed(1)} s after recovery`);
      await sleep(TAIL_S * 1000);
      mark();
      at.eof = since();
      p.end();
    } catch (err) {
      failure = /** @type {Error} */ (err).message;
      log(`${label} FAILED: ${failure}\n${stderr.slice(-1500)}`);
      if (pacing) pacing.end();
      else child.stdin?.end();
      // Give it its shutdown time, then stop it.
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited.catch(() => undefined);
      clearTimeout(killer);
    }
    const { code, signal } = await exited;
    at.exit = since();
    const samples = sampler.stop();
    const tally = rx.tally();
    const sent = pacing ? pacing.sent() : 0;
    /** @type {any} */ let loop = null;
    try {
      loop = JSON.parse(fs.readFileSync(loopFile, 'utf8'));
    } catch {
      loop = null;
    }
    const finished = finishedLog(stderr);
    const counters = sinkCounters(finished, kind);
    const missing = tally.missingBelow(sent);
    const ok = failure === null && code === 0 && sent > 0 && missing === 0 && tally.distinct === sent && tally.noSeq === 0;
    if (failure === null && !ok) {
      log(`${label} FAILED: exit ${code}${signal ? ` (${signal})` : ''}, ${tally.distinct} of ${sent} events at the receiver (${missing} missing, ${tally.noSeq} without seq)\n${stderr.slice(-1500)}`);
    }
    const failed = attempts.filter((a) => a.message === 'delivery failed, retrying');
    const lastBeforeUp = failed.filter((a) => at.up !== undefined && a.atS <= at.up).pop();
    const phaseNames = ['start + warm-up', 'outage', 'recovery', 'steady', 'shutdown'];
    return {
      receiver: kind,
      buffer,
      ok,
      failure,
      config: toml,
      command: `${argv.map((a) => path.relative(ROOT, a).startsWith('..') ? a : path.relative(ROOT, a) || '.').join(' ')} (stdin: a pipe written at ${o.rate}/s; env NODE_OPTIONS=--require bench/lib/loop-delay-hook.js, AUDIT_ROUTER_BENCH_LOOP_DELAY)`,
      exitCode: code,
      signal,
      sent,
      delivered: tally.distinct,
      duplicates: tally.duplicates,
      missing,
      sentBeforeRecovery: sentAtUp,
      deliveredBeforeOutageEnd: distinctAtUp,
      /** s from spawn: started, down, up, resumed (first new delivery), drained, eof, exit. */
      at,
      resumeS: at.resumed !== undefined ? round(at.resumed - at.up, 2) : NaN,
      drainS: at.drained !== undefined ? round(at.drained - at.up, 2) : NaN,
      shutdownS: at.eof !== undefined ? round(at.exit - at.eof, 2) : NaN,
      rssMB: at.drained !== undefined ? rssFigures(samples, at, o.outageSeconds) : null,
      peakRssMB: loop ? round(loop.rusage.maxRssKB / 1024, 1) : NaN,
      cpuS: loop ? round(loop.rusage.userS + loop.rusage.systemS, 2) : NaN,
      loopDelayMs: loop ? {
        resolutionMs: loop.resolutionMs,
        whole: loop.whole,
        phases: loop.phases.map((/** @type {any} */ ph, /** @type {number} */ i) => ({ phase: phaseNames[i] ?? `phase ${i}`, ...ph })),
      } : null,
      pacing: pacing ? pacing.stats() : null,
      router: counters,
      failedAttempts: failed.length,
      /** When the last retry scheduled during the outage was due, s after the receiver came back (what "resumed" waits for). */
      retryDueAfterRecoveryS: lastBeforeUp && lastBeforeUp.retryInMs !== undefined ? round(lastBeforeUp.atS + lastBeforeUp.retryInMs / 1000 - at.up, 2) : NaN,
      attempts,
      receiverStats: rx.stats(),
      rssSamples: samples,
    };
  } finally {
    await rx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** @param {Options} o */
async function outage(o) {
  const cases = o.buffers.flatMap((buffer) => o.kinds.map((kind) => /** @type {const} */ ([kind, buffer])));
  const loadBefore = load();
  const started = nowMs();
  const runs = [];
  for (let i = 0; i < cases.length; i += o.parallel) {
    const group = cases.slice(i, i + o.parallel);
    log(`outage: ${group.map(([k, b]) => `${k}/${b}`).join(' + ')}: ${o.rate} events/s, ${WARMUP_S} s up, ${o.outageSeconds} s down, then up until delivered + ${TAIL_S} s`);
    runs.push(...(await Promise.all(group.map(([kind, buffer]) => outageRun(kind, buffer, o)))));
  }
  const checks = runs.flatMap((r) => {
    const where = `outage ${r.receiver}/${r.buffer}`;
    const growth = r.rssMB ? r.rssMB.atEndOfOutage / r.rssMB.atThirdOfOutage : NaN;
    return [
      check(where, `RSS at ${o.outageSeconds} s of outage / at ${r.rssMB ? r.rssMB.thirdAtS : '-'} s`, growth, TARGETS.outageRssGrowth, 'x'),
      check(where, 'peak RSS', r.peakRssMB, TARGETS.rssMB, 'MB'),
    ];
  });
  return {
    scenario: 'network-outage',
    ok: runs.every((r) => r.ok),
    rate: o.rate,
    outageSeconds: o.outageSeconds,
    warmupSeconds: WARMUP_S,
    tailSeconds: TAIL_S,
    parallel: o.parallel,
    wallS: round((nowMs() - started) / 1000, 1),
    checks,
    loadBefore,
    loadAfter: load(),
    runs,
  };
}

// ---------------------------------------------------------------------------------------------
// throughput

/** @param {'datadog'|'fluentd'} kind @param {import('./lib/inputs.js').BenchInput} input */
async function throughputRun(kind, input) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `audit-router-bench-net-${kind}-`));
  const rx = await startReceiver(kind, dir);
  try {
    const toml = rx.sinkToml(kind) + (kind === 'datadog' ? 'compression = "gzip"\n' : 'require_ack = true\n');
    const configPath = path.join(dir, 'audit-router.toml');
    fs.writeFileSync(configPath, toml);
    const argv = [BIN, '-c', configPath];
    log(`throughput: ${kind}: ${grouped(input.expectedAudit)} audit events ...`);
    const fd = fs.openSync(input.path, 'r');
    // The receiver runs in this process: its CPU is this process's CPU during the run.
    const cpuBefore = process.cpuUsage();
    // Tally as it arrives, so the receiver's arrays never hold the whole run.
    const tallying = setInterval(() => rx.tally(), 200);
    /** @type {number} */ let spawnedAt = 0;
    /** @type {number} */ let startedAt = NaN;
    let m;
    try {
      m = await runMeasured(argv, {
        stdin: fd,
        onSpawn(child) {
          spawnedAt = nowMs();
          let seen = '';
          child.stderr?.on('data', (/** @type {string} */ s) => {
            if (!Number.isNaN(startedAt)) return;
            seen += s;
            if (seen.includes('"message":"started"')) startedAt = nowMs();
          });
        },
      });
    } finally {
      clearInterval(tallying);
      fs.closeSync(fd);
    }
    const receiverCpu = process.cpuUsage(cpuBefore);
    const tally = rx.tally();
    const n = input.expectedAudit;
    const missing = tally.missingBelow(n);
    const counters = sinkCounters(finishedLog(m.stderrTail), kind);
    const ok = m.exitCode === 0 && missing === 0 && tally.distinct === n && tally.noSeq === 0;
    if (!ok) log(`throughput ${kind} FAILED: exit ${m.exitCode}, ${tally.distinct} of ${n} events at the receiver (${missing} missing)\n${m.stderrTail.slice(-1500)}`);
    const afterStartS = Number.isNaN(startedAt) ? NaN : m.wallS - (startedAt - spawnedAt) / 1000;
    return {
      receiver: kind,
      ok,
      config: toml.replace(configPath, '<config>'),
      command: describeCommand(argv) + ` < ${input.path}`,
      events: n,
      delivered: tally.distinct,
      duplicates: tally.duplicates,
      missing,
      wallS: round(m.wallS, 3),
      wallAfterStartS: round(afterStartS, 3),
      cpuS: round(m.cpuS, 3),
      userS: m.userS,
      systemS: m.systemS,
      maxRssKB: m.maxRssKB,
      eventsPerSecondWall: round(n / m.wallS, 0),
      eventsPerSecondAfterStart: round(n / afterStartS, 0),
      eventsPerCpuSecond: round(n / m.cpuS, 0),
      receiverCpuS: round((receiverCpu.user + receiverCpu.system) / 1e6, 3),
      exitCode: m.exitCode,
      router: counters,
      receiverStats: rx.stats(),
      load: load(),
    };
  } finally {
    await rx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** @param {Options} o */
async function throughput(o) {
  const input = await ensureInput({ scenario: 'audit', lines: o.events, seed: o.seed, log });
  const loadBefore = load();
  const runs = [];
  for (const kind of o.kinds) runs.push(await throughputRun(kind, input));
  return {
    scenario: 'network-throughput',
    ok: runs.every((r) => r.ok),
    input,
    checks: runs.map((r) => check(`throughput ${r.receiver}`, 'peak RSS', r.maxRssKB / 1024, TARGETS.rssMB, 'MB')),
    loadBefore,
    loadAfter: load(),
    runs,
  };
}

// ---------------------------------------------------------------------------------------------


/** @param {any[]} results @param {boolean} [withTargets] */
function printSummary(results, withTargets = true) {
  const out = (/** @type {string} */ s) => process.stdout.write(s + '\n');
  const outageResult = results.find((r) => r.scenario === 'network-outage');
  if (outageResult) {
    const r = outageResult;
    const third = `RSS @${fixed(r.outageSeconds / 3, 0)} s`;
    out(`\noutage: ${r.rate} events/s; receiver up ${r.warmupSeconds} s, down ${r.outageSeconds} s, up until the backlog is delivered + ${r.tailSeconds} s (${r.parallel} runs at a time; ${fixed(r.wallS, 0)} s)`);
    out('router RSS, MB (sampled every 0.5 s from /proc)');
    out(table(
      ['receiver', 'buffer', 'started', 'before outage', `${third} down`, `@${r.outageSeconds} s down`, 'peak down', 'peak recovery', 'end', 'peak (rusage)'],
      r.runs.map((/** @type {any} */ x) => {
        const m = x.rssMB ?? {};
        return [x.receiver, x.buffer, fixed(m.started, 1), fixed(m.beforeOutage, 1), fixed(m.atThirdOfOutage, 1), fixed(m.atEndOfOutage, 1), fixed(m.peakOutage, 1), fixed(m.peakRecovery, 1), fixed(m.end, 1), fixed(x.peakRssMB, 1)];
      }),
    ));
    out('\ndelivery');
    out(table(
      ['receiver', 'buffer', 'sent', 'delivered', 'duplicates', 'failed attempts', 'retry due after s', 'resumed after s', 'backlog delivered after s', 'held upstream MB', 'CPU s', 'check'],
      r.runs.map((/** @type {any} */ x) => [
        x.receiver, x.buffer, grouped(x.sent), grouped(x.delivered), grouped(x.duplicates), String(x.failedAttempts), fixed(x.retryDueAfterRecoveryS, 1),
        fixed(x.resumeS, 1), fixed(x.drainS, 1), x.pacing ? fixed(x.pacing.maxBacklogMB, 1) : '-', fixed(x.cpuS, 1),
        x.ok ? 'ok (every event sent delivered)' : `FAILED${x.failure ? `: ${x.failure}` : ''}`,
      ]),
    ));
    out('\nrouter event-loop delay, ms: p99 / max (monitorEventLoopDelay, 10 ms resolution)');
    const phases = ['start + warm-up', 'outage', 'recovery', 'steady', 'shutdown'];
    out(table(
      ['receiver', 'buffer', 'whole run', ...phases],
      r.runs.map((/** @type {any} */ x) => {
        const l = x.loopDelayMs;
        const pm = (/** @type {any} */ s) => (s && s.count > 0 ? `${fixed(s.p99, 1)} / ${fixed(s.max, 1)}` : '-');
        return [x.receiver, x.buffer, pm(l?.whole), ...phases.map((p) => pm(l?.phases.find((/** @type {any} */ q) => q.phase === p)))];
      }),
    ));
    out('\nrouter CPU seconds per phase (process.cpuUsage(); phase lengths differ: see "at" in the JSON)');
    out(table(
      ['receiver', 'buffer', 'whole run', ...phases],
      r.runs.map((/** @type {any} */ x) => {
        const l = x.loopDelayMs;
        const cpu = (/** @type {any} */ s) => (s ? fixed(s.cpuS, 2) : '-');
        return [x.receiver, x.buffer, fixed(x.cpuS, 2), ...phases.map((p) => cpu(l?.phases.find((/** @type {any} */ q) => q.phase === p)))];
      }),
    ));
  }
  const tp = results.find((r) => r.scenario === 'network-throughput');
  if (tp) {
    out(`\nthroughput: ${grouped(tp.input.expectedAudit)} audit events from a file, EOF -> delivered -> exit`);
    out(table(
      ['receiver', 'wall s', 'events/s (wall)', 'events/s after start', 'CPU s', 'events per CPU-second', 'peak RSS MB', 'receiver CPU s', 'check'],
      tp.runs.map((/** @type {any} */ x) => [
        x.receiver, fixed(x.wallS, 2), grouped(x.eventsPerSecondWall), grouped(x.eventsPerSecondAfterStart), fixed(x.cpuS, 2), grouped(x.eventsPerCpuSecond),
        fixed(x.maxRssKB / 1024, 1), fixed(x.receiverCpuS, 2), x.ok ? `ok (${grouped(x.delivered)} delivered, ${grouped(x.duplicates)} duplicates)` : 'FAILED',
      ]),
    ));
    out('receiver CPU: the receiver runs in the bench process; this is that process\'s CPU during the run');
  }
  const checks = results.flatMap((r) => r.checks);
  if (withTargets) out(targetsTable(checks));
}

async function main() {
  /** @type {Options} */ let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${/** @type {Error} */ (err).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  checkBuild(log);
  const started = new Date();
  const stamp = started.toISOString().slice(0, 19).replace(/:/g, '-');
  const mach = machine();
  const header = {
    date: started.toISOString(),
    machine: mach,
    command: `node bench/network.js ${process.argv.slice(2).join(' ')}`.trim(),
    cpuMeasurement: `throughput: ${describeMethod()}; outage: bench/lib/loop-delay-hook.js (process.resourceUsage() at exit)`,
    rusageMethod: detectMethod(),
    inputCache: CACHE_DIR,
    options: o,
    targets: TARGETS,
  };
  process.stdout.write(
    `audit-router network bench ${started.toISOString()}  ${mach.cpu} x${mach.cores}, ${mach.memoryGiB} GiB, ${mach.os}, node ${mach.node}, ` +
    `commit ${mach.commit ?? '?'}${mach.dirty ? ' (+ uncommitted changes)' : ''}\nload ${load().join(' ')} (1/5/15 min)\n`,
  );
  const results = [];
  for (const scenario of o.scenarios) {
    const r = scenario === 'outage' ? await outage(o) : await throughput(o);
    const file = writeResult(stamp, r.scenario, { ...header, ...r });
    log(`${scenario}: ${r.ok ? 'ok' : 'FAILED'}, results in ${path.relative(process.cwd(), file)}`);
    results.push(r);
  }
  printSummary(results);
  process.stdout.write(`\nload at the end ${load().join(' ')}; results in ${path.relative(process.cwd(), path.join(ROOT, 'bench', 'results'))}/${stamp}-network-*.json\n`);
  if (!results.every((r) => r.ok)) {
    process.stdout.write('\nSOME RUNS FAILED (exit status or events missing at the receiver): the figures are not valid\n');
    process.exitCode = 1;
  }
}

// bench/run.js runs these scenarios too (its `network` scenario).
module.exports = { parseArgs, outage, throughput, printSummary, TARGETS };

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
