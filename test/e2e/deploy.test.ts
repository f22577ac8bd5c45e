/**
 * The deployment files (Dockerfile, .dockerignore, docker-compose.yml, deploy/) checked without a
 * Docker engine: parsed and cross-checked against each other and the repository, every router
 * config validated by `audit-router check-config` where the container would see it, and the
 * router service's command rehearsed: the build stage run on exactly what it COPYs, the image's
 * /app assembled from the runtime stage's COPYs (production dependencies only), the compose
 * mounts laid out in a temp dir, and the
 * command run by /bin/sh with its DD_API_KEY switch, delivering to a local forward server and a
 * local Datadog intake standing in for the `fluentd` service and Datadog.
 *
 * docker-compose.yml is parsed by python3's PyYAML (no YAML parser among our packages, and
 * `docker compose` is not installed here); the compose checks skip, saying why, without it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../../src/util/json';
import { apiAddress, watchLogs } from '../support/api';
import { collect, finished, runRouter, start, tempDir } from '../support/cli';
import { startDatadogIntake } from '../support/datadog-intake';
import { startFluentdServer } from '../support/fluentd-server';

const ROOT = resolve(__dirname, '..', '..');
const repo = (p: string): string => join(ROOT, p);
const read = (p: string): string => readFileSync(repo(p), 'utf8');

const dir = tempDir('ar-deploy-');
afterAll(() => dir.cleanup());

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction { keyword: string; args: string; line: number }
interface Stage { name: string; image: string; index: number; workdir: string; instructions: Instruction[] }

/** Instructions with continuation lines joined and comment lines dropped (as BuildKit does). */
function dockerfileInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current: Instruction | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const continued = line.endsWith('\\');
    const body = continued ? line.slice(0, -1).trim() : line;
    if (current) current.args += ' ' + body;
    else {
      const m = /^(\S+)\s*(.*)$/.exec(body)!;
      current = { keyword: m[1]!.toUpperCase(), args: m[2]!, line: i + 1 };
    }
    if (!continued) {
      out.push(current);
      current = null;
    }
  });
  return out;
}

function dockerfileStages(text: string): Stage[] {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of dockerfileInstructions(text)) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const [k, v = ''] = ins.args.split('=', 2);
      args.set(k!.trim(), v.trim());
    } else if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args.trim());
      if (!m) throw new Error(`Dockerfile:${ins.line}: cannot read FROM ${ins.args}`);
      const image = m[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? '');
      stages.push({ name: m[2] ?? String(stages.length), image, index: stages.length, workdir: '/', instructions: [] });
    } else {
      const stage = stages[stages.length - 1];
      if (!stage) throw new Error(`Dockerfile:${ins.line}: ${ins.keyword} before FROM`);
      if (ins.keyword === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, ins.args.trim());
      stage.instructions.push({ ...ins, args: ins.args });
    }
  }
  return stages;
}

interface Copy { from?: string; sources: string[]; dest: string; line: number; workdir: string }

/** The COPY (and ADD) instructions of a stage, with the WORKDIR in force at each. */
function copies(stage: Stage): Copy[] {
  const out: Copy[] = [];
  let workdir = '/';
  for (const ins of stage.instructions) {
    if (ins.keyword === 'WORKDIR') workdir = posix.resolve(workdir, ins.args.trim());
    if (ins.keyword !== 'COPY' && ins.keyword !== 'ADD') continue;
    let words = ins.args.trim().startsWith('[') ? (JSON.parse(ins.args) as string[]) : ins.args.trim().split(/\s+/);
    let from: string | undefined;
    while (words[0]?.startsWith('--')) {
      const flag = words.shift()!;
      if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
    }
    words = [...words];
    const dest = words.pop()!;
    out.push({ from, sources: words, dest, line: ins.line, workdir });
  }
  return out;
}

/** The container path a COPY puts `source` at. */
const destOf = (c: Copy, source: string): string =>
  posix.resolve(c.workdir, c.dest, c.sources.length > 1 || c.dest.endsWith('/') ? posix.basename(source) : '');

const runs = (stage: Stage): string[] => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const jsonForm = (stage: Stage, keyword: string): string[] | undefined => {
  const ins = stage.instructions.filter((i) => i.keyword === keyword).pop();
  return ins ? (JSON.parse(ins.args) as string[]) : undefined;
};
/** `npm ci` commands, split into words. */
const npmCi = (stage: Stage): string[][] =>
  runs(stage).flatMap((r) => r.split(/&&|;/).map((c) => c.trim().split(/\s+/)).filter((w) => w[0] === 'npm' && (w[1] === 'ci' || w[1] === 'install')));

