// Starts a real `roomcast standalone` process on a free loopback port with a fresh data dir.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const binary = process.env.ROOMCAST_BIN || path.join(repoRoot, 'build', 'roomcast');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// Starts the server; `extraArgs` are appended to the command line, `env` merged in.
// Resolves once the server accepts TCP connections. Returns {url, port, dataDir, stop, restart}.
// The test profile: every suite makes many accounts and connections from 127.0.0.1, so the
// per-address limits are lifted (ROOMCAST_LIMITS_PER_ADDRESS=0) unless `env` sets them.
export async function startServer({ extraArgs = [], env = {}, dataDir, port } = {}) {
  dataDir = dataDir || mkdtempSync(path.join(tmpdir(), 'roomcast-test-'));
  port = port || (await freePort());
  const args = ['standalone', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...extraArgs];
  const proc = spawn(binary, args, {
    env: { ...process.env, ROOMCAST_PASSWORD_COST: 'min', ROOMCAST_LIMITS_PER_ADDRESS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`roomcast exited early:\n${output}`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`roomcast did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const server = {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/api/ws`,
    port,
    dataDir,
    proc,
    output: () => output,
    // Graceful stop (SIGTERM); resolves with the exit status.
    async stop({ keepData = false, signal = 'SIGTERM' } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const status = await exited;
      clearTimeout(timer);
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
      return status;
    },
    // Stops and starts again on the same port and data dir.
    async restart(opts = {}) {
      await server.stop({ keepData: true, ...opts });
      return startServer({ extraArgs, env, dataDir, port });
    },
  };
  return server;
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

// The server a suite runs against: an already-running roomcast (standalone or the cluster's
// entry point) when ROOMCAST_URL is set, else a fresh standalone started here.
export async function suiteServer(opts = {}) {
  const external = process.env.ROOMCAST_URL;
  if (!external) return startServer(opts);
  const url = external.replace(/\/$/, '');
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws') + '/api/ws',
    external: true,
    adminToken: process.env.ROOMCAST_ADMIN_TOKEN,
    async stop() {},
  };
}
