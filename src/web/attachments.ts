import type { RequestHandler } from "express";
import type { AppDeps } from "../deps.js";
import { openAttachment } from "../domain/attachments/download.js";
import { contentDisposition } from "../domain/attachments/service.js";
import { attachmentOf } from "./loaders.js";
import { contextOf } from "./middleware/guards.js";

/** Serves an attachment to a party only: as a download, with its true type, never sniffed or cached. */
export function downloadAttachment(deps: AppDeps): RequestHandler {
  return async (req, res) => {
    const attachment = attachmentOf(res);
    const stream = await openAttachment(deps, contextOf(req, res), attachment);
    res.set({
      "Content-Type": attachment.mime_type,
      "Content-Disposition": contentDisposition(attachment.original_name),
      "Content-Length": String(attachment.size_bytes),
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
      "Content-Security-Policy": "default-src 'none'; sandbox",
    });
    await new Promise<void>((resolve, reject) => {
      stream.on("error", reject);
      stream.on("end", resolve);
      stream.pipe(res);
    });
  };
}
