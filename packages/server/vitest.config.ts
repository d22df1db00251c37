import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'server',
    include: ['test/**/*.test.ts'],
    // Some tests start servers in child processes (two at once on one folder) and save hundreds of
    // marks through them: seconds, more on a loaded machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
