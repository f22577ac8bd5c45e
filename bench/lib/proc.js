// @ts-check
'use strict';
/**
 * Runs one whole process and measures it from the outside: CPU seconds (user + system) and peak
 * RSS from the kernel's rusage of the child, wall seconds from this process's monotonic clock.
 *
 * Primary method: GNU `/usr/bin/time -f ... -o FILE`, which reads the rusage wait4() returns for
 * the child (all its threads: libuv pool, GC helpers, zlib). Fallback when it is missing: a
 * preload hook that writes the node child's own process.resourceUsage() at exit.
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const GNU_TIME = '/usr/bin/time';
const TIME_FORMAT = '%U %S %e %M %x';
const HOOK = path.join(__dirname, 'rusage-hook.js');
const STDERR_KEEP = 64 * 1024;

/** @typedef {'gnu-time'|'node-hook'} RusageMethod */

/** @type {RusageMethod | undefined} */
let detected;

/** GNU time if it is there and understands -f/-o, else the preload hook. @returns {RusageMethod} */
function detectMethod() {
  if (detected) return detected;
  let ok = false;
  try {
    fs.accessSync(GNU_TIME, fs.constants.X_OK);
    const probe = spawnSync(GNU_TIME, ['-f', '%M', '-o', os.devNull, 'true'], { stdio: 'ignore' });
    ok = probe.status === 0;
  } catch {
    ok = false;
  }
  detected = ok ? 'gnu-time' : 'node-hook';
  return detected;
}

/** Force a method (the --rusage flag). @param {RusageMethod} method */
function useMethod(method) {
  detected = method;
}

/** How CPU and RSS are measured, in words, for the report. */
function describeMethod() {
  return detectMethod() === 'gnu-time'
    ? `GNU ${GNU_TIME} -f '${TIME_FORMAT}' (the child's wait4 rusage: user+system CPU of all its threads, ru_maxrss)`
    : `node preload hook (${path.relative(process.cwd(), HOOK)}): the child's own process.resourceUsage() at exit (GNU ${GNU_TIME} unavailable or --rusage node-hook)`;
}

/**
 * @typedef {{
 *   userS: number, systemS: number, cpuS: number, wallS: number, maxRssKB: number,
 *   exitCode: number | null, signal: string | null, stderrTail: string
 * }} Measured
 */

/**
 * @typedef {{
 *   stdin: number | 'pipe' | 'ignore',
 *   stdout?: number | 'pipe' | 'ignore',
 *   cwd?: string,
 *   onSpawn?: (child: import('node:child_process').ChildProcess) => void,
 * }} RunOptions
 */

/** The argv actually spawned for `argv`, with the file the figures go to. @param {string[]} argv */
function wrap(argv) {
  const rusageFile = path.join(os.tmpdir(), `audit-router-bench-rusage-${process.pid}-${Math.random().toString(36).slice(2)}`);
  if (detectMethod() === 'gnu-time') {
    return { argv: [GNU_TIME, '-f', TIME_FORMAT, '-o', rusageFile, ...argv], env: process.env, rusageFile };
  }
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(HOOK)}`.trim();
  return { argv, env: { ...process.env, NODE_OPTIONS: nodeOptions, AUDIT_ROUTER_BENCH_RUSAGE: rusageFile }, rusageFile };
}

/** The command line `wrap` runs, for the results file. @param {string[]} argv */
function describeCommand(argv) {
  const w = wrap(argv);
  const quote = (/** @type {string} */ s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const shown = w.argv.map((a) => (a === w.rusageFile ? '<rusage-file>' : a));
  const prefix = detectMethod() === 'node-hook' ? `NODE_OPTIONS='--require ${HOOK}' ` : '';
  return prefix + shown.map(quote).join(' ');
}

/**
 * Runs argv to completion and measures it.
 * @param {string[]} argv
 * @param {RunOptions} options
 * @returns {Promise<Measured>}
 */
function runMeasured(argv, options) {
  const w = wrap(argv);
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(w.argv[0], w.argv.slice(1), {
      stdio: [options.stdin, options.stdout ?? 'ignore', 'pipe'],
      env: w.env,
      cwd: options.cwd,
    });
    let stderr = '';
    /** @type {bigint | null} */ let end = null;
    /** @type {number | null} */ let exitCode = null;
    /** @type {string | null} */ let signal = null;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (/** @type {string} */ s) => {
      stderr += s;
      if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    });
    child.once('error', reject);
    // Wall time ends at exit, not at 'close' (which also waits for our reading of its pipes).
    child.once('exit', (code, sig) => {
      end = process.hrtime.bigint();
      exitCode = code;
      signal = sig;
    });
    child.once('close', () => {
      const wallS = Number(/** @type {bigint} */ (end ?? process.hrtime.bigint()) - start) / 1e9;
      let figures;
      try {
        figures = readFigures(w.rusageFile);
      } catch (err) {
        reject(new Error(`no CPU figures for ${argv.join(' ')} (exit ${exitCode}, signal ${signal}): ${/** @type {Error} */ (err).message}\n${stderr.slice(-2000)}`));
        return;
      } finally {
        fs.rmSync(w.rusageFile, { force: true });
      }
      // GNU time reports the child's own exit status (%x); the hook leaves the one we saw.
      const code = figures.exitCode ?? exitCode;
      resolve({
        userS: figures.userS,
        systemS: figures.systemS,
        cpuS: figures.userS + figures.systemS,
        wallS,
        maxRssKB: figures.maxRssKB,
        exitCode: code,
        signal,
        stderrTail: stderr.slice(-STDERR_KEEP),
      });
    });
    if (options.onSpawn) options.onSpawn(child);
  });
}

/**
 * @param {string} file
 * @returns {{ userS: number, systemS: number, maxRssKB: number, exitCode?: number }}
 */
function readFigures(file) {
  const text = fs.readFileSync(file, 'utf8').trim();
  if (detectMethod() === 'node-hook') return JSON.parse(text);
  // GNU time may write "Command exited with non-zero status N" / "Command terminated by signal"
  // first; the format line is the last one.
  const last = text.split('\n').pop() ?? '';
  const [user, system, , rss, code] = last.trim().split(/\s+/).map(Number);
  if (![user, system, rss].every(Number.isFinite)) throw new Error(`unexpected ${GNU_TIME} output: ${JSON.stringify(text)}`);
  return { userS: user, systemS: system, maxRssKB: rss, exitCode: Number.isFinite(code) ? code : undefined };
}

module.exports = { runMeasured, detectMethod, useMethod, describeMethod, describeCommand };
