// Starts deploy/local-cluster.sh in a temp folder on free ports and offers the fault injections
// the cluster tests need (kill a node, Redis FLUSHALL, a Kafka broker down, MariaDB restart).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, repoRoot, binary } from '../lib/server.mjs';

const run = promisify(execFile);
const script = path.join(repoRoot, 'deploy', 'local-cluster.sh');

export async function startCluster({ comets = 2, logics = 2, jobs = 2, env = {} } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-cluster-'));
  const port = await freePort();
  const baseEnv = {
    ...process.env,
    CLUSTER_DIR: dir,
    PORT: String(port),
    COMETS: String(comets),
    LOGICS: String(logics),
    JOBS: String(jobs),
    ROOMCAST_BIN: binary,
    PASSWORD_COST: 'min',
    LIMITS_PER_ADDRESS: '0',  // the test profile: every client is 127.0.0.1
    ...env,
  };
  const cluster = {
    dir,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/api/ws`,
    env: baseEnv,
    startSeconds: 0,
    async sh(cmd, extraEnv = {}) {
      const { stdout } = await run(script, [cmd], { env: { ...baseEnv, ...extraEnv }, timeout: 180000 });
      return stdout;
    },
    async up(extraEnv = {}) {
      const t0 = Date.now();
      const out = await cluster.sh('up', extraEnv);
      cluster.startSeconds = (Date.now() - t0) / 1000;
      // An `up` that changed the upstreams reloaded nginx: its old workers close their idle
      // keep-alive connections as they quit, and a request that fetch sends on one of those in
      // that instant fails with "other side closed". Let the closes arrive (a browser would
      // retry on a fresh connection; fetch does not).
      await new Promise((r) => setTimeout(r, 500));
      return out;
    },
    async down() {
      await cluster.sh('down').catch((e) => console.error('cluster down failed:', e.message));
      if (!process.env.KEEP_CLUSTER) rmSync(dir, { recursive: true, force: true });
    },
    // [{role, id, pid, address}]
    async status() {
      const out = await cluster.sh('status');
      return out.trim().split('\n').map((l) => {
        const [role, id, pid, address] = l.split(' ');
        return { role, id, pid, address };
      });
    },
    async node(id) { return (await cluster.status()).find((n) => n.id === id); },
    // Direct WebSocket URL of one comet (bypassing nginx) to pin a connection to it.
    async cometWs(id) { return `ws://${(await cluster.node(id)).address}/api/ws`; },
    async cometUrl(id) { return `http://${(await cluster.node(id)).address}`; },
    async kill(id, signal = 'SIGKILL') {
      const n = await cluster.node(id);
      process.kill(Number(n.pid), signal);
      for (let i = 0; i < 100; i++) {
        try { process.kill(Number(n.pid), 0); } catch { return; }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    adminToken() { return readFileSync(path.join(dir, 'secrets', 'admin_token'), 'utf8').trim(); },
    redisPort() { return Number(readFileSync(path.join(dir, 'ports', 'redis'), 'utf8')); },
    secret(name) { return readFileSync(path.join(dir, 'secrets', name), 'utf8').trim(); },
    // redis-cli as the cluster's ACL user (the default user is off).
    async redis(...args) {
      const { stdout } = await run(
        'redis-cli', ['--no-auth-warning', '--user', 'roomcast', '-p', String(cluster.redisPort()), ...args],
        { env: { ...process.env, REDISCLI_AUTH: cluster.secret('redis_password') } });
      return stdout.trim();
    },
    // One line to the Kafka mock's control port ("down 1", "up 1", ...); resolves with the answer.
    kafka(command) {
      const port = Number(readFileSync(path.join(dir, 'ports', 'kafka_control'), 'utf8'));
      return new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => s.write(command + '\n'));
        let data = '';
        s.on('data', (d) => {
          data += d;
          if (data.includes('\n')) { s.end(); resolve(data.trim()); }
        });
        s.on('error', reject);
      });
    },
    mysqlSocket() { return path.join(dir, 'mysql', 'mysqld.sock'); },
    async mysqlStop() {
      const pid = Number(readFileSync(path.join(dir, 'mysql', 'mysqld.pid'), 'utf8'));
      await run('mariadb-admin', ['--no-defaults', `--socket=${cluster.mysqlSocket()}`, '-uroot', 'shutdown']);
      for (let i = 0; i < 400; i++) {
        try { process.kill(pid, 0); } catch { return; }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    log(id) {
      const f = path.join(dir, 'nodes', id, 'log');
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
  };
  try {
    await cluster.up();
  } catch (e) {
    await cluster.down();
    throw e;
  }
  return cluster;
}
