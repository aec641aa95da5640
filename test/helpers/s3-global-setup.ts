import type { TestProject } from "vitest/node";
import { startS3Server } from "./s3-server.js";

/** `npm run test:s3`: one S3 server for the whole run; each test app makes its own bucket on it (test/helpers/s3.ts). */
export default async function setup(project: TestProject) {
  const server = await startS3Server();
  project.provide("s3Endpoint", server.endpoint);
  project.provide("s3Directory", server.directory);
  return () => server.close();
}
