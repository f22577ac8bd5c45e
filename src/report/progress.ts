/**
 * The progress bar of `audit-router report`: one line on stderr, redrawn at most ten times a
 * second, only when stderr is a terminal (never in a pipe, a file or CI logs), and erased when
 * the report is done so the summary starts on a clean line.
 */

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

const REDRAW_MS = 100;

export class Progress {
  private readonly enabled: boolean;
  private bytes = 0;
  private events = 0;
  private drawnAt = 0;
  private drawn = false;

  /** `totalBytes`: what the files add up to (0 when unknown, e.g. stdin). */
  constructor(
    private readonly stream: ProgressStream,
    private readonly totalBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    this.enabled = stream.isTTY === true;
  }

  /** More bytes read (compressed bytes for gzip files). */
  read(bytes: number): void {
    this.bytes += bytes;
    this.tick();
  }

  /** One more event counted. */
  event(): void {
    this.events++;
  }

  private tick(): void {
    if (!this.enabled) return;
    const t = this.now();
    if (t - this.drawnAt < REDRAW_MS) return;
    this.drawnAt = t;
    this.stream.write(`\r${this.line()}\x1b[K`);
    this.drawn = true;
  }

  /** The bar's text, e.g. `[#########-----------]  45%  135.0/300.0 MiB  412 345 events`. */
  line(): string {
    // A terminal that reports no size (columns 0 or unset) gets 80.
    const width = Math.max(40, Math.min(100, this.stream.columns || 80)) - 1;
    const mib = (n: number): string => (n / 1048576).toFixed(1);
    const events = `${this.events.toLocaleString('en-US')} events`;
    if (this.totalBytes <= 0) return `reading  ${mib(this.bytes)} MiB  ${events}`.slice(0, width);
    const share = Math.min(1, this.bytes / this.totalBytes);
    const tail = ` ${String(Math.floor(share * 100)).padStart(3)}%  ${mib(this.bytes)}/${mib(this.totalBytes)} MiB  ${events}`;
    const barWidth = width - tail.length - 2;
    // Too narrow for a bar: the figures alone, which matter more.
    if (barWidth < 10) return tail.trimStart().slice(0, width);
    const done = Math.round(share * barWidth);
    return `[${'#'.repeat(done)}${'-'.repeat(barWidth - done)}]${tail}`;
  }

  /** Erases the bar. */
  finish(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[K');
  }
}
