// The deployment files that cannot run here (no Docker engine): docker-compose.yml is valid
// with the example environment, and the Grafana dashboard asks only for metric families that
// roomcast exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../lib/server.mjs';

const run = promisify(execFile);
const deploy = path.join(repoRoot, 'deploy');

test('docker-compose config accepts the compose file with the example environment', async () => {
  const { stdout } = await run('docker-compose', ['--env-file', path.join(deploy, '.env.example'),
    '-f', path.join(deploy, 'docker-compose.yml'), 'config'], { cwd: deploy });
  for (const service of ['comet', 'logic', 'job', 'nginx', 'prometheus', 'grafana'])
    assert.match(stdout, new RegExp(`^  ${service}:$`, 'm'), service);
  assert.match(stdout, /ROOMCAST_METRICS_TOKEN: change-me-three/);
});

test('the Grafana dashboard uses only families roomcast exports', () => {
  const dashboard = JSON.parse(readFileSync(path.join(deploy, 'grafana', 'roomcast-dashboard.json'), 'utf8'));
  const exported = new Set(['roomcast_build_info', 'roomcast_connections', 'roomcast_presence_users', 'roomcast_presence_rooms',
    'roomcast_messages_accepted_total', 'roomcast_deliveries_total', 'roomcast_delivery_latency_seconds',
    'roomcast_closes_total', 'roomcast_rate_limited_total', 'roomcast_queue_lag', 'roomcast_kafka_errors_total',
    'roomcast_pool_wait_seconds', 'roomcast_grpc_calls_total']);
  // The C++ side registers each of these names (src/common/metrics.cc, src/ops/node_ops.cc).
  const sources = ['src/common/metrics.cc', 'src/ops/node_ops.cc']
    .map((f) => readFileSync(path.join(repoRoot, f), 'utf8')).join('\n');
  for (const name of exported) assert.ok(sources.includes(`"${name}"`), `${name} is registered`);
  const used = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))
    .flatMap((expr) => expr.match(/roomcast_[a-z_]+/g) ?? [])
    .map((name) => name.replace(/_(bucket|sum|count)$/, ''));
  assert.ok(used.length >= 10);
  for (const name of used) assert.ok(exported.has(name), `dashboard uses unknown ${name}`);
});
