/**
 * `audit-router tap --address 127.0.0.1:8686`: prints, live, the redacted audit events a running
 * router is routing (its `GET /tap`, on when the router has `api.tap = true`), one JSON object a
 * line on stdout. Notices from the router (events dropped because this reader was slow) go to
 * stderr. Ends when the router closes the stream (exit 0), after `--limit` events (exit 0), or
 * when it cannot connect or the tap is off (exit 1).
 */
import * as http from 'node:http';
import { parseAddress } from '../util/address';

export interface TapOptions {
  address: string;
  limit?: number;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

export function runTap(options: TapOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  let target: { host: string; port: number };
  try {
    target = parseAddress(options.address);
  } catch (error) {
    err.write(`audit-router tap: --address ${(error as Error).message}\n`);
    return Promise.resolve(2);
  }
  const limit = options.limit ?? Infinity;
  return new Promise((resolve) => {
    let events = 0;
    let rest = '';
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      req.destroy();
      // stdout to a pipe is written asynchronously: resolve (and let the process exit) once it is flushed.
      out.write('', () => resolve(code));
    };
    const req = http.get({ host: target.host, port: target.port, path: '/tap', headers: { accept: 'application/x-ndjson' } }, (res) => {
      if (res.statusCode !== 200) {
        err.write(
          res.statusCode === 404
            ? `audit-router tap: the router at ${options.address} has no tap: set api.tap = true in its config\n`
            : `audit-router tap: ${options.address} answered HTTP ${res.statusCode}\n`,
        );
        res.resume();
        return finish(1);
      }
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        const lines = (rest + text).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          if (line === '') continue;
          if (line.startsWith('{"audit_router_tap":')) {
            err.write(`audit-router tap: ${line}\n`);
            continue;
          }
          out.write(line + '\n');
          if (++events >= limit) return finish(0);
        }
      });
      res.on('end', () => finish(0));
      res.on('error', () => finish(0));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      err.write(`audit-router tap: cannot connect to ${options.address}: ${error.code ?? error.name}\n`);
      finish(1);
    });
  });
}
