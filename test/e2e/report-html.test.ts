/**
 * The HTML report in a real headless Chromium (Debian's chromium through playwright-core): the
 * charts draw (canvas pixels), the per-tool table sorts on a click, the numbers shown equal the
 * JSON, no request leaves the page (every one is routed and refused), no console error; it
 * holds at phone width and in print. The page, its screenshots and its PDF are kept as CI
 * artifacts in $TMPDIR/audit-router-artifacts/report-html/ (replaced by each run); the rest of
 * the test's temp dir is removed.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRouter, tempDir } from '../support/cli';
import { auditLine, generateTrail, type ReportJson } from '../support/audit-trail';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

const dir = tempDir('audit-router-report-html-');
/** Kept after the run (CI artifacts): screenshots, the PDF and the page. */
const artifacts = join(tmpdir(), 'audit-router-artifacts', 'report-html');
let browser: Browser;
let html: string;
let emptyHtml: string;
let report: ReportJson;
const trail = generateTrail({ seed: 17, events: 2500, meanGapUs: 3_000_000 });

beforeAll(async () => {
  const path = join(dir.path, 'trail.jsonl');
  writeFileSync(path, trail.events.map(auditLine).join('\n') + '\n');
  const htmlPath = join(dir.path, 'report.html');
  const r = await runRouter(['report', path, '--json', '--html', htmlPath]);
  expect(r.code, r.stderr).toBe(0);
  report = JSON.parse(r.stdout);
  html = (await import('node:fs')).readFileSync(htmlPath, 'utf8');
  const emptyPath = join(dir.path, 'empty.html');
  const e = await runRouter(['report', path, '--since', '2030-01-01', '--html', emptyPath]);
  expect(e.code, e.stderr).toBe(0);
  emptyHtml = (await import('node:fs')).readFileSync(emptyPath, 'utf8');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  copyFileSync(htmlPath, join(artifacts, 'report.html'));
});

afterAll(async () => {
  await browser?.close();
  dir.cleanup();
});

/** Opens `content` with every request refused and recorded, and every console error kept. */
async function open(content: string, width = 1280): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  await page.route('**/*', async (route) => {
    requests.push(route.request().url());
    await route.abort();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.setContent(content, { waitUntil: 'load' });
  await page.waitForFunction(() => document.documentElement.getAttribute('data-ready') === '1');
  return { page, requests, errors };
}

/** Pixels of a chart's canvas that are not transparent. */
function paintedPixels(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const canvas = document.querySelector(`${sel} canvas`) as HTMLCanvasElement | null;
    if (!canvas || canvas.width === 0 || canvas.height === 0) return 0;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
    return n;
  }, selector);
}

/** The per-tool table as [tool, calls, denied, errors, p50, p95, p99, max] with numbers as shown. */
function toolRows(page: Page): Promise<Array<Array<string | number | null>>> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('#tools-table tbody tr')).map((tr) => {
      const cells = Array.from((tr as HTMLTableRowElement).cells);
      const shown = (i: number): number | null => {
        const text = cells[i]!.textContent!.replace(/[≈,]/g, '').trim();
        return text === '–' ? null : Number(text);
      };
      // tool, toolset, safety, calls, denied, errors, rate, p50, p95, p99, max
      return [cells[0]!.textContent, shown(3), shown(4), shown(5), shown(7), shown(8), shown(9), shown(10)];
    }),
  );
}

