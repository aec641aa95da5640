import crypto from "node:crypto";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";

/**
 * Where attachment bytes live, under server-generated keys: a local folder outside public/ that every app process
 * can reach (localStorage), or an S3-compatible bucket (s3-storage.ts). Nothing is ever served from it directly:
 * a download is streamed through the app. Uploads always land first in a local temporary folder (`tmpDir`), where
 * their type is checked and their SHA-256 taken, before `put` stores them and the row that points to them commits.
 */
export interface FileStorage {
  /** Local folder for uploads in progress (for the local storage, on the same file system, so `put` is a rename). */
  readonly tmpDir: string;
  /** Stores a finished upload (removing its temporary file); returns its new key. A storage that cannot take it throws a storage fault. */
  put(tmpPath: string): Promise<string>;
  /**
   * The stored bytes of `key`, opened: resolves once they can be read (so that nothing has been sent yet when they
   * cannot), rejects with StoredFileMissing when the key holds nothing, or with the storage's own error.
   */
  open(key: string): Promise<Readable>;
  /** Removes a stored file; a key that holds nothing is not an error. */
  remove(key: string): Promise<void>;
  /** Deletes uploads left in the temporary folder by a crash (older than `olderThanMs`). */
  sweepTmp(olderThanMs: number): Promise<number>;
  /** The keys of stored files last written more than `olderThanMs` ago. */
  keysOlderThan(olderThanMs: number): AsyncIterable<string>;
  /** Writes and removes a tiny probe in the temporary folder and in the store: throws the storage's error when either cannot take a write. */
  probe(): Promise<void>;
}

/** `open` of a key that holds nothing (a file gone from the folder, no such object in the bucket): code ENOENT on both. */
export class StoredFileMissing extends Error {
  readonly code = "ENOENT";
  constructor() {
    super("Stored file missing");
  }
}

/** Storage keys: 128 random bits in hex, never derived from anything the user sent. */
const KEY = /^[a-f0-9]{32}$/;
export const newStorageKey = () => crypto.randomBytes(16).toString("hex");
export const isStorageKey = (key: string) => KEY.test(key);
export function checkedKey(key: string): string {
  if (!KEY.test(key)) throw new Error("invalid storage key");
  return key;
}

/** A few bytes written to the disk and removed: proves the folder takes a write now (as root, permissions prove nothing). */
export async function probeWrite(dir: string): Promise<void> {
  const file = path.join(dir, `.probe-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
  try {
    const handle = await fs.promises.open(file, "wx");
    try {
      await handle.write("ok");
      await handle.sync();
    } finally {
      await handle.close();
    }
  } finally {
    await fs.promises.rm(file, { force: true }).catch(() => undefined);
  }
}

/** Removes the files of the temporary folder older than `olderThanMs` (uploads a crash or a lost request left). */
export async function sweepFolder(dir: string, olderThanMs: number): Promise<number> {
  let removed = 0;
  for (const name of await fs.promises.readdir(dir)) {
    const file = path.join(dir, name);
    const stat = await fs.promises.stat(file).catch(() => null);
    if (stat && Date.now() - stat.mtimeMs > olderThanMs) {
      await fs.promises.rm(file, { force: true });
      removed += 1;
    }
  }
  return removed;
}

/** Moves a synced temp file to its place; across file systems (an objects folder mounted apart), copies and syncs it. */
async function moveInto(tmpPath: string, target: string): Promise<void> {
  try {
    await fs.promises.rename(tmpPath, target);
  } catch (err) {
    if ((err as { code?: string }).code !== "EXDEV") throw err;
    try {
      await fs.promises.copyFile(tmpPath, target, fs.constants.COPYFILE_EXCL);
      const handle = await fs.promises.open(target, "r");
      await handle.sync();
      await handle.close();
    } catch (copyErr) {
      await fs.promises.rm(target, { force: true }).catch(() => undefined);
      throw copyErr;
    }
    await fs.promises.rm(tmpPath, { force: true });
  }
}

/** The local folder `root`: `tmp/` for uploads in progress, `objects/<2 hex>/<key>` for stored files. */
export function localStorage(root: string): FileStorage {
  const tmpDir = path.join(root, "tmp");
  const objects = path.join(root, "objects");
  fs.mkdirSync(tmpDir, { recursive: true });
  fs.mkdirSync(objects, { recursive: true });
  const locate = (key: string) => path.join(objects, key.slice(0, 2), checkedKey(key));
  return {
    tmpDir,
    async put(tmpPath) {
      const key = newStorageKey();
      const target = locate(key);
      // One level under objects/ (made at start): a recursive mkdir reports a read-only folder as ENOENT, this one as EROFS.
      await fs.promises.mkdir(path.dirname(target)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      });
      // The bytes reach the disk before the database row that points to them is committed.
      const handle = await fs.promises.open(tmpPath, "r");
      await handle.sync();
      await handle.close();
      await moveInto(tmpPath, target);
      return key;
    },
    async probe() {
      await probeWrite(tmpDir);
      await probeWrite(objects);
    },
    async open(key) {
      const stream = fs.createReadStream(locate(key));
      try {
        await once(stream, "ready");
      } catch (err) {
        stream.destroy();
        throw (err as NodeJS.ErrnoException).code === "ENOENT" ? new StoredFileMissing() : err;
      }
      return stream;
    },
    remove: async (key) => fs.promises.rm(locate(key), { force: true }),
    sweepTmp: (olderThanMs) => sweepFolder(tmpDir, olderThanMs),
    async *keysOlderThan(olderThanMs) {
      for (const shard of await fs.promises.readdir(objects)) {
        if (!/^[a-f0-9]{2}$/.test(shard)) continue;
        for (const key of await fs.promises.readdir(path.join(objects, shard))) {
          if (!isStorageKey(key)) continue;
          const stat = await fs.promises.stat(path.join(objects, shard, key)).catch(() => null);
          if (stat && Date.now() - stat.mtimeMs > olderThanMs) yield key;
        }
      }
    },
  };
}
