/**
 * The `stdout` sink: one JSON event per line on standard output, for a pipe into another tool.
 *
 * When the reader goes away (EPIPE) the sink stops writing for good: the events not written
 * are dead-lettered (or counted failed) and the error is logged once. The process never dies of it.
 */
import type { Writable } from 'node:stream';
import { LineSink } from '../src/line-sink';
import type { Target } from '../src/line-sink';
import type { LogFields } from '../src/log';
import type { SinkContext, SinkFactory } from '../src/sink';

class StdoutSink extends LineSink {
  private broken = false;

  constructor(
    context: SinkContext,
    private readonly out: Writable,
    isDeadLetter: boolean,
  ) {
    super(context.name, 'stdout', context.logger, isDeadLetter ? null : context.deadLetter);
    out.on('error', this.onError);
  }

  protected target(): Target {
    return this.broken ? false : this.out;
  }

  protected writeFailed(): void {
    this.broken = true;
  }

  protected async release(): Promise<void> {
    // Standard output is not ours to close: everything written has been handed to the OS.
    // The error listener stays: a late EPIPE must not crash the process either.
  }

  protected abandon(): void {
    this.broken = true;
  }

  protected describe(): LogFields {
    return { stream: 'stdout' };
  }

  private readonly onError = (error: Error): void => {
    this.report(error);
    this.broken = true;
  };
}

/**
 * Options: none in config. Internal, for tests and the lead: `stream` (a Writable instead of
 * process.stdout) and `dead_letter: true` (failures are counted, not dead-lettered).
 */
export const createSink: SinkFactory = (options, context) => {
  const stream = options['stream'];
  const out = isWritable(stream) ? stream : process.stdout;
  return new StdoutSink(context, out, options['dead_letter'] === true);
};

function isWritable(value: unknown): value is Writable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Writable).write === 'function' &&
    typeof (value as Writable).on === 'function'
  );
}
