import type { Db } from "../../db/connection.js";
import type { FileStorage } from "./storage.js";

/** A stored file younger than this may belong to a transaction not committed yet: never touched. */
export const ORPHAN_MIN_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes stored files that no attachment row points to: left by a crash between storing a file and
 * committing its row (the row never existed), or between deleting a row and its file. Only files
 * older than `olderThanMs`, so that an upload whose row is being committed is never removed.
 */
export async function sweepOrphans(db: Db, storage: FileStorage, olderThanMs = ORPHAN_MIN_AGE_MS): Promise<{ checked: number; removed: number }> {
  let checked = 0;
  let removed = 0;
  let batch: string[] = [];
  const flush = async () => {
    const referenced = new Set<string>(await db("attachments").whereIn("storage_key", batch).pluck("storage_key"));
    for (const key of batch) {
      if (referenced.has(key)) continue;
      await storage.remove(key);
      removed += 1;
    }
    checked += batch.length;
    batch = [];
  };
  for await (const key of storage.keysOlderThan(olderThanMs)) {
    batch.push(key);
    if (batch.length >= 500) await flush();
  }
  if (batch.length) await flush();
  return { checked, removed };
}
