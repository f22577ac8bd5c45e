/**
 * `host:port` as `--api-address` and `[api] address` take it ("127.0.0.1:8686", "[::1]:8686",
 * ":8686" for every address). Its own file so the config check and the tap CLI can use it
 * without loading the API server (and prom-client), src/observe/.
 */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error('must be host:port, such as "127.0.0.1:8686"');
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
