import { defineConfig } from "vitest/config";

/** The ClamAV suite: needs clamscan and sigtool (apt package clamav), installed by .ci/run. */
export default defineConfig({
  test: { include: ["test/clamav/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000, pool: "forks" },
});