const DOCKERFILE = dockerfileStages(read('Dockerfile'));
const RUNTIME = DOCKERFILE[DOCKERFILE.length - 1]!;
const TSCONFIG_OUTDIR = (JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string } }).compilerOptions.outDir;
const stageByName = (name: string): Stage => {
  const s = DOCKERFILE.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name}`);
  return s;
};
/** What a stage's RUNs produce in its WORKDIR: node_modules from npm ci, the tsc outDir from the build. */
function producedBy(stage: Stage): Set<string> {
  const made = new Set<string>();
  if (npmCi(stage).length > 0) made.add('node_modules');
  if (runs(stage).some((r) => /\bnpm run build\b|\btsc\b/.test(r))) made.add(TSCONFIG_OUTDIR);
  for (const c of copies(stage)) for (const s of c.sources) made.add(posix.relative(stage.workdir, destOf(c, s)).split('/')[0]!);
  return made;
}
/** The stage that produced the runtime's node_modules (COPY --from=<it> .../node_modules). */
function nodeModulesStage(): Stage {
  const c = copies(RUNTIME).find((x) => x.sources.some((s) => posix.basename(s) === 'node_modules'));
  if (!c?.from) throw new Error('the runtime stage does not copy node_modules from a previous stage');
  return stageByName(c.from);
}

// ---------------------------------------------------------------------------------------------
// .dockerignore (Docker's rules: patterns anchored at the context root, `**` any number of
// directories, `!` re-includes, the last matching line wins; a matched directory hides its content)

function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (c === '*' && pattern[i + 1] === '*') {
          re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += pattern[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  const matches = (p: string): boolean => {
    let ignored = false;
    for (const r of rules) if (r.re.test(p)) ignored = !r.negate;
    return ignored;
  };
  return (path) => {
    const parts = posix.normalize(path).replace(/^\.\/|\/+$/g, '').split('/');
    for (let i = 1; i <= parts.length; i++) if (matches(parts.slice(0, i).join('/'))) return true;
    return false;
  };
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((e) => filesUnder(join(path, e)));
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml, via python3 + PyYAML

function loadYaml(path: string): { value?: JsonObject; unavailable?: string } {
  const py = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', path], { encoding: 'utf8' });
  if (py.error) return { unavailable: `python3 is not available (${(py.error as NodeJS.ErrnoException).code})` };
  if (py.status !== 0 && /No module named '?yaml/.test(py.stderr)) return { unavailable: 'python3 has no PyYAML (pip install pyyaml)' };
  if (py.status !== 0) throw new Error(`${path} is not valid YAML:\n${py.stderr}`);
  return { value: JSON.parse(py.stdout) as JsonObject };
}

const COMPOSE_FILE = repo('docker-compose.yml');
const composeLoad = loadYaml(COMPOSE_FILE);
if (composeLoad.unavailable) {
  console.warn(`test/deploy.test.ts: docker-compose.yml checks SKIPPED: ${composeLoad.unavailable}`);
}
const compose = composeLoad.value ?? {};
const services = (compose['services'] ?? {}) as Record<string, JsonObject>;

interface Mount { kind: 'bind' | 'volume'; source: string; target: string; readOnly: boolean }
function mounts(service: JsonObject): Mount[] {
  return ((service['volumes'] ?? []) as JsonValue[]).map((v) => {
    if (typeof v !== 'string') throw new Error(`use the short volume syntax (got ${JSON.stringify(v)})`);
    const [source, target, mode] = v.split(':') as [string, string, string | undefined];
    const bind = source.startsWith('.') || source.startsWith('/');
    return { kind: bind ? 'bind' : 'volume', source: bind ? resolve(ROOT, source) : source, target, readOnly: mode === 'ro' };
  });
}

/** Compose's interpolation of a value: `$$`, `${X}`, `${X:-default}`, `${X-default}`. */
function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{(\w+)(?:(:?)-([^}]*))?\}/g, (all, name: string | undefined, colon: string | undefined, def: string | undefined) => {
    if (all === '$$') return '$';
    const v = env[name!];
    if (def === undefined) return v ?? '';
    return v === undefined || (colon === ':' && v === '') ? def : v;
  });
}

/** The router service: the one built from this repository. */
const routerName = Object.keys(services).find((n) => services[n]!['build'] !== undefined) ?? 'router';
const router = services[routerName] ?? {};
const fluentdName = Object.keys(services).find((n) => String(services[n]!['image'] ?? '').startsWith('fluent/fluentd:')) ?? 'fluentd';
const fluentd = services[fluentdName] ?? {};
/** The router's shell script, as the container's shell receives it (compose's `$$` unescaped). */
const routerScript = (): string => {
  const command = router['command'];
  const text = Array.isArray(command) ? command.join(' ') : String(command);
  return interpolate(text, {});
};
/** Container paths of the audit-router configs the command may use. */
const routerConfigPaths = (): string[] => [...new Set(routerScript().match(/\/etc\/audit-router\/[\w.-]+\.toml/g) ?? [])];
const hostPathOf = (containerPath: string): string => {
  const m = mounts(router).find((x) => x.kind === 'bind' && x.target === containerPath);
  if (!m) throw new Error(`${containerPath} is not bind-mounted into ${routerName}`);
  return m.source;
};

// ---------------------------------------------------------------------------------------------
// Fluentd config: <source>/<match> sections with their parameters

interface FluentSection { name: string; arg: string; params: Record<string, string>; children: FluentSection[] }
function parseFluentConf(text: string): FluentSection {
  const root: FluentSection = { name: 'ROOT', arg: '', params: {}, children: [] };
  const stack = [root];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') return;
    const open = /^<(\w+)\s*([^>]*)>$/.exec(line);
    const close = /^<\/(\w+)>$/.exec(line);
    if (close) {
      const top = stack.pop()!;
      if (top.name !== close[1]) throw new Error(`fluent.conf:${i + 1}: </${close[1]}> closes <${top.name}>`);
    } else if (open) {
      const section = { name: open[1]!, arg: open[2]!.trim(), params: {}, children: [] };
      stack[stack.length - 1]!.children.push(section);
      stack.push(section);
    } else {
      const m = /^(\S+)\s+(.*)$/.exec(line);
      if (!m) throw new Error(`fluent.conf:${i + 1}: cannot read ${line}`);
      stack[stack.length - 1]!.params[m[1]!] = m[2]!;
    }
  });
  if (stack.length !== 1) throw new Error(`fluent.conf: <${stack[stack.length - 1]!.name}> is not closed`);
  return root;
}

/** Fluentd's tag matching: `*` one part, `**` zero or more parts, `{a,b}` either; space-separated alternatives. */
function fluentMatches(pattern: string, tag: string): boolean {
  const one = (p: string): RegExp => {
    let re = '';
    for (let i = 0; i < p.length; i++) {
      const c = p[i]!;
      if (p.startsWith('.**', i) && i + 3 === p.length) {
        re += '(?:\\..+)?';
        i += 2;
      } else if (p.startsWith('**.', i) && i === 0) {
        re += '(?:.+\\.)?';
        i += 2;
      } else if (p.startsWith('.**.', i)) {
        re += '\\.(?:.+\\.)?';
        i += 3;
      } else if (p.startsWith('**', i)) {
        re += '.*';
        i += 1;
      } else if (c === '*') re += '[^.]+';
      else if (c === '{') re += '(?:';
      else if (c === '}') re += ')';
      else if (c === ',') re += '|';
      else re += c.replace(/[.+?^$()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${re}$`);
  };
  return pattern.split(/\s+/).some((p) => one(p).test(tag));
}

