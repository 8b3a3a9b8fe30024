// Presence cost (issue 13): a room of M members (the default room "beast": everyone is in it)
// where W members watch while J others connect over S seconds. Reports, per watcher, the
// serverPresence events and bytes received for the room, and the server's CPU during the
// connect phase. Run: node bench/presence-cost.mjs [M] [W] [S] [room_limit]
// (ROOMCAST_BIN selects the binary; the server is a fresh standalone with min password cost).
import { readFileSync } from 'node:fs';
import { startServer } from '../tests/lib/server.mjs';
import { api, Conn, unique, sleep } from '../tests/lib/client.mjs';

const [M = 1000, W = 200, S = 20, LIMIT = 1000] = process.argv.slice(2).map(Number);
const server = await startServer({
  extraArgs: ['--presence-room-limit', String(LIMIT), '--per-address', '0'],
});
const cpu = () => {
  const f = readFileSync(`/proc/${server.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, seconds (USER_HZ 100)
};
try {
  const cookies = [];
  for (let i = 0; i < M; i++) {
    const name = `p${i}-${unique()}`;
    const res = await api(server.url, '/api/create-account',
      { body: { username: name, email: `${name}@example.com`, password: 'correct horse battery' } });
    if (res.status >= 300) throw new Error(`create-account ${res.status} ${res.text}`);
    cookies.push(res.headers.get('set-cookie').split(';')[0]);
  }
  const open = async (cookie) => {
    const c = await Conn.open(server.wsUrl, { cookie });
    await c.next('hello', () => true, 30000);
    return c;
  };
  const watchers = [];
  for (const cookie of cookies.slice(0, W)) watchers.push(await open(cookie));
  await sleep(6000); // the watchers' own arrival settles
  const bytes = new Map(watchers.map((w) => [w, 0]));
  const counts = new Map(watchers.map((w) => [w, 0]));
  for (const w of watchers) {
    w.ws.on('message', (d) => {
      const text = d.toString();
      if (text.includes('"serverPresence"') && text.includes('"roomId":"beast"')) {
        counts.set(w, counts.get(w) + 1);
        bytes.set(w, bytes.get(w) + text.length);
      }
    });
  }
  const joiners = cookies.slice(W);
  const cpu0 = cpu();
  const t0 = Date.now();
  const gap = (S * 1000) / joiners.length;
  const conns = [];
  for (let i = 0; i < joiners.length; i++) {
    conns.push(open(joiners[i]));
    const wait = t0 + (i + 1) * gap - Date.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(conns);
  await sleep(6000); // the last window of each mode goes out
  const cpuUsed = cpu() - cpu0;
  const n = [...counts.values()];
  const b = [...bytes.values()];
  const avg = (xs) => xs.reduce((x, y) => x + y, 0) / xs.length;
  console.log(JSON.stringify({
    members: M, watchers: W, joined: joiners.length, seconds: S, room_limit: LIMIT,
    events_per_watcher: { avg: avg(n), max: Math.max(...n) },
    bytes_per_watcher: { avg: Math.round(avg(b)), max: Math.max(...b) },
    server_cpu_seconds_connect_phase: Number(cpuUsed.toFixed(2)),
    cpu_ms_per_join: Number(((cpuUsed * 1000) / joiners.length).toFixed(2)),
  }));
} finally {
  await server.stop();
}
