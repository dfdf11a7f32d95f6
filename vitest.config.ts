import { defineConfig } from 'vitest/config';

// Integration tests start real processes (KMS, PyKMIP, QEMU, etcd): generous timeouts,
// never timing assertions. Two workers match the two cores CI has.
export const config = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
export default config;
