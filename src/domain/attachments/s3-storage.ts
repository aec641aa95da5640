import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { StorageUnavailable } from "../errors.js";
import { checkedKey, type FileStorage, isStorageKey, newStorageKey, probeWrite, StoredFileMissing, sweepFolder } from "./storage.js";

/** An S3-compatible bucket (config.ts: STORAGE_S3_*); `endpoint` for a provider other than AWS (then path-style addresses). */
export type S3Settings = { bucket: string; region: string; endpoint: string | undefined };

/** Stored files are `attachments/<key>`; the /healthz probes `probe/…`, outside what the orphan sweep lists. */
const PREFIX = "attachments/";

const PUT_ATTEMPTS = 3;

/** An S3 error as the storage reports it: the service's error name (NoSuchBucket, AccessDenied…) or the network's code as `code`. */
function s3Error(err: unknown): Error {
  const e = err as { code?: unknown; name?: unknown };
  // Only the object missing: a missing bucket (NoSuchBucket, also a 404) is a storage fault, not a lost file.
  if (e?.name === "NoSuchKey") return new StoredFileMissing();
  if (typeof e?.code === "string") return err as Error;
  const code = typeof e?.name === "string" && e.name !== "Error" ? e.name : "S3_ERROR";
  return Object.assign(new Error(`S3: ${code}`, { cause: err }), { code });
}

/**
 * The bucket: uploads still land in the local `tmp/` folder of `localRoot` (checked there: content type, antivirus,
 * SHA-256), then `put` streams them to the bucket before their row commits; `open` streams an object back (the app
 * serves every download itself: no public or presigned bucket address ever reaches a page). Credentials come from the
 * AWS SDK's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profile, instance role).
 */
export function s3Storage(settings: S3Settings, localRoot: string): FileStorage {
  const tmpDir = path.join(localRoot, "tmp");
  fs.mkdirSync(tmpDir, { recursive: true });
  const Bucket = settings.bucket;
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    // The SDK's default (WHEN_SUPPORTED) sends a streamed body as aws-chunked with a CRC32 trailer, which some
    // S3-compatible servers store as is, framing included (s3rver: a 10 MB file kept 1.6 KB longer). Checksums only
    // where the API requires one: the body goes as plain bytes of a known length.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: { connectionTimeout: 3_000, socketTimeout: 60_000 },
    // Without a logger the SDK writes some warnings to the console itself; every failure here is thrown and logged by
    // the app (by its code only), so its own words are not needed.
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const objectKey = (key: string) => PREFIX + checkedKey(key);
  return {
    tmpDir,
    async put(tmpPath) {
      const key = newStorageKey();
      const { size } = await fs.promises.stat(tmpPath);
      // The SDK never retries a streamed body (it cannot read it twice): a provider's passing failure (a 5xx such as
      // SlowDown, a connection reset) is retried here with the file read again; a refusal (4xx) is not.
      for (let attempt = 1; ; attempt += 1) {
        const body = fs.createReadStream(tmpPath);
        try {
          await client.send(new PutObjectCommand({ Bucket, Key: objectKey(key), Body: body, ContentLength: size, ContentType: "application/octet-stream" }));
          break;
        } catch (err) {
          const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
          if (attempt >= PUT_ATTEMPTS || (status >= 400 && status < 500)) throw new StorageUnavailable(s3Error(err));
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        } finally {
          body.destroy();
        }
      }
      await fs.promises.rm(tmpPath, { force: true });
      return key;
    },
    async open(key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket, Key: objectKey(key) }));
        return out.Body as Readable;
      } catch (err) {
        throw s3Error(err);
      }
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) })).catch((err) => {
        throw s3Error(err);
      });
    },
    sweepTmp: (olderThanMs) => sweepFolder(tmpDir, olderThanMs),
    async *keysOlderThan(olderThanMs) {
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: PREFIX, ContinuationToken })).catch((err) => {
          throw s3Error(err);
        });
        for (const o of page.Contents ?? []) {
          const key = o.Key?.slice(PREFIX.length) ?? "";
          if (isStorageKey(key) && o.LastModified && Date.now() - o.LastModified.getTime() > olderThanMs) yield key;
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },
    async probe() {
      await probeWrite(tmpDir);
      const Key = `probe/${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
      try {
        await client.send(new PutObjectCommand({ Bucket, Key, Body: "ok" }));
        await client.send(new DeleteObjectCommand({ Bucket, Key }));
      } catch (err) {
        throw s3Error(err);
      }
    },
  };
}
