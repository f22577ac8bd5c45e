#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * Makes docs/img/report.png: the HTML report of the bundled example (examples/redisctl-mcp-stderr.log,
 * a raw redisctl-mcp stream) opened in headless Chromium, with every request refused. Also prints
 * the terminal summary of the same input, as README.md shows it. `npm run docs:screenshot`.
 *
 *   CHROMIUM=/path/to/chromium node scripts/report-screenshot.js [out.png]
 */
const { execFileSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, mkdirSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'audit-router');
const EXAMPLE = join(ROOT, 'examples', 'redisctl-mcp-stderr.log');
const OUT = process.argv[2] ?? join(ROOT, 'docs', 'img', 'report.png');

async function main() {
  const { chromium } = require('playwright-core');
  const tmp = mkdtempSync(join(tmpdir(), 'audit-router-screenshot-'));
  try {
    const html = join(tmp, 'report.html');
    const summary = execFileSync(process.execPath, [BIN, 'report', EXAMPLE, '--html', html], { encoding: 'utf8' });
    process.stdout.write(summary);
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
      await page.route('**/*', (route) => route.abort());
      await page.setContent(readFileSync(html, 'utf8'), { waitUntil: 'load' });
      await page.waitForFunction(() => document.documentElement.getAttribute('data-ready') === '1');
      mkdirSync(dirname(OUT), { recursive: true });
      await page.screenshot({ path: OUT, fullPage: true });
    } finally {
      await browser.close();
    }
    process.stderr.write(`wrote ${OUT}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`report-screenshot: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
