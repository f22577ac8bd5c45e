/**
 * Gzip of a rotated file with bounded memory: the source is read into one reused buffer, each
 * piece goes through zlib only once the previous one has been consumed, and the compressed
 * output is written as it comes. A `fs.createReadStream` piped into zlib (what
 * rotating-file-stream, used before, did) takes a fresh 64 KiB Buffer per read, garbage that V8
 * only collects now and then, so a 100 MB file briefly costs ~30–40 MB of RSS; this costs one
 * buffer and zlib's state.
 */
import { close, open, read, write } from 'node:fs';
import { promisify } from 'node:util';
import { constants, createGzip, type Gzip } from 'node:zlib';

const openAsync = promisify(open);
const readAsync = promisify(read);
const writeAsync = promisify(write);
const closeAsync = promisify(close);

/** Bytes read from the source per step. */
const READ_BYTES = 64 * 1024;

export interface GzipFileOptions {
  /** File mode of the destination (as `open`'s mode). */
  mode?: number;
  /** zlib level, 1 (fastest) to 9 (smallest); default zlib's 6. */
  level?: number;
}

/**
 * Compresses `source` into `destination` (created, or truncated), gzip format. Resolves once the
 * destination is complete and closed; on any error the destination is left for the caller to
 * remove and the source is untouched.
 */
export async function gzipFile(source: string, destination: string, options: GzipFileOptions = {}): Promise<void> {
  const input = await openAsync(source, 'r');
  let output: number | null = null;
  try {
    output = await openAsync(destination, 'w', options.mode ?? 0o600);
    const zip = createGzip({ level: options.level ?? constants.Z_DEFAULT_COMPRESSION });
    const written = drain(zip, output);
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    for (;;) {
      const { bytesRead } = await readAsync(input, buffer, 0, READ_BYTES, null);
      if (bytesRead === 0) break;
      // The buffer is reused: wait until zlib has taken this piece before reading the next.
      await new Promise<void>((resolve, reject) => {
        zip.write(buffer.subarray(0, bytesRead), (error) => (error ? reject(error) : resolve()));
      });
    }
    zip.end();
    await written;
  } finally {
    await closeAsync(input).catch(() => {});
    if (output !== null) await closeAsync(output);
  }
}

/** Writes zlib's output to `fd` as it is produced; resolves at the end of the stream. */
function drain(zip: Gzip, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending: Promise<void> = Promise.resolve();
    let failed = false;
    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      zip.destroy();
      reject(error);
    };
    zip.on('data', (chunk: Buffer) => {
      // Writes are chained, in order; zlib pauses while one is outstanding (backpressure).
      zip.pause();
      pending = pending.then(() => writeAll(fd, chunk)).then(
        () => {
          if (!failed) zip.resume();
        },
        fail,
      );
    });
    zip.on('error', fail);
    zip.on('end', () => {
      pending.then(() => {
        if (!failed) resolve();
      }, fail);
    });
  });
}

async function writeAll(fd: number, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await writeAsync(fd, chunk, offset, chunk.length - offset);
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    offset += bytesWritten;
  }
}
