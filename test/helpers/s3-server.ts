import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";

/**
 * An S3 server for the tests and the benchmark (s3rver: in this process, path-style, each object a file in
 * `directory`), on a port the system picks: parallel runs never collide.
 */
export type S3Server = { endpoint: string; directory: string; close(): Promise<void> };

/** s3rver's fixed credentials (it checks the signature). */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
export const S3_REGION = "eu-west-3";

/** The directory of the server started in this process, if any. */
let ownDirectory: string | undefined;

export async function startS3Server(): Promise<S3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "ems-s3rver-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory });
  const { port } = await server.run();
  ownDirectory = directory;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    async close() {
      // The app's S3 client keeps its connections alive: close them rather than wait for their idle timeout.
      server.httpServer.closeAllConnections();
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
      if (ownDirectory === directory) ownDirectory = undefined;
    },
  };
}

export const ownS3Directory = () => ownDirectory;
