// Asks /healthz over and over on fresh connections, as the kubelet's probe does, and records how long each answer
// took: the longest is how long the receiver's event loop was unavailable to other clients.
import { request } from 'node:http';

export interface HealthProber {
  /** Stops probing; resolves with every probe's time to answer, fastest first. */
  stop(): Promise<number[]>;
}

/** Probes `url` + healthz every `intervalMs` until stopped; a probe that fails or answers non-200 rejects `stop`. */
export function startHealthProber(url: string, intervalMs = 10): HealthProber {
  let running = true;
  const latencies: number[] = [];
  const probe = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const outgoing = request(new URL('/healthz', url), { agent: false }, (response) => {
        response.resume();
        response.on('end', () => {
          if (response.statusCode !== 200) return reject(new Error(`/healthz answered ${response.statusCode}`));
          latencies.push(performance.now() - started);
          resolve();
        });
      });
      outgoing.setTimeout(120_000, () => outgoing.destroy(new Error('/healthz did not answer within 120 s')));
      outgoing.on('error', reject);
      outgoing.end();
    });
  const loop = (async () => {
    while (running) {
      await probe();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies.sort((a, b) => a - b);
    },
  };
}
