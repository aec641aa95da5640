import type { Readable } from "node:stream";
import type { Db } from "../../db/connection.js";
import type { RequestContext } from "../actor.js";
import { audit } from "../audit/audit.js";
import type { AttachmentRow } from "../conversations/scope.js";
import { StoredFileUnreadable } from "../errors.js";
import type { FileStorage } from "./storage.js";

/**
 * A party downloads an attachment (already loaded through their scope): its stored file is opened first,
 * then the download is traced and its bytes handed over. A file that cannot be opened (gone from the storage:
 * StoredFileMissing, code ENOENT on both storages; unreadable; a bucket unreachable) is traced as a failed download
 * and answered as StoredFileUnreadable — before anything is sent, so the page that says so is HTML, not a broken download.
 */
export async function openAttachment(deps: { db: Db; storage: FileStorage }, ctx: RequestContext, attachment: AttachmentRow): Promise<Readable> {
  let stream: Readable;
  try {
    stream = await deps.storage.open(attachment.storage_key);
  } catch (err) {
    await audit(deps.db, ctx, "attachment.download_failed", { type: "attachment", id: attachment.id });
    const code = (err as { code?: unknown }).code;
    throw new StoredFileUnreadable(attachment.id, typeof code === "string" ? code : "UNREADABLE");
  }
  try {
    await audit(deps.db, ctx, "attachment.downloaded", { type: "attachment", id: attachment.id });
  } catch (err) {
    // An open object holds a connection to the bucket (or a file descriptor) until read or destroyed.
    stream.destroy();
    throw err;
  }
  return stream;
}
