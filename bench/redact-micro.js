#!/usr/bin/env node
'use strict';
/**
 * Micro-benchmark of the redaction engine (build first: npx tsc -p tsconfig.json).
 *   node bench/redact-micro.js [events]
 * Prints events per CPU-second for redactEvent alone and for parse + redactEvent + stringify,
 * over a mix of typical redisctl-mcp audit events.
 */
const path = require('node:path');
const { Redactor } = require(path.join(__dirname, '..', 'dist', 'src', 'transforms', 'redact', 'index.js'));

const total = Number(process.argv[2] || 1_000_000);

function event(fields) {
  return JSON.stringify({
    timestamp: '2026-03-05T10:30:00.123456Z',
    level: 'INFO',
    fields: { event: 'tool_invocation', toolset: 'enterprise', result: 'success', duration_ms: 45, ...fields },
    target: 'audit',
  });
}

const lines = [
  event({ tool: 'list_enterprise_databases' }),
  event({
    tool: 'create_enterprise_database',
    arguments: JSON.stringify({ name: 'cache-db', memory_size: 104857600, password: '[REDACTED]' }),
  }),
  event({
    tool: 'get_enterprise_database',
    arguments: JSON.stringify({ uid: 3, profile: 'prod' }),
  }),
  event({
    tool: 'redis_command',
    toolset: 'database',
    arguments: JSON.stringify({ command: 'GET', args: ['user:1'] }),
  }),
  event({
    tool: 'create_cloud_subscription',
    toolset: 'cloud',
    arguments: JSON.stringify({
      name: 'sub',
      cloud_providers: [{ provider: 'AWS', regions: [{ region: 'us-east-1', networking: { deployment_cidr: '10.0.0.0/24' } }] }],
      databases: [{ name: 'db1', dataset_size_in_gb: 1, password: 'hunter2' }],
    }),
  }),
];

const redactor = new Redactor();
const records = [];
for (let i = 0; i < 10_000; i++) records.push(JSON.parse(lines[i % lines.length]));

function cpuSeconds(fn) {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

// Warm up.
for (let i = 0; i < 50_000; i++) redactor.redactEvent(JSON.parse(lines[i % lines.length]));

const redactOnly = cpuSeconds(() => {
  for (let i = 0; i < total; i++) redactor.redactEvent(records[i % records.length]);
});

let bytes = 0;
const pipeline = cpuSeconds(() => {
  for (let i = 0; i < total; i++) {
    const out = JSON.stringify(redactor.redactEvent(JSON.parse(lines[i % lines.length])));
    bytes += out.length;
  }
});

const baseline = cpuSeconds(() => {
  for (let i = 0; i < total; i++) bytes += JSON.stringify(JSON.parse(lines[i % lines.length])).length;
});

const rate = (s) => Math.round(total / s).toLocaleString('en-US');
console.log(`redactEvent only:                  ${rate(redactOnly)} events/CPU-s`);
console.log(`parse + redactEvent + stringify:   ${rate(pipeline)} events/CPU-s`);
console.log(`parse + stringify (no redaction):  ${rate(baseline)} events/CPU-s`);
if (bytes === 0) console.log('');
