import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

import { clusterMetrics } from '../src/index.js';

describe('clusterMetrics (node:cluster workers)', function () {
  this.timeout(20_000);
  const workers: Worker[] = [];

  after(() => {
    for (const worker of workers) worker.kill();
  });

  it("sums every worker's counters into one page", async () => {
    cluster.setupPrimary({
      exec: fileURLToPath(new URL('fixtures/metrics-worker.ts', import.meta.url)),
      execArgv: ['--import', 'tsx'],
      silent: true,
    });
    for (let i = 0; i < 2; i++) {
      const worker = cluster.fork();
      workers.push(worker);
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => {
          resolve();
        });
        worker.once('exit', (code) => {
          reject(new Error(`worker exited with ${String(code)}`));
        });
      });
    }
    const { body, contentType } = await clusterMetrics();
    expect(contentType).to.match(/^text\/plain/);
    expect(body).to.include('torsion_connections_open{plugin="echo"} 6');
    expect(body).to.include('torsion_connections_accepted_total{plugin="echo"} 20');
  });
});
