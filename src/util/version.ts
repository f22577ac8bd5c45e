/** audit-router's own version (package.json), read once on first use: for user agents and instrumentation scopes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './paths';

let version: string | undefined;

export function auditRouterVersion(): string {
  version ??= (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
