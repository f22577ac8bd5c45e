/**
 * The HTML report: one self-contained file (uPlot and its CSS inlined, the data embedded, a
 * Content-Security-Policy that forbids every request), readable without JavaScript (the tables
 * are static HTML), printable (print CSS) and usable at phone width. JavaScript adds the charts
 * (timeline, duration distribution per tool) and sorting the per-tool table by any column.
 *
 * Why uPlot: it draws time series on a canvas in 51 KB minified (22 KB gzipped); ECharts 6.1
 * is 1.1 MB minified (368 KB gzipped; its "simple" build 500 KB), so the page stays small enough
 * to attach to a ticket. docs/report.md has the measurement.
 *
 * Everything from the input is escaped for HTML; the embedded JSON escapes `<`, so no value can
 * close its script element.
 */
import { readFileSync } from 'node:fs';
import { EVENT_KINDS, type Report, type ToolRow } from './model';

let uplotAssets: { js: string; css: string } | null = null;

function assets(): { js: string; css: string } {
  if (uplotAssets === null) {
    uplotAssets = {
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return uplotAssets;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** JSON safe inside <script>: no `<` (so no `</script>`), no line separators. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const int = (n: number): string => n.toLocaleString('en-US');
const msText = (v: number | null): string => (v === null ? '–' : Number.isInteger(v) ? int(v) : v.toFixed(2));

function num(value: number | null, text: string): string {
  return `<td class="num" data-value="${value === null ? '' : String(value)}">${esc(text)}</td>`;
}

function txt(value: string): string {
  return `<td data-value="${esc(value)}">${esc(value)}</td>`;
}

interface ToolColumn {
  key: string;
  title: string;
  type: 'num' | 'text';
  cell(t: ToolRow): string;
}

const TOOL_COLUMNS: ToolColumn[] = [
  { key: 'tool', title: 'Tool', type: 'text', cell: (t) => `<th scope="row" data-value="${esc(t.tool)}">${esc(t.tool)}</th>` },
  { key: 'toolset', title: 'Toolset', type: 'text', cell: (t) => txt(t.toolset) },
  { key: 'safety', title: 'Safety', type: 'text', cell: (t) => `<td data-value="${t.safety}"><span class="safety ${t.safety}">${t.safety}</span></td>` },
  { key: 'calls', title: 'Calls', type: 'num', cell: (t) => num(t.calls, int(t.calls)) },
  { key: 'denied', title: 'Denied', type: 'num', cell: (t) => num(t.denied, int(t.denied)) },
  { key: 'errors', title: 'Errors', type: 'num', cell: (t) => num(t.errors, int(t.errors)) },
  {
    key: 'error_rate',
    title: 'Error rate',
    type: 'num',
    cell: (t) => num(t.error_rate, t.error_rate === null ? '–' : `${(t.error_rate * 100).toFixed(1)}%`),
  },
  { key: 'p50_ms', title: 'p50 ms', type: 'num', cell: (t) => pcell(t, t.p50_ms) },
  { key: 'p95_ms', title: 'p95 ms', type: 'num', cell: (t) => pcell(t, t.p95_ms) },
  { key: 'p99_ms', title: 'p99 ms', type: 'num', cell: (t) => pcell(t, t.p99_ms) },
  { key: 'max_ms', title: 'max ms', type: 'num', cell: (t) => num(t.max_ms, msText(t.max_ms)) },
];

function pcell(t: ToolRow, v: number | null): string {
  const approx = t.durations.method === 'ddsketch' && v !== null;
  const mark = approx ? '<abbr class="approx" title="estimated by DDSketch, within 1%">≈</abbr>' : '';
  return `<td class="num" data-value="${v === null ? '' : String(v)}">${mark}${esc(msText(v))}</td>`;
}

function section(id: string, title: string, body: string): string {
  return `<section aria-labelledby="${id}-h"><h2 id="${id}-h">${esc(title)}</h2>${body}</section>`;
}

function countsTable(caption: string, head: string, counts: Record<string, number>, total: number): string {
  const rows = Object.entries(counts)
    .map(([k, n]) => `<tr>${txt(k)}${num(n, int(n))}${num(null, total === 0 ? '0.0%' : `${((n / total) * 100).toFixed(1)}%`)}</tr>`)
    .join('');
  return `<table class="counts"><caption>${esc(caption)}</caption><thead><tr><th scope="col">${esc(head)}</th><th scope="col" class="num">Events</th><th scope="col" class="num">Share</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function toolsTable(report: Report): string {
  const head = TOOL_COLUMNS.map(
    (c) =>
      `<th scope="col" aria-sort="${c.key === 'calls' ? 'descending' : 'none'}" class="${c.type === 'num' ? 'num' : ''}"><button type="button" data-key="${c.key}" data-type="${c.type}">${esc(c.title)}<span class="arrow" aria-hidden="true"></span></button></th>`,
  ).join('');
  const rows = report.tools.map((t) => `<tr data-tool="${esc(t.tool)}">${TOOL_COLUMNS.map((c) => c.cell(t)).join('')}</tr>`).join('');
  return (
    `<div class="scroll" tabindex="0" role="region" aria-labelledby="tools-caption">` +
    `<table id="tools-table" class="sortable"><caption id="tools-caption">Per-tool calls, denials, errors and durations (ms, calls that ran). ` +
    `Select a column heading to sort.</caption><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`
  );
}

function denialsTable(report: Report): string {
  if (report.denials.length === 0) return '<p>No call was denied.</p>';
  const rows = report.denials
    .map((d) => `<tr><th scope="row">${esc(d.tool)}</th>${txt(d.toolset)}${num(d.count, int(d.count))}${txt(d.first_ts)}${txt(d.last_ts)}</tr>`)
    .join('');
  return (
    `<div class="scroll" tabindex="0" role="region" aria-labelledby="denials-caption"><table id="denials-table"><caption id="denials-caption">Tools the policy denied, most denied first</caption>` +
    `<thead><tr><th scope="col">Tool</th><th scope="col">Toolset</th><th scope="col" class="num">Denied</th><th scope="col">First</th><th scope="col">Last</th></tr></thead><tbody>${rows}</tbody></table></div>`
  );
}

function writesSection(report: Report): string {
  const w = report.writes;
  const summary =
    `<p><strong>${int(w.write_calls)}</strong> write calls and <strong>${int(w.destructive_calls)}</strong> destructive calls, ` +
    `as redisctl-mcp annotates its tools (<span class="source">${esc(w.classification)}</span>).</p>`;
  const unknown =
    w.unknown_calls > 0
      ? `<p class="warn">${int(w.unknown_calls)} calls of tools redisctl-mcp does not list, not classified: ${w.unknown_tools.map(esc).join(', ')}.</p>`
      : '';
  const rows = w.tools
    .map(
      (t) =>
        `<tr><th scope="row">${esc(t.tool)}</th><td><span class="safety ${t.safety}">${t.safety}</span></td>${num(t.calls, int(t.calls))}${num(t.denied, int(t.denied))}${num(t.errors, int(t.errors))}${txt(t.first_ts)}${txt(t.last_ts)}</tr>`,
    )
    .join('');
  const table =
    w.tools.length === 0
      ? '<p>No write or destructive tool was called.</p>'
      : `<div class="scroll" tabindex="0" role="region" aria-labelledby="writes-caption"><table id="writes-table"><caption id="writes-caption">Write and destructive tools called</caption>` +
        `<thead><tr><th scope="col">Tool</th><th scope="col">Safety</th><th scope="col" class="num">Calls</th><th scope="col" class="num">Denied</th><th scope="col" class="num">Errors</th><th scope="col">First</th><th scope="col">Last</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  const minutes =
    w.busiest_minutes.length === 0
      ? ''
      : `<h3>Busiest write minutes</h3><ol class="minutes">${w.busiest_minutes.map((m) => `<li><time datetime="${esc(m.minute)}">${esc(m.minute)}</time>: ${int(m.count)}</li>`).join('')}</ol>`;
  return summary + unknown + table + minutes;
}

function timelineSection(report: Report): string {
  const t = report.timeline;
  if (t.buckets.length === 0) return '<p>No events in the selected time range.</p>';
  const rows = t.buckets
    .map((b) => `<tr>${txt(b.start)}${EVENT_KINDS.map((k) => num(b[k], int(b[k]))).join('')}</tr>`)
    .join('');
  return (
    `<figure><div id="timeline-chart" class="chart" role="img" aria-label="Events per ${t.interval}, from ${esc(t.buckets[0]!.start)}, ${t.buckets.length} ${t.interval}s: invocations, denials and errors"></div>` +
    `<figcaption>Events per ${t.interval} (UTC) by event type.</figcaption></figure>` +
    `<details><summary>Timeline as a table</summary><div class="scroll" tabindex="0" role="region" aria-label="Timeline data"><table id="timeline-table"><caption>Events per ${t.interval}</caption>` +
    `<thead><tr><th scope="col">Start</th>${EVENT_KINDS.map((k) => `<th scope="col" class="num">${k}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table></div></details>`
  );
}

function durationSection(report: Report): string {
  const ran = report.tools.filter((t) => t.durations.count > 0);
  if (ran.length === 0) return '<p>No call ran, so there are no durations.</p>';
  const options = ran.map((t, i) => `<option value="${esc(t.tool)}"${i === 0 ? ' selected' : ''}>${esc(t.tool)} (${int(t.durations.count)})</option>`).join('');
  return (
    `<p class="no-print"><label for="duration-tool">Tool</label> <select id="duration-tool">${options}</select></p>` +
    `<figure><div id="duration-chart" class="chart" role="img" aria-label="Duration distribution of the selected tool"></div>` +
    `<figcaption id="duration-caption">Calls per duration bucket (ms, powers of two; exact counts).</figcaption></figure>` +
    `<details><summary>Distribution as a table</summary><div class="scroll" tabindex="0" role="region" aria-label="Duration distribution data"><table id="duration-table"><caption>Calls per duration bucket of the selected tool</caption>` +
    `<thead><tr><th scope="col">Duration (ms)</th><th scope="col" class="num">Calls</th></tr></thead><tbody></tbody></table></div></details>`
  );
}

function inputsSection(report: Report): string {
  const i = report.inputs;
  const rows = i.sources
    .map((s) => `<tr>${txt(s.path)}${txt(s.kind)}${num(s.bytes, int(s.bytes))}${num(s.lines, int(s.lines))}${num(s.events, int(s.events))}</tr>`)
    .join('');
  const notes = i.notes.length === 0 ? '' : `<ul class="notes">${i.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`;
  return (
    `<p>${int(i.lines)} lines: ${int(i.audit_events)} audit events (${int(i.filtered_out)} left out by filters), ${int(i.invalid)} failed the event schema, ` +
    `${int(i.unparseable)} unparseable, ${int(i.oversize)} oversize, ${int(i.dead_letter_records)} dead-letter records, ${int(i.other_lines)} other lines.</p>${notes}` +
    `<div class="scroll" tabindex="0" role="region" aria-labelledby="sources-caption"><table id="sources-table"><caption id="sources-caption">Sources, in the order read</caption>` +
    `<thead><tr><th scope="col">Path</th><th scope="col">Kind</th><th scope="col" class="num">Bytes</th><th scope="col" class="num">Lines</th><th scope="col" class="num">Events</th></tr></thead><tbody>${rows}</tbody></table></div>`
  );
}

const CSS = `
:root{--fg:#1b1f24;--muted:#57606a;--bg:#fff;--line:#d0d7de;--accent:#0b5cad;--warn:#8a4b00;--bad:#a40e26;--ok:#116329}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:.2em 0}h2{font-size:1.2rem;margin:1.4em 0 .4em;border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1rem}
.sub{color:var(--muted);margin:0 0 1em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:0;padding:0;list-style:none}
.card{border:1px solid var(--line);border-radius:6px;padding:10px}
.card .label{display:block;color:var(--muted);font-size:.85rem}.card .value{font-size:1.35rem;font-weight:600}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5em 0;font-variant-numeric:tabular-nums}
caption{text-align:left;color:var(--muted);padding:.3em 0;caption-side:top;position:sticky;left:0;max-width:calc(100vw - 24px);white-space:normal}
figure{margin:0 0 .5em}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;white-space:nowrap}
th.num,td.num{text-align:right}
thead th{background:#f6f8fa}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit}
th button:focus-visible,.scroll:focus-visible,select:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
th[aria-sort=ascending] .arrow::after{content:" ▲"}th[aria-sort=descending] .arrow::after{content:" ▼"}
.safety{padding:0 6px;border-radius:10px;font-size:.85em;border:1px solid var(--line)}
.safety.write{color:var(--warn);border-color:var(--warn)}.safety.destructive{color:var(--bad);border-color:var(--bad)}.safety.unknown{color:var(--muted)}
.approx{text-decoration:none;color:var(--muted);margin-right:2px}
.chart{width:100%;min-height:200px}
.status{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;border:2px solid currentColor}
.status.intact{color:var(--ok)}.status.broken{color:var(--bad)}.status.not_chained,.status.unavailable{color:var(--muted)}
.warn{color:var(--warn)}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
ol.minutes{columns:2 14em}
@media (max-width:640px){body{font-size:14px}main{padding:10px}h1{font-size:1.25rem}.cards{grid-template-columns:repeat(2,1fr)}th,td{padding:3px 5px}}
@media print{@page{margin:12mm}body{font-size:10pt}main{max-width:none;padding:0}.no-print,.arrow{display:none}
th button{cursor:auto}.scroll{overflow:visible}table{width:100%}tr,.card,figure{break-inside:avoid}h2{break-after:avoid}
details{display:block}details>summary{display:none}a{color:inherit;text-decoration:none}}
`;

/** Runs in the page: charts and sorting. Plain ES2017, no globals but uPlot. */
const SCRIPT = `
(function(){
"use strict";
var data=JSON.parse(document.getElementById("report-data").textContent);
var fmt=function(n){return n.toLocaleString("en-US")};
var charts=[];
function width(el){return Math.max(280,Math.floor(el.getBoundingClientRect().width||el.clientWidth||600))}
function timeline(){
  var el=document.getElementById("timeline-chart");var b=data.timeline.buckets;if(!el||!b.length)return;
  var step={minute:60,hour:3600,day:86400}[data.timeline.interval];
  var xs=b.map(function(x){return Date.parse(x.start)/1000});
  var raw=[b.map(function(x){return x.tool_invocation}),b.map(function(x){return x.tool_denied}),b.map(function(x){return x.tool_error})];
  // Stacked bars: each series is drawn as the sum of itself and the ones above it; legends show the raw count.
  var stack=[raw[0].map(function(v,i){return v+raw[1][i]+raw[2][i]}),raw[1].map(function(v,i){return v+raw[2][i]}),raw[2]];
  var bars=uPlot.paths.bars({size:[0.8,80]});
  var col=[["Invocations","#0b5cad"],["Denied","#c77700"],["Errors","#a40e26"]];
  var series=[{label:"Start (UTC)"}].concat(col.map(function(c,k){return{label:c[0],stroke:c[1],fill:c[1],paths:bars,points:{show:false},
    value:function(u,v,si,i){return i==null?"–":fmt(raw[k][i])}}}));
  var u=new uPlot({width:width(el),height:260,series:series,tzDate:function(ts){return uPlot.tzDate(new Date(ts*1e3),"Etc/UTC")},
    axes:[{},{label:"events per "+data.timeline.interval,size:60}],
    scales:{x:{time:true,range:[xs[0]-step*0.6,xs[xs.length-1]+step*0.6]},y:{range:function(u,min,max){return[0,Math.max(1,max)*1.05]}}}},
    [xs].concat(stack),el);
  charts.push([u,el,260]);
}
var dist=null;
function labels(h){return h.map(function(x,i){return i===0?"0":(i===1?"1":(h[i-1].le_ms+1)+"–"+x.le_ms)})}
function duration(){
  var sel=document.getElementById("duration-tool");var el=document.getElementById("duration-chart");if(!sel||!el)return;
  var tool=null;for(var i=0;i<data.tools.length;i++)if(data.tools[i].tool===sel.value)tool=data.tools[i];
  if(!tool)return;var h=tool.durations.histogram;var names=labels(h);
  var xs=h.map(function(_,i){return i});var ys=h.map(function(x){return x.count});
  var body=document.querySelector("#duration-table tbody");
  body.innerHTML="";h.forEach(function(x,i){var tr=document.createElement("tr");var a=document.createElement("td");a.textContent=names[i];
    var c=document.createElement("td");c.className="num";c.textContent=fmt(x.count);tr.appendChild(a);tr.appendChild(c);body.appendChild(tr)});
  var p=tool.durations;el.setAttribute("aria-label","Duration distribution of "+tool.tool+": "+fmt(p.count)+" calls, p50 "+p.p50_ms+" ms, p95 "+p.p95_ms+" ms, p99 "+p.p99_ms+" ms, max "+p.max_ms+" ms");
  document.getElementById("duration-caption").textContent="Calls of "+tool.tool+" per duration bucket (ms, powers of two; exact counts). p50 "+p.p50_ms+", p95 "+p.p95_ms+", p99 "+p.p99_ms+", max "+p.max_ms+" ms"+(p.method==="ddsketch"?" (percentiles within 1%)":"")+".";
  if(dist){dist[0].destroy();charts.splice(charts.indexOf(dist),1);dist=null}
  var u=new uPlot({width:width(el),height:220,
    series:[{label:"Duration (ms)",value:function(u,v){return v==null?"":names[v]}},{label:"Calls",stroke:"#0b5cad",fill:"rgba(11,92,173,0.35)",paths:uPlot.paths.bars({size:[0.8,60]}),points:{show:false}}],
    scales:{x:{time:false,range:[-0.5,h.length-0.5]}},
    axes:[{splits:function(){return xs},values:function(u,s){return s.map(function(i){return names[i]||""})},label:"duration, ms"},{label:"calls",size:60}]},
    [xs,ys],el);
  dist=[u,el,220];charts.push(dist);
}
function sorter(){
  var table=document.getElementById("tools-table");if(!table)return;var live=document.getElementById("sort-status");
  var heads=table.querySelectorAll("thead th");
  heads.forEach(function(th,col){var btn=th.querySelector("button");if(!btn)return;btn.addEventListener("click",function(){
    var num=btn.getAttribute("data-type")==="num";var cur=th.getAttribute("aria-sort");
    var dir=cur==="none"?(num?"descending":"ascending"):(cur==="ascending"?"descending":"ascending");
    heads.forEach(function(h){h.setAttribute("aria-sort","none")});th.setAttribute("aria-sort",dir);
    var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
    var key=function(r){var v=r.cells[col].getAttribute("data-value");if(!num)return v;return v===""?null:Number(v)};
    rows.sort(function(a,b){var x=key(a),y=key(b);var s;
      if(x===null||y===null)s=(x===null?1:0)-(y===null?1:0);else s=(x<y?-1:x>y?1:0)*(dir==="ascending"?1:-1);
      if(s===0){var ta=a.getAttribute("data-tool"),tb=b.getAttribute("data-tool");s=ta<tb?-1:ta>tb?1:0}return s});
    rows.forEach(function(r){body.appendChild(r)});
    if(live)live.textContent="Tools sorted by "+btn.textContent+", "+dir+".";
  })});
}
// uPlot's legend is a layout table: the same data is in the captioned tables below each chart.
function legends(){document.querySelectorAll("table.u-legend").forEach(function(t){t.setAttribute("role","presentation")})}
function resize(){charts.forEach(function(c){c[0].setSize({width:width(c[1]),height:c[2]})})}
var t=null;window.addEventListener("resize",function(){clearTimeout(t);t=setTimeout(resize,100)});
window.addEventListener("beforeprint",resize);
timeline();duration();sorter();legends();
var sel=document.getElementById("duration-tool");if(sel)sel.addEventListener("change",function(){duration();legends()});
document.documentElement.setAttribute("data-ready","1");
})();
`;

export function renderHtml(report: Report): string {
  const { js, css } = assets();
  const t = report.totals;
  const span = t.first_ts === null ? 'no events' : `${t.first_ts} – ${t.last_ts}`;
  const card = (label: string, value: string, id: string): string =>
    `<li class="card"><span class="label" id="${id}-l">${esc(label)}</span><span class="value" aria-labelledby="${id}-l" id="${id}">${esc(value)}</span></li>`;
  const cards =
    `<ul class="cards" aria-label="Totals">` +
    card('Events', int(t.events), 'total-events') +
    card('Invocations', int(report.by_event.tool_invocation), 'total-invocations') +
    card('Denied', int(report.by_event.tool_denied), 'total-denied') +
    card('Errors', int(report.by_event.tool_error), 'total-errors') +
    card('Tools', int(t.tools), 'total-tools') +
    card('Write / destructive calls', `${int(report.writes.write_calls)} / ${int(report.writes.destructive_calls)}`, 'total-writes') +
    `</ul>`;
  const chain = report.chain;
  const chainLabel = { not_chained: 'not chained', intact: 'verified intact', broken: 'broken', unavailable: 'chained, not verified' }[chain.status];
  const chainBody =
    `<p><span class="status ${chain.status}" id="chain-status">${esc(chainLabel)}</span> ${esc(chain.detail)}</p>` +
    (chain.status === 'broken' ? `<p>First break at <code>${esc(chain.file)}:${chain.line}</code>.</p>` : '');
  const redaction = `<p><strong>${int(report.redaction.masked_values)}</strong> masked values in the events. ${esc(report.redaction.note.charAt(0).toUpperCase() + report.redaction.note.slice(1))}.</p>`;
  const filters: string[] = [];
  if (report.filters.since) filters.push(`since ${report.filters.since}`);
  if (report.filters.until) filters.push(`until ${report.filters.until}`);
  if (report.filters.tools.length > 0) filters.push(`tools ${report.filters.tools.join(', ')}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'">
<meta name="referrer" content="no-referrer">
<title>audit-router report: ${esc(int(t.events))} events, ${esc(span)}</title>
<style>${css}</style>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>Audit trail report</h1>
<p class="sub">${esc(int(t.events))} events, ${esc(span)}${filters.length > 0 ? ` (${esc(filters.join('; '))})` : ''}. Generated ${esc(report.generated_at)} by audit-router.</p>
</header>
${cards}
${section('chain', 'Chain status', chainBody)}
${section('timeline', 'Timeline', timelineSection(report))}
${section('tools', 'Tools', `<p id="sort-status" class="sr-only" aria-live="polite"></p>${toolsTable(report)}`)}
${section('durations', 'Duration distribution per tool', durationSection(report))}
${section('denials', 'Denials: who tried what they may not', denialsTable(report))}
${section('writes', 'Write and destructive activity', writesSection(report))}
${section('breakdown', 'Events, toolsets and results', countsTable('Events by type', 'Event', report.by_event, t.events) + countsTable('Events by toolset', 'Toolset', report.by_toolset, t.events) + countsTable('Events by result', 'Result', report.by_result, t.events))}
${section('redaction', 'Redaction', redaction)}
${section('inputs', 'Inputs', inputsSection(report))}
</main>
<script type="application/json" id="report-data">${scriptJson(report)}</script>
<script>${js}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
