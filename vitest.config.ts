import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'protocol/src/**/*.test.ts',
            'sfu/src/**/*.test.ts',
            'server/src/**/*.test.ts',
            'client-sdk/src/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: ['test/e2e/**', 'test/cluster/**', '**/node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          pool: 'forks',
          typecheck: { enabled: true, include: ['protocol/src/**/*.test-d.ts'] },
        },
      },
      {
        test: {
          // several node processes per test file, on real Redis and PostgreSQL: one file at a time
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          globalSetup: ['test/e2e/globalSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
