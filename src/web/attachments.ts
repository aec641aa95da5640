import { pipeline } from "node:stream/promises";
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
    // Streamed as read (never held whole); a client that goes away destroys the source too (a bucket's connection freed).
    await pipeline(stream, res).catch((err) => {
      if (res.destroyed && !res.writableFinished) return;
      throw err;
    });
  };
}
