// Reads the presence topic (roomcast.presence) of a local cluster with the example consumer,
// roomcast-presence-consumer (built next to roomcast): every record it printed, in order, with
// its verdict by the epoch rule ("applied": false for a stale record).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { binary } from './server.mjs';

export const consumerBinary =
  process.env.PRESENCE_CONSUMER || path.join(path.dirname(binary), 'roomcast-presence-consumer');

export class PresenceTopicReader {
  constructor(cluster) {
    const brokers = readFileSync(path.join(cluster.dir, 'kafka', 'bootstrap'), 'utf8').trim();
    this.records = [];
    this.proc = spawn(consumerBinary, ['--brokers', brokers], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    let buf = '';
    this.proc.stdout.on('data', (d) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        this.records.push({ ...JSON.parse(buf.slice(0, nl)), receivedAt: Date.now() });
        buf = buf.slice(nl + 1);
      }
    });
  }
  // The records of one user, in the order read.
  of(userId) { return this.records.filter((r) => r.userId === userId); }
  // Resolves with the first record of `userId` at index >= `from` (of that user's records)
  // matching `pred`; rejects after `timeout` ms.
  async next(userId, from, pred = () => true, timeout = 10000) {
    const end = Date.now() + timeout;
    for (;;) {
      const hit = this.of(userId).slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > end) {
        throw new Error(`no presence record for user ${userId} in ${timeout} ms: ` +
          `${JSON.stringify(this.of(userId))} ${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  stop() { this.proc.kill('SIGTERM'); }
}
