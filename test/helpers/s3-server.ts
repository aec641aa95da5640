import { spawn } from "node:child_process";
import crypto from "node:crypto";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

/**
 * An S3 server for the tests and the benchmark: s3rver (path-style, each object a file in `directory`) in a child
 * process (s3rver-process.mjs says why), on a port the system picks, so that parallel runs never collide.
 */
export type S3Server = { endpoint: string; directory: string; pid: number; close(): Promise<void> };

/** s3rver's fixed credentials (it checks the signature). */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
export const S3_REGION = "eu-west-3";

/** The directory of the server started in this process, if any. */
let ownDirectory: string | undefined;
export const ownS3Directory = () => ownDirectory;

export async function startS3Server(): Promise<S3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "ems-s3rver-"));
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "s3rver-process.mjs");
  const child = spawn(process.execPath, ["--openssl-legacy-provider", script, directory], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`s3rver exited (${code}) before listening`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
  });
  ownDirectory = directory;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    pid: child.pid!,
    async close() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      fs.rmSync(directory, { recursive: true, force: true });
      if (ownDirectory === directory) ownDirectory = undefined;
    },
  };
}

/** A new empty bucket on `endpoint`, and the settings that choose it (the credentials in this process's environment too: the SDK's chain reads them there). */
export async function createBucket(endpoint: string): Promise<Record<string, string>> {
  const bucket = `ems-${crypto.randomBytes(6).toString("hex")}`;
  const client = new S3Client({ endpoint, region: S3_REGION, forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  Object.assign(process.env, S3RVER_CREDENTIALS);
  return { STORAGE_S3_BUCKET: bucket, STORAGE_S3_ENDPOINT: endpoint, STORAGE_S3_REGION: S3_REGION, ...S3RVER_CREDENTIALS };
}
