import { describe, expect, it } from 'vitest';
import { workerMetricsHost, workerMetricsPort } from './metrics-server';

describe('worker /metrics listener', () => {
  it('binds loopback without ADMIN_TOKEN, every interface with it, and WORKER_METRICS_HOST wins', () => {
    expect(workerMetricsHost({ WORKER_METRICS_HOST: undefined, ADMIN_TOKEN: undefined })).toBe('127.0.0.1');
    expect(workerMetricsHost({ WORKER_METRICS_HOST: undefined, ADMIN_TOKEN: 'Zx8kP2q9Lm4Rt7Vb' })).toBe('0.0.0.0');
    expect(workerMetricsHost({ WORKER_METRICS_HOST: '10.1.2.3', ADMIN_TOKEN: undefined })).toBe('10.1.2.3');
  });

  it('process N of `pnpm start --workers` serves on port + N - 1; 0 disables', () => {
    expect(workerMetricsPort({ WORKER_METRICS_PORT: 9464, WORKER_INDEX: 3 })).toBe(9466);
    expect(workerMetricsPort({ WORKER_METRICS_PORT: 0, WORKER_INDEX: 1 })).toBeUndefined();
  });
});
