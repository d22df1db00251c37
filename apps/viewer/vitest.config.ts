import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'viewer',
    include: ['test/**/*.test.ts'],
    // The browser tests build the viewer once (vite build) before any test runs.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