describe('HTML report in headless Chromium', () => {
  it('draws the charts, shows the JSON numbers, makes no request and logs no error', async () => {
    const { page, requests, errors } = await open(html);
    expect(await paintedPixels(page, '#timeline-chart')).toBeGreaterThan(500);
    expect(await paintedPixels(page, '#duration-chart')).toBeGreaterThan(500);

    const rows = await toolRows(page);
    expect(rows).toEqual(report.tools.map((t) => [t.tool, t.calls, t.denied, t.errors, t.p50_ms, t.p95_ms, t.p99_ms, t.max_ms]));
    // Each shown number's raw value is the JSON's too (data-value drives sorting).
    const raw = await page.$$eval('#tools-table tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLTableRowElement).cells[3]!.getAttribute('data-value'))));
    expect(raw).toEqual(report.tools.map((t) => t.calls));
    expect(await page.textContent('#total-events')).toBe(report.totals.events.toLocaleString('en-US'));
    expect(await page.textContent('#total-denied')).toBe(report.by_event['tool_denied']!.toLocaleString('en-US'));
    const denials = await page.$$eval('#denials-table tbody tr', (trs) =>
      trs.map((tr) => [(tr as HTMLTableRowElement).cells[0]!.textContent, Number((tr as HTMLTableRowElement).cells[2]!.textContent!.replace(/,/g, ''))]),
    );
    expect(denials).toEqual(report.denials.map((d) => [d.tool, d.count]));
    expect(await page.textContent('#chain-status')).toBe('not chained');

    // Another tool's distribution redraws the chart.
    await page.selectOption('#duration-tool', report.tools[3]!.tool);
    expect(await paintedPixels(page, '#duration-chart')).toBeGreaterThan(200);
    expect(await page.textContent('#duration-caption')).toContain(report.tools[3]!.tool);

    await page.screenshot({ path: join(artifacts, 'report-desktop.png'), fullPage: true });
    expect(statSync(join(artifacts, 'report-desktop.png')).size).toBeGreaterThan(10_000);
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('sorts the per-tool table by any column on a click, and says so with aria-sort', async () => {
    const { page, errors } = await open(html);
    const column = async (i: number): Promise<Array<string | null>> =>
      page.$$eval('#tools-table tbody tr', (trs, c) => trs.map((tr) => (tr as HTMLTableRowElement).cells[c as number]!.getAttribute('data-value')), i);
    const sortState = (): Promise<Array<string | null>> => page.$$eval('#tools-table thead th', (ths) => ths.map((th) => th.getAttribute('aria-sort')));

    await page.click('#tools-table thead button[data-key="tool"]');
    const names = await column(0);
    expect(names).toEqual([...report.tools.map((t) => t.tool)].sort());
    expect((await sortState())[0]).toBe('ascending');
    await page.click('#tools-table thead button[data-key="tool"]');
    expect(await column(0)).toEqual([...names].reverse());
    expect((await sortState())[0]).toBe('descending');

    await page.click('#tools-table thead button[data-key="p95_ms"]');
    const p95 = (await column(8)).map((v) => (v === '' ? null : Number(v)));
    const want = report.tools.map((t) => t.p95_ms).sort((a, b) => (a === null ? 1 : b === null ? -1 : b - a));
    expect(p95).toEqual(want);
    const state = await sortState();
    expect(state[8]).toBe('descending');
    expect(state.filter((s) => s !== 'none')).toHaveLength(1);
    expect(await page.textContent('#sort-status')).toContain('p95 ms');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('fits a phone width (tables scroll inside their region) and prints without controls', async () => {
    const { page, requests, errors } = await open(html, 375);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await paintedPixels(page, '#timeline-chart')).toBeGreaterThan(200);
    await page.screenshot({ path: join(artifacts, 'report-phone.png'), fullPage: true });
    expect(statSync(join(artifacts, 'report-phone.png')).size).toBeGreaterThan(10_000);

    await page.emulateMedia({ media: 'print' });
    expect(await page.$eval('#duration-tool', (el) => getComputedStyle(el.closest('.no-print')!).display)).toBe('none');
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.length).toBeGreaterThan(20_000);
    writeFileSync(join(artifacts, 'report.pdf'), pdf);
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('has table semantics: captions, column and row headers, labelled controls', async () => {
    const { page } = await open(html);
    // uPlot's legends are layout tables (role=presentation); every data table has its semantics.
    expect(await page.$$eval('table.u-legend', (ts) => ts.every((t) => t.getAttribute('role') === 'presentation'))).toBe(true);
    const tables = await page.$$eval('table:not(.u-legend)', (ts) =>
      ts.map((t) => ({ caption: t.querySelector('caption')?.textContent ?? '', colHeads: t.querySelectorAll('thead th[scope="col"]').length })),
    );
    expect(tables.length).toBeGreaterThanOrEqual(6);
    for (const t of tables) {
      expect(t.caption.length).toBeGreaterThan(5);
      expect(t.colHeads).toBeGreaterThan(1);
    }
    expect(await page.$$eval('#tools-table tbody th[scope="row"]', (ths) => ths.length)).toBe(report.tools.length);
    expect(await page.$eval('#duration-tool', (el) => (el as HTMLSelectElement).labels?.[0]?.textContent)).toBe('Tool');
    expect(await page.$$eval('[role="img"]', (els) => els.every((el) => (el.getAttribute('aria-label') ?? '').length > 10))).toBe(true);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.close();
  });

  it('an empty report (every event filtered out) renders without errors', async () => {
    const { page, requests, errors } = await open(emptyHtml);
    expect(await page.textContent('#total-events')).toBe('0');
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('no planted secret in the page', () => {
    for (const s of trail.secrets) expect(html.includes(s)).toBe(false);
    expect(existsSync(join(dir.path, 'report.html'))).toBe(true);
  });
});
