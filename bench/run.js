#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * The audit-router benchmark: runs the built CLI (bin/audit-router) as a whole process on
 * deterministic inputs from scripts/generate-stream.js and reports CPU seconds, wall seconds, throughput
 * per CPU-second, peak RSS and end-to-end latency, against the targets, PASS/MISS. CPU targets are
 * ratios to the yardstick (shared/bench/ref-router.mjs, bench/lib/yardstick.js) run alternately
 * with audit-router on the same input in the same batch; bench/baseline.js is a second reference.
 * See bench/README.md.
 *
 *   node bench/run.js [mixed|audit|startup|latency|scale|network|all] [--runs N] [--lines N]
 *                     [--seed S] [--rate R] [--seconds S] [--budget S] [--skip a,b]
 *                     [--outage-seconds S] [--yardstick PATH] [--rusage gnu-time|node-hook]
 *
 * Exit status: 0 when every run was correct (exit 0, every expected event in the output), 1 when
 * one was not, 2 on bad usage. A MISSed target is a finding, not a failure.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ensureInput, emptyInput, CACHE_DIR } = require('./lib/inputs.js');
const { countOutput, clearDir } = require('./lib/output.js');
const { runMeasured, describeMethod, describeCommand, detectMethod, useMethod } = require('./lib/proc.js');
const { runLatency } = require('./lib/latency.js');
const { machine, load, fixed, grouped, table, writeResult, check, finishedLog, checkBuild, targetsTable, ROOT } = require('./lib/report.js');
const { median, max } = require('./lib/stats.js');
const { sampleRss, quarters } = require('./lib/rss-sampler.js');
const { writeStream } = require('../scripts/generate-stream.js');
const { findYardstick, runYardstick } = require('./lib/yardstick.js');

const BIN = path.join(ROOT, 'bin', 'audit-router');
const SCENARIOS = ['mixed', 'audit', 'startup', 'latency', 'scale', 'network'];

/** The targets (issue 11, docs/performance.md). CPU: ratios to the yardstick, same input, same batch. */
const TARGETS = {
  /** CPU seconds of audit-router / CPU seconds of the yardstick, mixed stream. */
  mixedCpuRatio: 0.82,
  /** The same on the audit stream, with the file sink's default settings (rotation, compression). */
  auditCpuRatio: 0.72,
  /** Peak RSS, every scenario and every built-in sink (network: bench/network.js's targets). */
  rssMB: 64,
  /** Start-up wall time over `node -e ''`, empty input, a file sink (`--file`). */
  startupFileOverNodeMs: 35,
  /** The same with a `datadog` sink configured (a config file). */
  startupDatadogOverNodeMs: 60,
  /** Write to stdin -> line readable in the file, at 1 000 events/s. */
  latencyP99Ms: 5,
  /** Ours: over the 10x run, the second half's peak RSS may not exceed the first half's by 25 %. */
  scaleRssGrowth: 1.25,
};

const USAGE = `usage: node bench/run.js [mixed|audit|startup|latency|scale|network|all] [options]
  --runs N        measured runs per scenario, after 1 warm-up (default 5; startup 20); mixed and
                  audit run the yardstick as often, alternately
  --lines N       input lines for mixed and audit, and the base of scale (default 1000000)
  --seed S        generator seed (default 42)
  --rate R        latency: events per second (default 1000)
  --seconds S     latency: measured seconds (default 10), after 1 s of warm-up
  --budget S      without --runs: fewer runs (not under 3) when a mixed/audit run is slow, to
                  keep that scenario near S seconds (default 150)
  --skip A,B      with "all": leave these scenarios out (e.g. --skip scale,network)
  --outage-seconds S  network: how long the receivers are down (default 30)
  --yardstick P   the yardstick (default: shared/bench/ref-router.mjs beside the repo or above it,
                  or $AUDIT_ROUTER_YARDSTICK)
  --rusage M      gnu-time (default when /usr/bin/time exists) or node-hook`;

/**
 * @typedef {{ scenarios: string[], runs: number, runsExplicit: boolean, lines: number, seed: number,
 *   rate: number, seconds: number, budget: number, outageSeconds: number, yardstick: string | null }} Options
 */

