import { defineConfig } from 'vitest/config';

/**
 * Suites that simulate many hosts (network namespaces, an sshd and a dozen node processes each)
 * saturate both cores for minutes: run alongside them, the suites that measure failover or
 * count requests starve. So they run as a second group, after everything else (one vitest run,
 * one report). The peer fuzzer joins them: its thousands of hostile streams a minute starved an
 * orchestrator's first start in another suite past its hook's 60 s.
 */
const MULTI_HOST = [
  'test/real-hosts.test.ts',
  'test/ansible-deploy.test.ts',
  'test/rig.test.ts',
  'test/package.test.ts',
  'test/attacks/peer-fuzz.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    // Every orchestrator a test starts (in process or spawned: children inherit it) checks each
    // JSON answer against the response schema its route declares (src/orchestrator/api/route.ts).
    env: { TRELLIS_CHECK_RESPONSES: '1' },
    hookTimeout: 60_000,
    setupFiles: ['test/support/setup.ts'],
    // Integration tests start real processes and databases; two cores cannot run many at once.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'single-host',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
          exclude: [...MULTI_HOST, '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'multi-host', include: MULTI_HOST, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
