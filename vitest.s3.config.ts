import { defineConfig } from "vitest/config";

/**
 * `npm run test:s3`: the attachment suite again, its files in an S3 bucket instead of the local folder (issue 17 §2).
 * One S3 server (s3rver, in-process, a port the system picks) for the run; each test app makes its own bucket on it.
 * Tests that need the local folder itself (a full or read-only disk) skip themselves under TEST_STORAGE=s3.
 */
export default defineConfig({
  test: {
    include: [
      "test/attachments/**/*.test.ts",
      // test/storage/s3.test.ts runs in `npm test` already (its own S3 server); database-full is the database's.
      "test/storage/storage-faults.test.ts",
      "test/export/**/*.test.ts",
      "test/domain/{compose,elsm-question,held-files,close,close-reply-race,scope}.test.ts",
      "test/ps/{compose,refused-send,discard-draft}.test.ts",
      "test/bo/write.test.ts",
      "test/security/{hostile-inputs,recall,upload-limits,client-disconnect,logs-no-health-data,audit-trail,shared-draft}.test.ts",
      "test/cli/{reset-demo,retention-purge}.test.ts",
      // The retention purge removes its files through the storage (issue 17 §1).
      "test/domain/retention.test.ts",
      "test/notifications/retention.test.ts",
    ],
    globalSetup: ["test/helpers/s3-global-setup.ts"],
    env: { TEST_STORAGE: "s3", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
