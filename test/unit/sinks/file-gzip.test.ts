/**
 * The bounded-memory gzip of rotated files (sinks/file/gzip.ts): what it writes is the source,
 * byte for byte, once gunzipped, for sizes around its read buffer; errors reject.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { gzipFile } from '../../../sinks/file/gzip';
import { tempDir } from '../../support/cli';

const dir = tempDir('ar-gzip-');
afterAll(() => dir.cleanup());

describe('gzipFile', () => {
  for (const size of [0, 1, 65_535, 65_536, 65_537, 1_000_003]) {
    it(`round-trips ${size} bytes`, async () => {
      const source = join(dir.path, `src-${size}`);
      const destination = `${source}.gz`;
      // Lines of varying text, like a rotated audit file (compressible but not trivially so).
      let text = '';
      for (let i = 0; text.length < size; i++) text += `{"seq":${i},"tool":"t${(i * 7919) % 1000}"}\n`;
      writeFileSync(source, text.slice(0, size));
      await gzipFile(source, destination, { mode: 0o640 });
      expect(gunzipSync(readFileSync(destination)).equals(readFileSync(source))).toBe(true);
      expect(statSync(destination).mode & 0o777).toBe(0o640);
    });
  }

  it('rejects when the source is missing, and when the destination cannot be created', async () => {
    await expect(gzipFile(join(dir.path, 'missing'), join(dir.path, 'x.gz'))).rejects.toMatchObject({ code: 'ENOENT' });
    const source = join(dir.path, 'present');
    writeFileSync(source, 'x\n');
    await expect(gzipFile(source, join(dir.path, 'no-such-dir', 'x.gz'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
