/**
 * Talking to a running router's API server from a test: find the address it listens on (its
 * "api listening" log line, so tests can ask for port 0), GET a path, and parse /metrics
 * (Prometheus text format) into samples.
 */
import type { ChildProcess } from 'node:child_process';
import * as http from 'node:http';

/** Watches a child's stderr for our log lines; returns a function listing those seen so far. */
export function watchLogs(child: ChildProcess): () => Record<string, unknown>[] {
  const logs: Record<string, unknown>[] = [];
  let rest = '';
  child.stderr!.on('data', (b: Buffer) => {
    const lines = (rest + b.toString('utf8')).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (!line.includes('"target":"audit_router"')) continue;
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not one of ours
      }
    }
  });
  return () => logs;
}

/** Resolves with the API address (host:port) once the router logged it. */
export async function apiAddress(logs: () => Record<string, unknown>[], timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = logs().find((l) => l['message'] === 'api listening');
    if (line) return String(line['address']);
    if (Date.now() > deadline) throw new Error(`no "api listening" log line; logs: ${JSON.stringify(logs()).slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function get(address: string, path: string): Promise<HttpAnswer> {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address)!;
  return new Promise((resolve, reject) => {
    const req = http.get({ host: m[1], port: Number(m[2]), path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** One sample of a scrape: name, labels, value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class Scrape {
  constructor(
    readonly samples: MetricSample[],
    readonly types: Map<string, string>,
    readonly text: string,
  ) {}

  /** The value of the one sample of `name` whose labels include `labels`; throws when none or several. */
  value(name: string, labels: Record<string, string> = {}): number {
    const found = this.all(name, labels);
    if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} samples`);
    return found[0]!.value;
  }

  /** The value, or undefined when there is no such sample. */
  maybe(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.all(name, labels);
    return found.length === 1 ? found[0]!.value : undefined;
  }

  all(name: string, labels: Record<string, string> = {}): MetricSample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }
}

/** Parses the Prometheus text exposition format (version 0.0.4), strictly enough for tests. */
export function parseMetrics(text: string): Scrape {
  const samples: MetricSample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
      let l: RegExpExecArray | null;
      while ((l = re.exec(m[2])) !== null) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = m[3]!;
    // Go's ParseFloat (Prometheus) takes NaN in any case; prom-client writes "Nan".
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : /^nan$/i.test(raw) ? NaN : Number(raw);
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`bad value in: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return new Scrape(samples, types, text);
}

export async function scrape(address: string): Promise<Scrape> {
  const r = await get(address, '/metrics');
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.body}`);
  return parseMetrics(r.body);
}

/** Scrapes until `condition` holds (the last scrape is returned), or fails saying what was awaited. */
export async function scrapeUntil(address: string, condition: (s: Scrape) => boolean, what: string, timeoutMs = 20_000): Promise<Scrape> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await scrape(address);
    if (condition(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last scrape:\n${s.text.split('\n').filter((l) => l.startsWith('audit_router')).join('\n')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** GETs `path` until `condition` holds on the answer, or fails saying what was awaited. */
export async function getUntil(address: string, path: string, condition: (a: HttpAnswer) => boolean, what: string, timeoutMs = 20_000): Promise<HttpAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = await get(address, path);
    if (condition(a)) return a;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last answer ${a.status}: ${a.body.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The sum of every sample of `name` whose labels include `labels`. */
export function sum(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  return s.all(name, labels).reduce((n, x) => n + x.value, 0);
}
