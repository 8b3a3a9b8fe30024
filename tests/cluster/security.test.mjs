// The cluster's internal ports refuse whoever lacks its credentials: gRPC needs a certificate
// signed by the cluster's CA (mutual TLS) and presents one for roomcast.internal; Redis needs
// the `roomcast` ACL user; MariaDB its password; and a node without secrets will not start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { startCluster } from './cluster.mjs';
import { binary } from '../lib/server.mjs';

const run = promisify(execFile);
let cluster;
before(async () => { cluster = await startCluster({ comets: 1, logics: 1, jobs: 1 }); });
after(async () => { if (cluster) await cluster.down(); });

const tls = (name) => readFileSync(path.join(cluster.dir, 'secrets', 'tls', name));

// The gRPC addresses of the registered nodes ("rc:node:<role>:<id>" = "grpc\tpublic\tload").
async function grpcAddresses() {
  const keys = (await cluster.redis('--raw', 'keys', 'rc:node:*')).split('\n').filter(Boolean);
  const out = [];
  for (const k of keys) {
    if (k.startsWith('rc:node:job:')) continue;  // jobs serve no gRPC
    const v = await cluster.redis('--raw', 'get', k);
    out.push({ node: k, address: v.split('\t')[0] });
  }
  return out;
}

// One unary gRPC call (an empty Rooms request) over HTTP/2; resolves with the response headers
// or rejects with the connection's or stream's error.
function grpcCall(url, options) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, options);
    const timer = setTimeout(() => { session.destroy(); reject(new Error('timeout')); }, 5000);
    session.on('error', (e) => { clearTimeout(timer); reject(e); });
    session.on('close', () => { clearTimeout(timer); reject(new Error('connection closed')); });
    const req = session.request({ ':method': 'POST', ':path': '/roomcast.Logic/Rooms', 'content-type': 'application/grpc', te: 'trailers' });
    req.on('response', (headers) => { clearTimeout(timer); session.close(); resolve(headers); });
    req.on('error', (e) => { clearTimeout(timer); session.destroy(); reject(e); });
    req.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

test('gRPC ports refuse plaintext and clients without the cluster certificate', async () => {
  const nodes = await grpcAddresses();
  assert.ok(nodes.length >= 2, `registered nodes: ${JSON.stringify(nodes)}`);
  for (const { node, address } of nodes) {
    const [host, port] = address.split(':');
    await assert.rejects(grpcCall(`http://${address}`), `${node}: plaintext h2c must be refused`);
    await assert.rejects(
      grpcCall(`https://${address}`, { ca: tls('ca.pem'), servername: 'roomcast.internal' }),
      `${node}: TLS without a client certificate must be refused`);
    // The same call with the cluster's certificate is answered: the refusals above are about
    // credentials, not an unreachable port.
    const headers = await grpcCall(`https://${host}:${port}`, {
      ca: tls('ca.pem'), cert: tls('node.pem'), key: tls('node.key'), servername: 'roomcast.internal',
    });
    assert.equal(headers[':status'], 200, `${node} answers a peer with the certificate`);
  }
});

test('Redis refuses clients without the ACL user, MariaDB without the password', async () => {
  const { stdout } = await run('redis-cli', ['-p', String(cluster.redisPort()), 'ping']);
  assert.match(stdout, /NOAUTH|NOPERM/);
  assert.equal(await cluster.redis('ping'), 'PONG');
  const mysqlPort = readFileSync(path.join(cluster.dir, 'ports', 'mysql'), 'utf8').trim();
  await assert.rejects(run('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${mysqlPort}`, '-uroomcast', '-e', 'select 1']));
  await assert.rejects(run('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${mysqlPort}`, '-uroot', '-e', 'select 1']));
});

test('a node without its secrets refuses to start unless told it is insecure', async () => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ROOMCAST_')));
  const attempt = (env) => run(binary, ['logic'], { env: { ...clean, ...env }, timeout: 10000 });
  await assert.rejects(attempt({}), (e) => /Redis password/.test(e.stderr + e.stdout));
  await assert.rejects(attempt({ ROOMCAST_REDIS_PASSWORD: 'x' }),
    (e) => /internal_tls_dir/.test(e.stderr + e.stdout));
  // With the explicit flag it gets past the check (and then fails on the missing Redis).
  await assert.rejects(attempt({ ROOMCAST_INSECURE_INTERNAL: '1', ROOMCAST_REDIS: '127.0.0.1:1' }),
    (e) => !/Redis password|internal_tls_dir/.test(e.stderr + e.stdout));
});
