import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Where attachment bytes live: a folder outside public/ that every app process can reach, under
 * server-generated names. Nothing is ever served from it directly or executed.
 */
export interface FileStorage {
  /** Folder for uploads in progress (same filesystem, so `put` is a rename). */
  readonly tmpDir: string;
  /** Moves a finished upload into the store; returns its new key. */
  put(tmpPath: string): Promise<string>;
  open(key: string): fs.ReadStream;
  remove(key: string): Promise<void>;
  /** Deletes uploads left in the temporary folder by a crash (older than `olderThanMs`). */
  sweepTmp(olderThanMs: number): Promise<number>;
  /** The keys of stored files last written more than `olderThanMs` ago. */
  keysOlderThan(olderThanMs: number): AsyncIterable<string>;
  /** Writes, syncs and removes a tiny probe file in both folders: throws the file system's error when either cannot take a write. */
  probe(): Promise<void>;
}

/** A few bytes written to the disk and removed: proves the folder takes a write now (as root, permissions prove nothing). */
async function probeWrite(dir: string): Promise<void> {
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

export function localStorage(root: string): FileStorage {
  const tmpDir = path.join(root, "tmp");
  const objects = path.join(root, "objects");
  fs.mkdirSync(tmpDir, { recursive: true });
  fs.mkdirSync(objects, { recursive: true });
  const locate = (key: string) => {
    if (!/^[a-f0-9]{32}$/.test(key)) throw new Error("invalid storage key");
    return path.join(objects, key.slice(0, 2), key);
  };
  return {
    tmpDir,
    async put(tmpPath) {
      const key = crypto.randomBytes(16).toString("hex");
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
    open: (key) => fs.createReadStream(locate(key)),
    remove: (key) => fs.promises.rm(locate(key), { force: true }),
    async sweepTmp(olderThanMs) {
      let removed = 0;
      for (const name of await fs.promises.readdir(tmpDir)) {
        const file = path.join(tmpDir, name);
        const stat = await fs.promises.stat(file).catch(() => null);
        if (stat && Date.now() - stat.mtimeMs > olderThanMs) {
          await fs.promises.rm(file, { force: true });
          removed += 1;
        }
      }
      return removed;
    },
    async *keysOlderThan(olderThanMs) {
      for (const shard of await fs.promises.readdir(objects)) {
        if (!/^[a-f0-9]{2}$/.test(shard)) continue;
        for (const key of await fs.promises.readdir(path.join(objects, shard))) {
          if (!/^[a-f0-9]{32}$/.test(key)) continue;
          const stat = await fs.promises.stat(path.join(objects, shard, key)).catch(() => null);
          if (stat && Date.now() - stat.mtimeMs > olderThanMs) yield key;
        }
      }
    },
  };
}