const FLUENT_CONF = parseFluentConf(read('deploy/fluentd/fluent.conf'));

// ---------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  it('builds in a node:20-bookworm-slim stage with every dependency (npm ci) and compiles with tsc', () => {
    expect(DOCKERFILE.length).toBeGreaterThanOrEqual(2);
    for (const s of DOCKERFILE) expect(s.image).toBe('node:20-bookworm-slim');
    const builders = DOCKERFILE.filter((s) => producedBy(s).has(TSCONFIG_OUTDIR) && npmCi(s).length > 0);
    expect(builders.map((s) => s.name)).not.toEqual([]);
    for (const s of builders) {
      // The compiler is a dev dependency: the build stage must install it.
      for (const words of npmCi(s)) expect(words).not.toContain('--omit=dev');
      expect(RUNTIME).not.toBe(s);
    }
  });

  it('runtime stage: production dependencies only, compiled code from the build stage', () => {
    const deps = nodeModulesStage();
    expect(deps.index).toBeLessThan(RUNTIME.index);
    const installs = npmCi(deps);
    expect(installs.length).toBe(1);
    // --omit=dev leaves typescript/vitest out; --ignore-scripts keeps `prepare` (tsc) from running.
    expect(installs[0]).toEqual(expect.arrayContaining(['ci', '--omit=dev', '--ignore-scripts']));
    // Nothing else brings node_modules into that stage or the runtime.
    for (const c of copies(deps)) expect(c.sources.map((s) => posix.basename(s))).not.toContain('node_modules');
    expect(npmCi(RUNTIME)).toEqual([]);
    for (const c of copies(RUNTIME)) {
      expect(c.sources).not.toContain('.');
      if (c.from === undefined) expect(c.sources.map((s) => s.split('/')[0])).not.toContain('node_modules');
    }
    const dist = copies(RUNTIME).find((c) => c.sources.some((s) => posix.basename(s) === TSCONFIG_OUTDIR));
    expect(dist?.from, 'dist/ comes from the build stage, never from the host').toBeDefined();
    expect(producedBy(stageByName(dist!.from!)).has(TSCONFIG_OUTDIR)).toBe(true);
    // What the runtime needs: package.json (PACKAGE_ROOT), bin/, schemas/ (read at run time).
    const copied = new Set(copies(RUNTIME).flatMap((c) => c.sources.map((s) => posix.basename(s))));
    for (const needed of ['node_modules', TSCONFIG_OUTDIR, 'bin', 'schemas', 'package.json']) expect(copied).toContain(needed);
  });

  it('runs as a non-root user, NODE_ENV=production, ENTRYPOINT on the bin, CMD naming the mounted config', () => {
    const user = RUNTIME.instructions.filter((i) => i.keyword === 'USER').pop()?.args.trim();
    expect(user).toBeDefined();
    expect(user!.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(RUNTIME.instructions.some((i) => i.keyword === 'ENV' && /\bNODE_ENV[= ]production\b/.test(i.args))).toBe(true);
    const entrypoint = jsonForm(RUNTIME, 'ENTRYPOINT')!;
    // The launcher itself (it starts node with the V8 flags that bound memory), where a runtime
    // COPY put bin/audit-router.
    const binCopy = copies(RUNTIME).find((c) => c.sources.includes('bin'))!;
    expect(entrypoint).toEqual([posix.join(destOf(binCopy, 'bin'), 'audit-router')]);
    const cmd = jsonForm(RUNTIME, 'CMD')!;
    expect(cmd[0]).toBe('-c');
    expect(cmd[1]).toMatch(/^\/etc\/audit-router\/.+\.toml$/);
  });

  it('HEALTHCHECK probes GET /healthz with a node one-liner (no curl in the image) at the address CMD turns the API on', async () => {
    const ins = RUNTIME.instructions.filter((i) => i.keyword === 'HEALTHCHECK').pop();
    expect(ins, 'a HEALTHCHECK in the runtime stage').toBeDefined();
    const m = /^((?:--\S+\s+)*)CMD\s+(\[.*\])$/.exec(ins!.args.trim());
    expect(m, ins!.args).not.toBeNull();
    const probe = JSON.parse(m![2]!) as string[];
    expect(probe[0]).toBe('node');
    const cmd = jsonForm(RUNTIME, 'CMD')!;
    const address = cmd[cmd.indexOf('--api-address') + 1]!;
    expect(address).toBe('127.0.0.1:8686');
    expect(probe.join(' ')).toContain(`http://${address}/healthz`);
    // Run the probe against a real router (on a free port: AUDIT_ROUTER_HEALTH_URL), then against nothing.
    const router = start(['--file', join(dir.path, 'healthcheck.jsonl'), '--api-address', '127.0.0.1:0']);
    const logs = watchLogs(router);
    const done = collect(router);
    try {
      const url = `http://${await apiAddress(logs)}/healthz`;
      const healthy = spawnSync(probe[0]!, probe.slice(1), { env: { ...process.env, AUDIT_ROUTER_HEALTH_URL: url }, encoding: 'utf8' });
      expect(healthy.status, healthy.stderr).toBe(0);
      router.stdin!.end();
      expect((await done).code).toBe(0);
      const gone = spawnSync(probe[0]!, probe.slice(1), { env: { ...process.env, AUDIT_ROUTER_HEALTH_URL: url }, encoding: 'utf8' });
      expect(gone.status).toBe(1);
    } finally {
      if (router.exitCode === null) router.kill('SIGKILL');
    }
  });

  it('every COPY source exists in the build context (and is not .dockerignored) or was made by an earlier stage', () => {
    const ignored = dockerignore(read('.dockerignore'));
    for (const stage of DOCKERFILE) {
      for (const c of copies(stage)) {
        for (const source of c.sources) {
          if (c.from === undefined) {
            expect(existsSync(repo(source)), `Dockerfile:${c.line}: ${source} is not in the repository`).toBe(true);
            for (const f of filesUnder(repo(source))) {
              expect(ignored(relative(ROOT, f)), `Dockerfile:${c.line}: ${relative(ROOT, f)} is excluded by .dockerignore`).toBe(false);
            }
          } else {
            const from = stageByName(c.from);
            expect(from.index, `Dockerfile:${c.line}: --from=${c.from} is not an earlier stage`).toBeLessThan(stage.index);
            const inStage = posix.relative(from.workdir, source);
            expect(inStage.startsWith('..'), `Dockerfile:${c.line}: ${source} is outside ${from.name}'s WORKDIR`).toBe(false);
            expect(producedBy(from), `Dockerfile:${c.line}: nothing in stage ${from.name} makes ${source}`).toContain(inStage.split('/')[0]);
          }
        }
      }
    }
  });

  it('the directories the sinks write to are declared volumes, created and owned by the runtime user', () => {
    const user = RUNTIME.instructions.filter((i) => i.keyword === 'USER').pop()!.args.trim();
    const volumes = jsonForm(RUNTIME, 'VOLUME')!;
    expect(volumes.length).toBeGreaterThan(0);
    const run = runs(RUNTIME).join(' && ');
    for (const v of volumes) {
      expect(run).toMatch(new RegExp(`mkdir -p [^&]*${v}(\\s|$)`));
      expect(run).toMatch(new RegExp(`chown ${user}(:${user})? [^&]*${v}(\\s|$)`));
    }
    // USER comes after the RUN that prepared them (a RUN after USER would run as node).
    const order = RUNTIME.instructions.map((i) => i.keyword);
    expect(order.lastIndexOf('RUN')).toBeLessThan(order.lastIndexOf('USER'));
  });
});

