import path from "node:path";
import { inject } from "vitest";
import { createBucket, ownS3Directory } from "./s3-server.js";

/**
 * The storage the tests run against. The attachment suite runs on the local folder, and with TEST_STORAGE=s3
 * (`npm run test:s3`) on a bucket of the S3 server the global setup started for the run (test/helpers/s3-global-setup.ts).
 */
/** Whether this run puts attachments in a bucket (TEST_STORAGE=s3) rather than the local folder. */
export const testOnS3 = process.env.TEST_STORAGE === "s3";

function runServer(): { endpoint: string; directory: string } {
  return { endpoint: inject("s3Endpoint"), directory: inject("s3Directory") };
}

/** A new empty bucket on `endpoint` (by default the run's server): each test app its own, as each has its own database. */
export function bucketSettings(endpoint: string = runServer().endpoint): Promise<Record<string, string>> {
  return createBucket(endpoint);
}

/** The settings of the storage this run tests: none for the local folder, a fresh bucket with TEST_STORAGE=s3. */
export async function testStorageSettings(): Promise<Record<string, string>> {
  return testOnS3 ? bucketSettings() : {};
}

/**
 * Where the bytes of a stored key sit on this machine's disk: the local folder's file, or the file s3rver keeps the
 * object in (its mtime is the object's LastModified, so a test can age it). For tests that look at or age stored files.
 */
export function storedFilePath(config: { storageDir: string; storageS3: { bucket: string } | null }, key: string): string {
  if (!config.storageS3) return path.join(config.storageDir, "objects", key.slice(0, 2), key);
  const directory = ownS3Directory() ?? runServer().directory;
  return path.join(directory, config.storageS3.bucket, "attachments", `${key}._S3rver_object`);
}

declare module "vitest" {
  export interface ProvidedContext {
    s3Endpoint: string;
    s3Directory: string;
  }
}
