// Summarises one bench/scale.sh run: connect time, RSS per idle connection per comet and the
// broadcast's delivery, from the client's JSON lines and `local-cluster.sh status`.
//   node bench/scale-report.mjs --results bench/out/scale.jsonl --label L --status-file F [--md bench/RESULTS.md]
// With --md, the section between the "scale-100k" markers of that file is replaced (or added at
// the end); bench/report.mjs keeps that section when it regenerates the rest.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const rows = readFileSync(args.results, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => {
    try { return JSON.parse(l); } catch { return null; }
  })
  .filter((r) => r && r.label === args.label);
const connect = rows.find((r) => r.step === 'connect');
const steps = rows.filter((r) => r.step === 'rate');
if (!connect) {
  console.error(`scale-report: no connect line for run ${args.label}`);
  process.exit(1);
}

// "comet comet-1 1234 127.0.0.1:30756" -> pid -> {id, port}
const comets = new Map();
for (const line of readFileSync(args['status-file'], 'utf8').split('\n')) {
  const [role, id, pid, addr] = line.trim().split(/\s+/);
  if (role === 'comet') comets.set(Number(pid), { id, port: Number(addr.split(':').pop()) });
}
const readyOn = new Map((connect.ready_by_port || []).map(([port, n]) => [port, n]));
const perComet = (connect.server_rss_kib_each || [])
  .filter(([pid]) => comets.has(pid))
  .map(([pid, before, after]) => {
    const c = comets.get(pid);
    const conns = readyOn.get(c.port) || 0;
    return { ...c, pid, before, after, conns, perConn: conns ? (after - before) / conns : NaN };
  });

const f = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
const big = (v) => (v === undefined || v === null ? '–' : Math.round(v).toLocaleString('en-US'));
const mib = (kib) => f(kib / 1024, 1);
const loads = rows.map((r) => r.loadavg).filter((v) => v >= 0);

let md = `## 100k connections, 6 comets\n\n`;
md += `\`make bench-100k\` (\`bench/scale.sh\`), run \`${args.label}\` on ${os.cpus().length} cores, `;
md += `1-minute load average ${f(Math.min(...loads))} to ${f(Math.max(...loads))} during the run `;
md += `(other work shared the machine). A fresh \`COMETS=${perComet.length} deploy/local-cluster.sh up\` `;
md += `(2 logics, 2 jobs, cost=min hashing); accounts through nginx, WebSockets straight to the comets' `;
md += `ports (round robin); all connections are members of the default room \`beast\`, into which the `;
md += `push API publishes.\n\n`;
md += `| phase | count | time | rate |\n|---|---:|---:|---:|\n`;
md += `| accounts (\`POST /api/create-account\`) | ${big(connect.accounts)} | ${f(connect.accounts_s)} s | ${big(connect.account_rate)}/s |\n`;
md += `| WebSockets authenticated, \`hello\` received | ${big(connect.ready)} of ${big(connect.conns)} (${connect.failed} failed) | `;
md += `${f(connect.connect_s)} s | ${big(connect.connect_rate)}/s |\n\n`;
md += `Server CPU (comets, logics, jobs, Redis, MariaDB): ${f(connect.server_cpu_us_per_connect / 1000, 2)} ms per connect, `;
md += `${f(connect.server_cpu_us_per_account / 1000, 2)} ms per account; idle afterwards ${f(connect.idle_cpu_pct)} % of a core.\n\n`;
md += `| comet | idle connections | VmRSS before | VmRSS after | RSS per idle connection |\n|---|---:|---:|---:|---:|\n`;
for (const c of perComet)
  md += `| ${c.id} | ${big(c.conns)} | ${mib(c.before)} MiB | ${mib(c.after)} MiB | ${f(c.perConn, 2)} KiB |\n`;
const tot = perComet.reduce((a, c) => ({ conns: a.conns + c.conns, grow: a.grow + c.after - c.before }), { conns: 0, grow: 0 });
md += `| all comets | ${big(tot.conns)} | | | ${f(tot.grow / tot.conns, 2)} KiB |\n\n`;
md += `| broadcast | messages | deliveries expected | delivered | lost | dup | p50 | p99 | last connection had it after |\n`;
md += `|---|---:|---:|---:|---:|---:|---:|---:|---:|\n`;
steps.forEach((s, i) => {
  md += `| ${i === 0 ? 'one message to all' : `${s.accepted} more, ${s.rate}/s`} | ${s.accepted} | ${big(s.expected)} | ${big(s.delivered)} | `;
  md += `${s.lost} | ${s.dup} | ${f(s.p50_ms, 0)} ms | ${f(s.p99_ms, 0)} ms | ${f(s.max_ms, 0)} ms |\n`;
});
md += `\nRSS before is after the accounts were made (no connection yet); after is once all are connected and `;
md += `idle. Latency runs from the publish request's scheduled time to the kernel's arrival time at the `;
md += `client; the last column is the slowest connection's.\n`;

process.stdout.write(md);
if (args.md) {
  const begin = '<!-- scale-100k -->', end = '<!-- /scale-100k -->';
  const block = `${begin}\n${md}${end}\n`;
  const old = existsSync(args.md) ? readFileSync(args.md, 'utf8') : '';
  const at = old.indexOf(begin), to = old.indexOf(end);
  const next = at >= 0 && to > at ? old.slice(0, at) + block + old.slice(to + end.length + 1) : `${old.trimEnd()}\n\n${block}`;
  writeFileSync(args.md, next);
}