describe('.dockerignore', () => {
  const ignored = dockerignore(read('.dockerignore'));
  it('keeps host builds, dependencies, VCS data and test and bench artefacts out of the context', () => {
    for (const p of ['node_modules', 'node_modules/split2/index.js', 'dist/src/cli/main.js', '.git/HEAD', 'coverage/index.html', 'test-report.json', 'bench/results/run.json']) {
      expect(ignored(p), p).toBe(true);
    }
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'src/cli.ts', 'sinks/file.ts', 'bin/audit-router', 'schemas/config.schema.json']) {
      expect(ignored(p), p).toBe(false);
    }
  });
});

describe('Fluentd config (deploy/fluentd/fluent.conf)', () => {
  it('receives the forward protocol and writes what the router tags to a file', () => {
    const sources = FLUENT_CONF.children.filter((s) => s.name === 'source');
    const forward = sources.filter((s) => s.params['@type'] === 'forward');
    expect(forward.length).toBe(1);
    expect(forward[0]!.params['bind']).toBe('0.0.0.0');
    expect(Number(forward[0]!.params['port'])).toBeGreaterThan(0);
    const file = FLUENT_CONF.children.filter((s) => s.name === 'match' && s.params['@type'] === 'file');
    expect(file.length).toBe(1);
    expect(file[0]!.params['path']).toMatch(/^\/fluentd\/log\//);
    const buffer = file[0]!.children.find((c) => c.name === 'buffer')!;
    expect(buffer.params['@type']).toBe('file');
    expect(buffer.params['flush_at_shutdown']).toBe('true');
  });

  it('fluentd tag matching, as used below, follows Fluentd', () => {
    expect(fluentMatches('audit.**', 'audit.mcp')).toBe(true);
    expect(fluentMatches('audit.**', 'audit')).toBe(true);
    expect(fluentMatches('audit.**', 'audit.mcp.x')).toBe(true);
    expect(fluentMatches('audit.**', 'auditx.mcp')).toBe(false);
    expect(fluentMatches('audit.*', 'audit.mcp.x')).toBe(false);
    expect(fluentMatches('{app,audit}.*', 'audit.mcp')).toBe(true);
    expect(fluentMatches('fluent.**', 'audit.mcp')).toBe(false);
  });
});

describe('README: "Send to Datadog or Fluentd in two minutes"', () => {
  it('each TOML snippet is a config check-config accepts', async () => {
    const readme = read('README.md');
    const start = readme.indexOf('## Send to Datadog or Fluentd in two minutes');
    expect(start).toBeGreaterThan(-1);
    const end = readme.indexOf('\n## ', start + 1);
    const section = readme.slice(start, end === -1 ? undefined : end);
    const snippets = [...section.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(snippets.length).toBe(2);
    for (const [i, snippet] of snippets.entries()) {
      const file = join(dir.path, `readme-${i}.toml`);
      writeFileSync(file, snippet);
      const r = await runRouter(['check-config', '-c', file], { env: { DD_API_KEY: 'dummy-key-for-check-config' } });
      expect(r.code, `${snippet}\n${r.stderr}`).toBe(0);
    }
  });
});

describe.skipIf(composeLoad.unavailable !== undefined)('docker-compose.yml', () => {
  it('has the router (built from this repository) and Fluentd (official image, pinned v1.x)', () => {
    // Services under a profile (`otel`: test/deploy-otel.test.ts) start only when it is asked for.
    expect(Object.keys(services).filter((n) => services[n]!['profiles'] === undefined).sort()).toEqual([fluentdName, routerName].sort());
    expect(fluentd['image']).toMatch(/^fluent\/fluentd:v1\.\d+\.\d+-[\w.-]+$/);
    const build = router['build'];
    const context = typeof build === 'string' ? build : String((build as JsonObject)['context']);
    const dockerfile = typeof build === 'object' && build !== null && !Array.isArray(build) && build['dockerfile'] ? String(build['dockerfile']) : 'Dockerfile';
    expect(existsSync(join(resolve(ROOT, context), dockerfile))).toBe(true);
    const dependsOn = router['depends_on'];
    expect(Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn as JsonObject)).toContain(fluentdName);
    // service_healthy needs a healthcheck on Fluentd.
    if (!Array.isArray(dependsOn) && (dependsOn as Record<string, JsonObject>)[fluentdName]!['condition'] === 'service_healthy') {
      expect(fluentd['healthcheck']).toBeDefined();
    }
  });

  it('every bind-mounted file exists; every named volume is declared', () => {
    const declared = Object.keys((compose['volumes'] ?? {}) as JsonObject);
    for (const [name, service] of Object.entries(services)) {
      for (const m of mounts(service)) {
        if (m.kind === 'bind') {
          expect(existsSync(m.source), `${name}: ${relative(ROOT, m.source)} does not exist`).toBe(true);
          expect(statSync(m.source).isFile(), `${name}: ${relative(ROOT, m.source)} should be a file`).toBe(true);
          expect(m.readOnly, `${name}: ${m.target} should be read-only`).toBe(true);
        } else {
          expect(declared, `${name}: volume ${m.source}`).toContain(m.source);
        }
      }
    }
  });

  it('DD_API_KEY is optional, and the command leaves every variable to the container shell', () => {
    const environment = router['environment'] as JsonObject;
    expect(environment['DD_API_KEY']).toMatch(/^\$\{DD_API_KEY:?-\}$/);
    // With nothing set on the host: no key (the plain config), and a usable site for the other.
    expect(interpolate(String(environment['DD_API_KEY']), {})).toBe('');
    expect(interpolate(String(environment['DD_SITE']), {})).toMatch(/^[a-z0-9.-]+$/);
    // Compose interpolates `$X` in the command itself; only `$$` (a literal `$`) is meant there.
    const command = JSON.stringify(router['command']);
    expect(command.replace(/\$\$/g, '')).not.toContain('$');
    expect(router['entrypoint']).toEqual(['/bin/sh', '-c']);
    // The command runs the bin the image's ENTRYPOINT runs.
    expect(routerScript()).toContain(`exec ${jsonForm(RUNTIME, 'ENTRYPOINT')![0]} `);
  });

  it('the router reads the bundled redisctl-mcp stream, mounted from examples/', () => {
    const input = /<\s*(\S+)/.exec(routerScript())?.[1];
    expect(input).toBeDefined();
    expect(hostPathOf(input!)).toBe(repo('examples/redisctl-mcp-stderr.log'));
  });

  it('both router configs are mounted from deploy/ and validate with check-config where the container sees them', async () => {
    const configs = routerConfigPaths();
    expect(configs.length).toBe(2);
    // The container's /etc/audit-router, rebuilt from the bind mounts (relative paths in a config,
    // like policy = "mcp-policy.toml", resolve there).
    const etc = join(dir.path, 'check', 'etc', 'audit-router');
    mkdirSync(etc, { recursive: true });
    for (const m of mounts(router)) if (m.kind === 'bind' && m.target.startsWith('/etc/audit-router/')) cpSync(m.source, join(etc, posix.basename(m.target)));
    for (const c of configs) {
      expect(relative(ROOT, hostPathOf(c))).toMatch(/^deploy\//);
      const r = await runRouter(['check-config', '-c', join(etc, posix.basename(c))], {
        env: { DD_API_KEY: 'dummy-key-for-check-config', DD_SITE: 'datadoghq.com' },
      });
      expect(r.code, `${c}: ${r.stderr}`).toBe(0);
    }
  });

  it('the Datadog config is the default one plus [sinks.datadog], its key from DD_API_KEY', () => {
    const [plain, withDatadog] = routerConfigPaths()
      .map((c) => parseToml(readFileSync(hostPathOf(c), 'utf8')) as JsonObject)
      .sort((a, b) => Object.keys(a['sinks'] as JsonObject).length - Object.keys(b['sinks'] as JsonObject).length);
    const sinks = withDatadog!['sinks'] as Record<string, JsonObject>;
    const datadog = Object.entries(sinks).filter(([, s]) => s['type'] === 'datadog');
    expect(datadog.length).toBe(1);
    const [ddName, dd] = datadog[0]!;
    expect(dd['api_key']).toBe('${DD_API_KEY}');
    expect(dd['api_key_file']).toBeUndefined();
    const { [ddName]: _removed, ...others } = sinks;
    expect({ ...withDatadog, sinks: others }).toEqual(plain);
    // And the default one has no Datadog sink: it must work with no key at all.
    expect(Object.values(plain!['sinks'] as Record<string, JsonObject>).map((s) => s['type'])).not.toContain('datadog');
  });

  it('everything the router writes lies in a named volume that the image prepares for its user', () => {
    const volumes = mounts(router).filter((m) => m.kind === 'volume').map((m) => m.target);
    expect(volumes.sort()).toEqual([...jsonForm(RUNTIME, 'VOLUME')!].sort());
    const inVolume = (p: string): boolean => volumes.some((v) => p.startsWith(v + '/'));
    for (const c of routerConfigPaths()) {
      const cfg = parseToml(readFileSync(hostPathOf(c), 'utf8')) as Record<string, Record<string, JsonObject>>;
      const written: string[] = [];
      for (const sink of Object.values(cfg['sinks']!)) {
        if (sink['type'] === 'file') written.push(String(sink['path']));
        const buffer = sink['buffer'] as JsonObject | undefined;
        if (buffer?.['type'] === 'disk') written.push(String(buffer['path']));
      }
      written.push(String(cfg['dead_letter']!['path']));
      for (const p of written) expect(inVolume(p), `${c}: ${p} is not in a volume`).toBe(true);
      // One disk buffer directory per sink (a second user of a directory is refused by its lock).
      expect(new Set(written).size).toBe(written.length);
    }
  });

  it("Fluentd's forward port, the published port and the router's fluentd sink agree; its match takes the router's tag", () => {
    const forward = FLUENT_CONF.children.find((s) => s.name === 'source' && s.params['@type'] === 'forward')!;
    const port = Number(forward.params['port']);
    const conf = mounts(fluentd).find((m) => m.target === '/fluentd/etc/fluent.conf');
    expect(conf && relative(ROOT, conf.source)).toBe('deploy/fluentd/fluent.conf');
    const published = ((fluentd['ports'] ?? []) as string[]).map((p) => Number(String(p).split(':').pop()!.split('/')[0]));
    expect(published).toContain(port);
    // Fluentd's out_file writes into a volume, so the trail outlives the container.
    const file = FLUENT_CONF.children.find((s) => s.name === 'match' && s.params['@type'] === 'file')!;
    expect(mounts(fluentd).some((m) => m.kind === 'volume' && file.params['path']!.startsWith(m.target + '/'))).toBe(true);
    for (const c of routerConfigPaths()) {
      const cfg = parseToml(readFileSync(hostPathOf(c), 'utf8')) as Record<string, Record<string, JsonObject>>;
      const sinks = Object.values(cfg['sinks']!).filter((s) => s['type'] === 'fluentd');
      expect(sinks.length).toBe(1);
      expect(sinks[0]!['host']).toBe(fluentdName);
      expect(sinks[0]!['port']).toBe(port);
      expect(sinks[0]!['require_ack']).not.toBe(false);
      const tag = String(sinks[0]!['tag'] ?? 'audit.mcp');
      const routes = FLUENT_CONF.children.filter((s) => s.name === 'match');
      // The first <match> taking the tag is the one that gets it: it must be the file output.
      expect(routes.find((m) => fluentMatches(m.arg, tag))).toBe(file);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The router service, rehearsed without Docker

/**
 * A stage that builds, rehearsed: what it COPYs from the context laid out under `at` as in its
 * WORKDIR, node_modules linked (the stage installs every dependency), then its RUNs other than
 * the install, run by /bin/sh there. Built once per stage.
 */
const builtStages = new Map<string, string>();
function buildStage(stage: Stage): string {
  const done = builtStages.get(stage.name);
  if (done) return done;
  const at = join(dir.path, 'stage-' + stage.name);
  mkdirSync(at, { recursive: true });
  for (const c of copies(stage)) {
    if (c.from !== undefined) throw new Error(`Dockerfile:${c.line}: the rehearsal does not follow COPY --from inside ${stage.name}`);
    for (const source of c.sources) cpSync(repo(source), join(at, posix.relative(stage.workdir, destOf(c, source))), { recursive: true });
  }
  symlinkSync(repo('node_modules'), join(at, 'node_modules'), 'dir');
  for (const command of runs(stage)) {
    if (/^npm (ci|install)\b/.test(command.trim())) continue;
    const r = spawnSync('/bin/sh', ['-c', command], { cwd: at, encoding: 'utf8' });
    expect(r.status, `stage ${stage.name}: RUN ${command} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  }
  builtStages.set(stage.name, at);
  return at;
}

/**
 * The image's /app, from the runtime stage's COPYs: context files from the repository; from the
 * build stage, its rehearsal's output (buildStage); node_modules only the packages
 * package-lock.json does not mark `dev` when the installing stage omits dev (symlinked: what the
 * compiled code requires resolves here; a package's own dependencies resolve from its real path).
 */
function assembleApp(app: string): { packages: string[] } {
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
  const deps = nodeModulesStage();
  const prodOnly = npmCi(deps).some((w) => w.includes('--omit=dev'));
  const packages = Object.entries(lock.packages)
    .filter(([k, v]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(k) && !(prodOnly && v.dev))
    .map(([k]) => k.slice('node_modules/'.length))
    .filter((name) => existsSync(repo(join('node_modules', name))));
  for (const c of copies(RUNTIME)) {
    for (const source of c.sources) {
      const dest = join(app, posix.relative('/app', destOf(c, source)));
      if (c.from === deps.name && posix.basename(source) === 'node_modules') {
        for (const name of packages) {
          mkdirSync(dirname(join(dest, name)), { recursive: true });
          symlinkSync(repo(join('node_modules', name)), join(dest, name), 'dir');
        }
      } else if (c.from !== undefined) {
        const stage = stageByName(c.from);
        cpSync(join(buildStage(stage), posix.relative(stage.workdir, source)), dest, { recursive: true });
      } else {
        cpSync(repo(source), dest, { recursive: true });
      }
    }
  }
  return { packages };
}

describe.skipIf(composeLoad.unavailable !== undefined)('the router service, rehearsed without Docker', () => {
  const base = join(dir.path, 'rehearsal');

  /** Lays out the container (image + mounts) under `root` and returns the command's script with its paths mapped there. */
  function layOut(root: string, fluentdAddress: { host: string; port: number }, datadogEndpoint: string): string {
    const app = join(root, 'app');
    const { packages } = assembleApp(app);
    // No compiler, no test runner. (A devDependency may still be a production package's
    // dependency, as @types/node is: npm --omit=dev installs those, and so does this layout.)
    for (const tool of ['typescript', 'vitest']) {
      expect(packages).not.toContain(tool);
      expect(existsSync(join(app, 'node_modules', tool))).toBe(false);
    }
    const dependencies = Object.keys((JSON.parse(read('package.json')) as { dependencies: Record<string, string> }).dependencies);
    for (const dep of dependencies) expect(packages).toContain(dep);

    const map = new Map<string, string>([['/app', app]]);
    for (const m of mounts(router)) {
      const at = join(root, m.target);
      map.set(m.target, at);
      if (m.kind === 'volume') mkdirSync(at, { recursive: true });
      else {
        mkdirSync(dirname(at), { recursive: true });
        cpSync(m.source, at);
      }
    }
    const targets = [...map.keys()].sort((a, b) => b.length - a.length);
    const mapPath = (p: string): string => {
      const t = targets.find((x) => p === x || p.startsWith(x + '/'));
      return t ? map.get(t)! + p.slice(t.length) : p;
    };
    // The configs as mounted, with container paths mapped into `root`, the `fluentd` service
    // replaced by the local forward server and Datadog by the local intake.
    for (const c of routerConfigPaths()) {
      const cfg = parseToml(readFileSync(mapPath(c), 'utf8')) as JsonObject;
      const remap = (v: JsonValue): JsonValue =>
        typeof v === 'string' && v.startsWith('/') ? mapPath(v) : Array.isArray(v) ? v.map(remap) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, remap(x)])) : v;
      const mapped = remap(cfg) as Record<string, Record<string, JsonObject>>;
      for (const sink of Object.values(mapped['sinks']!)) {
        if (sink['type'] === 'fluentd') Object.assign(sink, fluentdAddress);
        if (sink['type'] === 'datadog') sink['endpoint'] = datadogEndpoint;
      }
      writeFileSync(mapPath(c), stringifyToml(mapped));
    }
    let script = routerScript();
    for (const t of targets) {
      script = script.replace(new RegExp(`${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[/\\s"';<>]|$)`, 'gm'), map.get(t)!);
    }
    expect(script, 'a container path in the command is not mapped').not.toMatch(/(^|[\s="'<])\/(app|etc|examples|var)\//m);
    return script;
  }

  async function rehearse(name: string, hostEnv: Record<string, string>): Promise<{
    code: number | null; stderr: string; counters: Record<string, unknown>; file: string[]; fluentd: { tag: string; record: unknown }[]; datadog: number; root: string;
  }> {
    const fluentdServer = await startFluentdServer();
    const DD_KEY = hostEnv['DD_API_KEY'] || 'unused-key';
    const intake = await startDatadogIntake({ apiKey: DD_KEY });
    try {
      const root = join(base, name);
      const script = layOut(root, { host: fluentdServer.host, port: fluentdServer.port }, intake.url);
      const environment = Object.fromEntries(Object.entries(router['environment'] as JsonObject).map(([k, v]) => [k, interpolate(String(v), hostEnv)]));
      const child = spawn('/bin/sh', ['-c', script], {
        cwd: root,
        env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: root, ...environment },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.stdin!.end();
      const result = await collect(child, 60_000);
      const counters = result.code === 0 ? finished(result) : {};
      const auditFile = join(root, '/var/log/audit-router/audit.jsonl');
      return {
        code: result.code,
        stderr: result.stderr,
        counters,
        file: existsSync(auditFile) ? readFileSync(auditFile, 'utf8').split('\n').filter((l) => l !== '') : [],
        fluentd: fluentdServer.events.map((e) => ({ tag: e.tag, record: e.record })),
        datadog: intake.logs.length,
        root,
      };
    } finally {
      await fluentdServer.close();
      await intake.close();
    }
  }

  it('without DD_API_KEY: the example stream reaches the file and Fluentd, redacted the same, nothing to Datadog', async () => {
    const r = await rehearse('plain', {});
    expect(r.code, r.stderr).toBe(0);
    const audit = r.counters['audit'] as number;
    expect(audit).toBeGreaterThan(0);
    const sinks = r.counters['sinks'] as Record<string, Record<string, unknown>>;
    expect(Object.values(sinks).map((s) => s['delivered'])).toEqual([audit, audit]);
    expect(r.file.length).toBe(audit);
    expect(r.fluentd.length).toBe(audit);
    expect(new Set(r.fluentd.map((e) => e.tag))).toEqual(new Set(['audit.mcp']));
    // Fluentd gets exactly what the file holds: the redacted records, in order.
    expect(r.fluentd.map((e) => e.record)).toEqual(r.file.map((l) => JSON.parse(l) as unknown));
    expect(r.datadog).toBe(0);
    // The rejected lines of the example went to the dead letter, in the volume.
    expect(readFileSync(join(r.root, 'var/log/audit-router/audit-rejected.jsonl'), 'utf8').trim().split('\n').length).toBe(r.counters['dead_lettered']);
    // The fluentd sink's disk buffer lives in the buffers volume.
    expect(existsSync(join(r.root, 'var/lib/audit-router/fluentd'))).toBe(true);
  });

  it('with DD_API_KEY: the Datadog config is chosen and every event reaches Datadog too', async () => {
    const r = await rehearse('datadog', { DD_API_KEY: 'dd-rehearsal-key-0123456789abcdef' });
    expect(r.code, r.stderr).toBe(0);
    const audit = r.counters['audit'] as number;
    expect(audit).toBeGreaterThan(0);
    expect(Object.keys(r.counters['sinks'] as JsonObject).length).toBe(3);
    expect(r.file.length).toBe(audit);
    expect(r.fluentd.length).toBe(audit);
    expect(r.datadog).toBe(audit);
    expect(r.stderr).not.toContain('dd-rehearsal-key-0123456789abcdef');
    expect(existsSync(join(r.root, 'var/lib/audit-router/datadog'))).toBe(true);
  });
});