/** @param {string[]} argv @returns {Options} */
function parseArgs(argv) {
  /** @type {string | undefined} */ let which;
  const o = { runs: 5, runsExplicit: false, lines: 1_000_000, seed: 42, rate: 1000, seconds: 10, budget: 150, outageSeconds: 30, yardstick: /** @type {string | null} */ (null) };
  /** @type {string[]} */ let skip = [];
  const num = (/** @type {string} */ flag, /** @type {string | undefined} */ v, /** @type {number} */ min) => {
    const x = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(x) || x < min) throw new Error(`${flag} needs a number >= ${min}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--runs': o.runs = Math.floor(num(a, argv[++i], 1)); o.runsExplicit = true; break;
      case '--lines': o.lines = Math.floor(num(a, argv[++i], 1)); break;
      case '--seed': o.seed = num(a, argv[++i], 0); break;
      case '--rate': o.rate = num(a, argv[++i], 1); break;
      case '--seconds': o.seconds = num(a, argv[++i], 1); break;
      case '--budget': o.budget = num(a, argv[++i], 0); break;
      case '--scale': break; // "all" includes scale now; kept so old command lines still work
      case '--skip': {
        skip = String(argv[++i] ?? '').split(',').filter(Boolean);
        const bad = skip.find((x) => !SCENARIOS.includes(x));
        if (bad !== undefined || skip.length === 0) throw new Error(`--skip takes scenarios of ${SCENARIOS.join(',')}`);
        break;
      }
      case '--outage-seconds': o.outageSeconds = num(a, argv[++i], 3); break;
      case '--yardstick': o.yardstick = argv[++i] ?? null; if (!o.yardstick) throw new Error('--yardstick needs a path'); break;
      case '--rusage': {
        const m = argv[++i];
        if (m !== 'gnu-time' && m !== 'node-hook') throw new Error('--rusage must be gnu-time or node-hook');
        useMethod(m);
        break;
      }
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default:
        if (a.startsWith('-') || which !== undefined || (a !== 'all' && !SCENARIOS.includes(a))) throw new Error(`unexpected argument ${a}`);
        which = a;
    }
  }
  const scenarios = which === undefined || which === 'all'
    ? SCENARIOS.filter((s) => !skip.includes(s))
    : [which];
  return { scenarios, runs: o.runs, runsExplicit: o.runsExplicit, lines: o.lines, seed: o.seed, rate: o.rate, seconds: o.seconds, budget: o.budget, outageSeconds: o.outageSeconds, yardstick: o.yardstick };
}

/** @param {string} msg */
const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

/** The router's own "finished" counters from its stderr (diagnostics carry counts only). @param {string} stderr */
function finishedCounters(stderr) {
  const f = finishedLog(stderr);
  return f ? { lines: f.lines, audit: f.audit, invalid: f.invalid, unparseable: f.unparseable, dropped: f.dropped, lost: f.lost } : null;
}

/**
 * One measured run of the router on a file input, with its output checked. `args` default to
 * `--file <runDir>/out.jsonl`; with a config file instead, nothing is counted in that file.
 * @param {string} inputPath @param {number} expected @param {string} runDir @param {number} index @param {boolean} warmup
 * @param {string[] | null} [args]
 */
async function fileRun(inputPath, expected, runDir, index, warmup, args = null) {
  clearDir(runDir);
  const out = path.join(runDir, 'out.jsonl');
  const fd = fs.openSync(inputPath, 'r');
  let m;
  try {
    m = await runMeasured([BIN, ...(args ?? ['--file', out])], { stdin: fd });
  } finally {
    fs.closeSync(fd);
  }
  const written = await countOutput(out);
  const ok = m.exitCode === 0 && written.lines === expected;
  const run = {
    index, warmup, userS: m.userS, systemS: m.systemS, cpuS: round(m.cpuS, 3), wallS: round(m.wallS, 4), maxRssKB: m.maxRssKB,
    exitCode: m.exitCode, outputLines: written.lines, outputFiles: written.files, outputBytes: written.bytes, expected, ok,
    router: finishedCounters(m.stderrTail), load: load(),
  };
  if (!ok) log(`run ${index}${warmup ? ' (warm-up)' : ''} FAILED: exit ${m.exitCode}, ${written.lines} lines written, ${expected} expected\n${m.stderrTail.slice(-1500)}`);
  return run;
}

const BASELINE = path.join(__dirname, 'baseline.js');

/**
 * The plain JavaScript loop (bench/baseline.js: JSON.parse, recursive redaction, JSON.stringify,
 * sync writes) on the same input, so each figure has the floor of its own machine and moment next
 * to it. @param {string} inputPath @param {string} runDir
 */
async function baselineRun(inputPath, runDir) {
  clearDir(runDir);
  const fd = fs.openSync(inputPath, 'r');
  try {
    const m = await runMeasured([process.execPath, BASELINE, path.join(runDir, 'baseline.jsonl')], { stdin: fd });
    return { cpuS: round(m.cpuS, 3), wallS: round(m.wallS, 4), maxRssKB: m.maxRssKB, exitCode: m.exitCode };
  } finally {
    fs.closeSync(fd);
  }
}

/** @param {number} x @param {number} digits */
function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** @param {{ cpuS: number, wallS: number, maxRssKB: number }[]} runs @param {number} units */
function medians(runs, units) {
  const cpu = median(runs.map((r) => r.cpuS));
  return {
    cpuS: cpu,
    wallS: median(runs.map((r) => r.wallS)),
    perCpuSecond: median(runs.map((r) => units / r.cpuS)),
    maxRssMB: median(runs.map((r) => r.maxRssKB / 1024)),
    maxRssMBWorst: max(runs.map((r) => r.maxRssKB / 1024)),
  };
}

/** The yardstick, found once (bench/lib/yardstick.js). @type {{ path: string, how: string } | null | undefined} */
let yardstickFound;
/** @param {Options} o */
function yardstick(o) {
  if (yardstickFound === undefined) {
    yardstickFound = findYardstick(ROOT, o.yardstick);
    log(yardstickFound ? `yardstick: ${yardstickFound.path} (${yardstickFound.how})` : 'yardstick: shared/bench/ref-router.mjs not found beside the repo or above it: no CPU ratios (--yardstick PATH)');
  }
  return yardstickFound;
}

/**
 * mixed and audit: a cached input file through `--file` (the file sink's defaults), warm-up + N
 * runs, each followed or preceded (alternately) by a run of the yardstick on the same input. The
 * CPU figure is the median of the N per-pair ratios audit-router / yardstick.
 * @param {'mixed'|'audit'} scenario @param {Options} o
 */
async function throughput(scenario, o) {
  const input = await ensureInput({ scenario, lines: o.lines, seed: o.seed, log });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `audit-router-bench-${scenario}-`));
  const yard = yardstick(o);
  const loadBefore = load();
  try {
    log(`${scenario}: warm-up (${input.lines.toLocaleString('en-US')} lines, ${(input.bytes / 2 ** 20).toFixed(0)} MiB, ${input.expectedAudit.toLocaleString('en-US')} audit events)`);
    const warm = await fileRun(input.path, input.expectedAudit, runDir, 0, true);
    const refWarm = yard ? { ...(await runYardstick(yard.path, input.path, runDir)), index: 0, warmup: true, load: load() } : null;
    let runs = o.runs;
    let note = null;
    if (!o.runsExplicit && o.budget > 0) {
      const pairWall = warm.wallS + (refWarm ? refWarm.wallS : 0);
      const fit = Math.max(3, Math.floor(o.budget / pairWall));
      if (fit < runs) {
        note = `runs reduced from ${runs} to ${fit}: one run (+ yardstick) took ${pairWall.toFixed(1)} s wall (--budget ${o.budget}; --runs N to force)`;
        runs = fit;
        log(`${scenario}: ${note}`);
      }
    }
    const all = [warm];
    const refAll = refWarm ? [refWarm] : [];
    for (let i = 1; i <= runs; i++) {
      // Alternate which goes first, so neither always runs on a page cache the other warmed.
      /** @type {any} */ let ref = null;
      if (yard && i % 2 === 0) ref = await runYardstick(yard.path, input.path, runDir);
      const r = await fileRun(input.path, input.expectedAudit, runDir, i, false);
      if (yard && i % 2 === 1) ref = await runYardstick(yard.path, input.path, runDir);
      all.push(r);
      if (ref) refAll.push({ ...ref, index: i, warmup: false, load: load() });
      log(
        `${scenario}: run ${i}/${runs}: ${r.cpuS.toFixed(2)} s CPU, ${r.wallS.toFixed(2)} s wall, ${(r.maxRssKB / 1024).toFixed(1)} MB, ${r.ok ? 'ok' : 'FAILED'}` +
          (ref ? `; yardstick ${ref.cpuS.toFixed(2)} s CPU, ${(ref.maxRssKB / 1024).toFixed(1)} MB${ref.ok ? '' : ' FAILED'}: ratio ${(r.cpuS / ref.cpuS).toFixed(3)}` : '') +
          `; load ${load()[0]}`,
      );
    }
    const measured = all.filter((r) => !r.warmup);
    const refMeasured = refAll.filter((r) => !r.warmup);
    const units = scenario === 'mixed' ? input.lines : input.expectedAudit;
    const m = medians(measured, units);
    const ratios = refMeasured.map((ref, k) => measured[k].cpuS / ref.cpuS);
    const ratio = ratios.length > 0 ? median(ratios) : NaN;
    const ref = refMeasured.length > 0 ? { path: yard?.path, cpuS: median(refMeasured.map((r) => r.cpuS)), wallS: median(refMeasured.map((r) => r.wallS)), maxRssMB: max(refMeasured.map((r) => r.maxRssKB / 1024)), outputLines: refMeasured[0].outputLines, ok: refAll.every((r) => r.ok), runs: refAll } : null;
    const baselineRuns = [];
    for (let i = 1; i <= 3; i++) baselineRuns.push(await baselineRun(input.path, runDir));
    const baseline = { runs: baselineRuns, cpuS: median(baselineRuns.map((r) => r.cpuS)), maxRssMB: median(baselineRuns.map((r) => r.maxRssKB / 1024)) };
    log(`${scenario}: plain-loop baseline (bench/baseline.js, 3 runs): ${baseline.cpuS.toFixed(2)} s CPU, ${baseline.maxRssMB.toFixed(1)} MB`);
    const cpuPer1M = (m.cpuS * 1e6) / units;
    const checks = [
      scenario === 'mixed'
        ? check('mixed', 'CPU / yardstick CPU (median of pairs)', ratio, TARGETS.mixedCpuRatio, 'x')
        : check('audit', 'CPU / yardstick CPU (median of pairs), file sink defaults', ratio, TARGETS.auditCpuRatio, 'x'),
      check(scenario, 'peak RSS (worst run)', m.maxRssMBWorst, TARGETS.rssMB, 'MB'),
    ];
    return {
      scenario,
      // A failed yardstick run voids the ratio, not our correctness: it is reported as n/a.
      ok: all.every((r) => r.ok),
      command: describeCommand([BIN, '--file', path.join(runDir, 'out.jsonl')]) + ` < ${input.path}`,
      yardstickCommand: yard ? describeCommand([process.execPath, yard.path, '--file', path.join(runDir, 'ref.jsonl')]) + ` < ${input.path}` : null,
      input,
      unit: scenario === 'mixed' ? 'lines' : 'events',
      units,
      runsNote: note,
      median: { ...m, cpuPer1M },
      cpuRatio: ratio,
      cpuRatios: ratios,
      yardstick: ref,
      baseline,
      checks: ref && !ref.ok ? checks.map((c) => (c.unit === 'x' ? { ...c, value: NaN, pass: null } : c)) : checks,
      loadBefore,
      loadAfter: load(),
      runs: all,
    };
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * startup: empty input; run by run, alternately, `node -e ''` (what Node itself costs here),
 * audit-router with a file sink (`--file`) and with a `datadog` sink (a config file; the intake
 * address is never contacted, as there is nothing to send). The figures are the medians' excess
 * over `node -e ''`. @param {Options} o
 */
async function startup(o) {
  const input = emptyInput();
  const runs = o.runsExplicit ? o.runs : 20;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-router-bench-startup-'));
  const confDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-router-bench-startup-conf-'));
  const ddConfig = path.join(confDir, 'datadog.toml');
  fs.writeFileSync(ddConfig, '[sinks.datadog]\ntype = "datadog"\napi_key = "bench-not-a-key"\nendpoint = "http://127.0.0.1:9"\n');
  const baselineArgv = [process.execPath, '-e', ''];
  const loadBefore = load();
  try {
    const router = [];
    const datadog = [];
    const baseline = [];
    for (let i = 0; i <= runs; i++) {
      const devNull = fs.openSync(os.devNull, 'r');
      let b;
      try {
        b = await runMeasured(baselineArgv, { stdin: devNull });
      } finally {
        fs.closeSync(devNull);
      }
      baseline.push({ index: i, warmup: i === 0, userS: b.userS, systemS: b.systemS, cpuS: round(b.cpuS, 3), wallS: round(b.wallS, 4), maxRssKB: b.maxRssKB, exitCode: b.exitCode, ok: b.exitCode === 0 });
      router.push(await fileRun(input.path, 0, runDir, i, i === 0));
      datadog.push(await fileRun(input.path, 0, runDir, i, i === 0, ['-c', ddConfig]));
    }
    const mr = medians(router.filter((r) => !r.warmup), 1);
    const md = medians(datadog.filter((r) => !r.warmup), 1);
    const mb = medians(baseline.filter((r) => !r.warmup), 1);
    const overFile = (mr.wallS - mb.wallS) * 1000;
    const overDatadog = (md.wallS - mb.wallS) * 1000;
    log(`startup: node -e '' ${(mb.wallS * 1000).toFixed(1)} ms, --file ${(mr.wallS * 1000).toFixed(1)} ms (+${overFile.toFixed(1)}), datadog ${(md.wallS * 1000).toFixed(1)} ms (+${overDatadog.toFixed(1)}); load ${load()[0]}`);
    return {
      scenario: 'startup',
      ok: router.every((r) => r.ok) && datadog.every((r) => r.ok) && baseline.every((r) => r.ok),
      command: describeCommand([BIN, '--file', path.join(runDir, 'out.jsonl')]) + ` < ${input.path}`,
      datadogCommand: describeCommand([BIN, '-c', ddConfig]) + ` < ${input.path}`,
      datadogConfig: fs.readFileSync(ddConfig, 'utf8'),
      baselineCommand: describeCommand(baselineArgv) + ` < ${os.devNull}`,
      input,
      median: mr,
      datadog: md,
      baseline: mb,
      overNodeMs: { file: overFile, datadog: overDatadog },
      checks: [
        check('startup', "wall over node -e '', file sink", overFile, TARGETS.startupFileOverNodeMs, 'ms'),
        check('startup', "wall over node -e '', datadog sink", overDatadog, TARGETS.startupDatadogOverNodeMs, 'ms'),
        check('startup', 'peak RSS (worst run, either sink)', Math.max(mr.maxRssMBWorst, md.maxRssMBWorst), TARGETS.rssMB, 'MB'),
      ],
      loadBefore,
      loadAfter: load(),
      runs: router,
      datadogRuns: datadog,
      baselineRuns: baseline,
    };
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
    fs.rmSync(confDir, { recursive: true, force: true });
  }
}

/** latency: a steady rate through --stdout and --file. @param {Options} o */
async function latency(o) {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-router-bench-latency-'));
  const loadBefore = load();
  try {
    log(`latency: ${o.rate} events/s for 1 s warm-up + ${o.seconds} s`);
    const r = await runLatency({ bin: BIN, runDir, rate: o.rate, seconds: o.seconds, warmupSeconds: 1, seed: o.seed });
    if (!r.ok) log(`latency FAILED: exit ${r.measured.exitCode}, stdout ${r.stdout.lines}/${r.sent} lines, file ${r.file.lines}/${r.sent} lines${r.pacingError ? `, ${r.pacingError}` : ''}\n${r.measured.stderrTail.slice(-1500)}`);
    const rssMB = r.measured.maxRssKB / 1024;
    return {
      scenario: 'latency',
      ok: r.ok,
      command: describeCommand(r.argv) + ' (stdin: a pipe written at the rate; stdout: a pipe read by the bench)',
      rate: o.rate,
      seconds: o.seconds,
      warmupSeconds: 1,
      stdout: r.stdout,
      file: r.file,
      sendLag: r.sendLag,
      process: { userS: r.measured.userS, systemS: r.measured.systemS, cpuS: r.measured.cpuS, wallS: r.measured.wallS, maxRssKB: r.measured.maxRssKB, exitCode: r.measured.exitCode, router: finishedCounters(r.measured.stderrTail) },
      checks: [
        check('latency', `p99 via --file at ${o.rate}/s`, r.file.p99, TARGETS.latencyP99Ms, 'ms'),
        check('latency', 'peak RSS', rssMB, TARGETS.rssMB, 'MB'),
      ],
      loadBefore,
      loadAfter: load(),
      raw: r.raw,
    };
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * scale: the mixed stream generated straight into the router's stdin (no input file), at --lines
 * and 10x --lines; only the router process is measured. @param {Options} o
 */
async function scale(o) {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-router-bench-scale-'));
  const loadBefore = load();
  try {
    const runs = [];
    for (const lines of [o.lines, o.lines * 10]) {
      clearDir(runDir);
      const out = path.join(runDir, 'out.jsonl');
      log(`scale: ${lines.toLocaleString('en-US')} mixed lines streamed into stdin ...`);
      let expected = 0;
      /** @type {Promise<unknown>} */ let feeding = Promise.resolve();
      /** @type {ReturnType<typeof sampleRss> | null} */ let sampler = null;
      const m = await runMeasured([BIN, '--file', out], {
        stdin: 'pipe',
        onSpawn(child) {
          if (child.pid !== undefined) sampler = sampleRss(child.pid, { wrapped: detectMethod() === 'gnu-time', intervalMs: 500 });
          const stdin = /** @type {import('node:stream').Writable} */ (child.stdin);
          feeding = writeStream({ scenario: 'mixed', lines, seed: o.seed }, stdin, (e) => {
            if (e.truth.kind === 'audit') expected++;
          }).then(
            () => { stdin.end(); },
            (err) => { stdin.destroy(); return err; },
          );
        },
      });
      const feedError = await feeding;
      const rssSamples = sampler === null ? [] : /** @type {ReturnType<typeof sampleRss>} */ (sampler).stop();
      const written = await countOutput(out);
      const ok = m.exitCode === 0 && !feedError && written.lines === expected;
      if (!ok) log(`scale ${lines} FAILED: exit ${m.exitCode}, ${written.lines} lines written, ${expected} expected${feedError ? `, feed: ${/** @type {Error} */ (feedError).message}` : ''}\n${m.stderrTail.slice(-1500)}`);
      runs.push({
        lines, userS: m.userS, systemS: m.systemS, cpuS: round(m.cpuS, 3), wallS: round(m.wallS, 3), maxRssKB: m.maxRssKB, exitCode: m.exitCode,
        outputLines: written.lines, outputFiles: written.files, outputBytes: written.bytes, expected, ok, router: finishedCounters(m.stderrTail), load: load(),
        rssByQuarterMB: quarters(rssSamples).map((x) => round(x, 1)), rssSamples,
      });
      log(`scale: ${lines.toLocaleString('en-US')} lines: ${m.cpuS.toFixed(1)} s CPU, ${m.wallS.toFixed(1)} s wall, ${(m.maxRssKB / 1024).toFixed(1)} MB`);
    }
    const [small, big] = runs;
    // Rotation (and its gzip) starts only past 100 MB of output, i.e. in the big run alone, so the
    // big/small ratio mixes it in; growth *within* the big run is the sign of unbounded memory.
    const growth = halfGrowth(big.rssSamples);
    return {
      scenario: 'scale',
      ok: runs.every((r) => r.ok),
      command: `node scripts/generate-stream.js --scenario mixed --lines N --seed ${o.seed} (in-process writeStream) | ${describeCommand([BIN, '--file', path.join(runDir, 'out.jsonl')])}`,
      rssRatioBigToSmall: round(big.maxRssKB / small.maxRssKB, 3),
      checks: [
        check('scale', `peak RSS at ${grouped(small.lines)} lines`, small.maxRssKB / 1024, TARGETS.rssMB, 'MB'),
        check('scale', `peak RSS at ${grouped(big.lines)} lines`, big.maxRssKB / 1024, TARGETS.rssMB, 'MB'),
        check('scale', `RSS growth in the ${grouped(big.lines)} run (2nd half / 1st half)`, growth, TARGETS.scaleRssGrowth, 'x'),
      ],
      loadBefore,
      loadAfter: load(),
      runs,
    };
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * Peak RSS of the second half of a run over that of the first half; NaN when a half has no sample.
 * @param {{ tS: number, rssKB: number }[]} samples
 */
function halfGrowth(samples) {
  if (samples.length < 2) return NaN;
  const mid = samples[samples.length - 1].tS / 2;
  const first = samples.filter((x) => x.tS <= mid).map((x) => x.rssKB);
  const second = samples.filter((x) => x.tS > mid).map((x) => x.rssKB);
  return first.length > 0 && second.length > 0 ? max(second) / max(first) : NaN;
}


/**
 * network: bench/network.js's outage (datadog and fluentd, memory queue and disk buffer, the
 * receivers down for --outage-seconds) and throughput scenarios, in this process. Their checks
 * join the targets table. @param {Options} o
 */
async function network(o) {
  const net = require('./network.js');
  const no = net.parseArgs(['all', '--outage-seconds', String(o.outageSeconds), '--seed', String(o.seed)]);
  const loadBefore = load();
  const results = [await net.outage(no), await net.throughput(no)];
  return { scenario: 'network', ok: results.every((r) => r.ok), results, checks: results.flatMap((r) => r.checks), loadBefore, loadAfter: load() };
}

/** @param {any[]} results */
function printSummary(results) {
  const rows = [];
  /** @type {string[]} */ const notes = [];
  for (const r of results) {
    if (r.scenario === 'mixed' || r.scenario === 'audit') {
      const ok = r.runs.filter((/** @type {any} */ x) => x.ok).length;
      rows.push([
        r.scenario, `${grouped(r.input.lines)} ${r.unit}`, String(r.runs.length - 1), fixed(r.median.cpuS, 2), fixed(r.median.wallS, 2),
        `${grouped(r.median.perCpuSecond)} ${r.unit}`, `${fixed(r.median.maxRssMB, 1)} / ${fixed(r.median.maxRssMBWorst, 1)}`,
        `${ok}/${r.runs.length} ok (${grouped(r.input.expectedAudit)} events each)`,
      ]);
      if (r.yardstick) {
        const y = r.yardstick;
        rows.push(['  yardstick', '', String(y.runs.length - 1), fixed(y.cpuS, 2), fixed(y.wallS, 2), `${grouped(r.units / y.cpuS)} ${r.unit}`, `- / ${fixed(y.maxRssMB, 1)}`, `${y.ok ? 'ok' : 'FAILED'} (${grouped(y.outputLines)} lines written); CPU ratio ${fixed(r.cpuRatio, 3)} (pairs: ${r.cpuRatios.map((/** @type {number} */ x) => fixed(x, 2)).join(' ')})`]);
      }
      rows.push([`  plain loop`, '', '3', fixed(r.baseline.cpuS, 2), '-', `${grouped(r.units / r.baseline.cpuS)} ${r.unit}`, `${fixed(r.baseline.maxRssMB, 1)}`, 'bench/baseline.js: no schema, no URL masking, no rotation']);
    } else if (r.scenario === 'startup') {
      rows.push(["node -e ''", 'baseline', String(r.baselineRuns.length - 1), fixed(r.baseline.cpuS, 3), fixed(r.baseline.wallS, 3), '-', `${fixed(r.baseline.maxRssMB, 1)} / ${fixed(r.baseline.maxRssMBWorst, 1)}`, '']);
      rows.push(['startup --file', 'empty', String(r.runs.length - 1), fixed(r.median.cpuS, 3), fixed(r.median.wallS, 3), '-', `${fixed(r.median.maxRssMB, 1)} / ${fixed(r.median.maxRssMBWorst, 1)}`, `${r.ok ? 'ok' : 'FAILED'}; +${fixed(r.overNodeMs.file, 1)} ms over node`]);
      rows.push(['startup datadog', 'empty', String(r.datadogRuns.length - 1), fixed(r.datadog.cpuS, 3), fixed(r.datadog.wallS, 3), '-', `${fixed(r.datadog.maxRssMB, 1)} / ${fixed(r.datadog.maxRssMBWorst, 1)}`, `+${fixed(r.overNodeMs.datadog, 1)} ms over node`]);
    } else if (r.scenario === 'latency') {
      const p = r.process;
      rows.push(['latency', `${r.rate}/s x ${r.seconds} s`, '1', fixed(p.cpuS, 2), fixed(p.wallS, 2), `${grouped((r.rate * (r.seconds + r.warmupSeconds)) / p.cpuS)} events`, fixed(p.maxRssKB / 1024, 1), r.ok ? 'ok (every event on stdout and in the file)' : 'FAILED']);
    } else if (r.scenario === 'scale') {
      for (const x of r.runs) {
        rows.push(['scale', `${grouped(x.lines)} lines`, '1', fixed(x.cpuS, 2), fixed(x.wallS, 2), `${grouped(x.lines / x.cpuS)} lines`, fixed(x.maxRssKB / 1024, 1), x.ok ? `ok (${grouped(x.expected)} events; output files: ${x.outputFiles})` : 'FAILED']);
      }
      notes.push(`scale: peak RSS ${grouped(r.runs[1].lines)} lines / ${grouped(r.runs[0].lines)} lines: ${fixed(r.rssRatioBigToSmall, 2)}x (output files: ${r.runs[0].outputFiles} vs ${r.runs[1].outputFiles}; rotating and gzipping take memory too)`);
      notes.push(...r.runs.map((/** @type {any} */ x) => `scale ${grouped(x.lines)} lines: highest RSS in each quarter of the run (sampled every 0.5 s): ${x.rssByQuarterMB.map((/** @type {number} */ v) => fixed(v, 1)).join(' / ')} MB`));
    }
  }
  const net = results.find((r) => r.scenario === 'network');
  if (net) require('./network.js').printSummary(net.results, false);
  process.stdout.write('\n' + table(['scenario', 'input', 'runs', 'CPU s', 'wall s', 'per CPU-second', 'peak RSS MB (median / worst)', 'output check'], rows) + '\n');
  for (const note of notes) process.stdout.write(note + '\n');
  const lat = results.find((r) => r.scenario === 'latency');
  if (lat) {
    const lrow = (/** @type {string} */ name, /** @type {any} */ s) => [name, fixed(s.p50, 2), fixed(s.p90, 2), fixed(s.p99, 2), fixed(s.p999, 2), fixed(s.max, 2), String(s.count), String(s.missing)];
    process.stdout.write(`\nlatency, ms (write to stdin -> line readable), ${lat.rate} events/s for ${lat.seconds} s\n`);
    process.stdout.write(table(['via', 'p50', 'p90', 'p99', 'p99.9', 'max', 'events', 'missing'], [lrow('--stdout', lat.stdout), lrow('--file', lat.file), lrow('(send lag)', lat.sendLag)]) + '\n');
  }
  const checks = results.flatMap((r) => r.checks);
  process.stdout.write(targetsTable(checks) + '\n');
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
    cpuMeasurement: describeMethod(),
    rusageMethod: detectMethod(),
    inputCache: CACHE_DIR,
    options: o,
    targets: TARGETS,
  };
  process.stdout.write(
    `audit-router bench ${started.toISOString()}  ${mach.cpu} x${mach.cores}, ${mach.memoryGiB} GiB, ${mach.os}, node ${mach.node}, ` +
    `commit ${mach.commit ?? '?'}${mach.dirty ? ' (+ uncommitted changes)' : ''}\n` +
    `load ${load().join(' ')} (1/5/15 min)  CPU: ${describeMethod()}\n`,
  );
  const results = [];
  for (const scenario of o.scenarios) {
    let r;
    if (scenario === 'mixed' || scenario === 'audit') r = await throughput(scenario, o);
    else if (scenario === 'startup') r = await startup(o);
    else if (scenario === 'latency') r = await latency(o);
    else if (scenario === 'network') r = await network(o);
    else r = await scale(o);
    const file = writeResult(stamp, scenario, { ...header, ...r });
    log(`${scenario}: ${r.ok ? 'ok' : 'FAILED'}, results in ${path.relative(process.cwd(), file)}`);
    results.push(r);
  }
  printSummary(results);
  process.stdout.write(`\nload at the end ${load().join(' ')}; results in ${path.relative(process.cwd(), path.join(ROOT, 'bench', 'results'))}/${stamp}-*.json\n`);
  if (!results.every((r) => r.ok)) {
    process.stdout.write('\nSOME RUNS FAILED (exit status or output count): the figures are not valid\n');
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
