import { defineConfig } from "vitest/config";

/** Browser tests: the real app on a random port, driven in Debian's Chromium. One fork, one file at a time. */
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
  },
});
