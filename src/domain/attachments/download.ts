import type { Readable } from "node:stream";
import type { Db } from "../../db/connection.js";
import type { RequestContext } from "../actor.js";
import { audit } from "../audit/audit.js";
import type { AttachmentRow } from "../conversations/scope.js";
import type { FileStorage } from "./storage.js";

/** A party downloads an attachment (already loaded through their scope): traced, then its bytes. */
export async function openAttachment(deps: { db: Db; storage: FileStorage }, ctx: RequestContext, attachment: AttachmentRow): Promise<Readable> {
  await audit(deps.db, ctx, "attachment.downloaded", { type: "attachment", id: attachment.id });
  return deps.storage.open(attachment.storage_key);
}
