import type { Request, Response } from "express";
import type { AppDeps } from "../app.js";
import { audit } from "../domain/audit/audit.js";
import { loadAttachment } from "../domain/conversations/scope.js";
import type { Actor } from "../domain/actor.js";
import { contentDisposition } from "../domain/attachments/service.js";

/** Serves an attachment to a party only: as a download, with its true type, never sniffed or cached. */
export async function downloadAttachment(deps: AppDeps, req: Request, res: Response): Promise<void> {
  const actor = req.session.user as Actor;
  const attachment = await loadAttachment(deps.db, actor, req.params.id);
  await audit(deps.db, { actor, ip: req.ip ?? "" }, "attachment.downloaded", { type: "attachment", id: attachment.id });
  res.set({
    "Content-Type": attachment.mime_type,
    "Content-Disposition": contentDisposition(attachment.original_name),
    "Content-Length": String(attachment.size_bytes),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox",
  });
  await new Promise<void>((resolve, reject) => {
    const stream = deps.storage.open(attachment.storage_key);
    stream.on("error", reject);
    stream.on("end", resolve);
    stream.pipe(res);
  });
}
