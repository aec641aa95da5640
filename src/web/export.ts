import type { RequestHandler } from "express";
import type { AppDeps } from "../deps.js";
import { exportThread } from "../domain/conversations/export.js";
import { renderThreadPdf } from "../export/thread-pdf.js";
import { conversationOf } from "./loaders.js";
import { contextOf } from "./middleware/guards.js";

/**
 * « Télécharger en PDF » (issue 15 §3), both sides: the thread loaded through the actor's scope (else 404), its
 * export traced, its PDF sent as a download named by its id only (no subject, no patient in the URL or the name),
 * never cached. Nothing is marked read.
 */
export function exportPdf(deps: AppDeps): RequestHandler {
  return async (req, res) => {
    const pdf = await renderThreadPdf(await exportThread(deps.db, contextOf(req, res), conversationOf(res)));
    res.set({
      "Content-Type": "application/pdf",
      "Content-Disposition": `attachment; filename="echange-${conversationOf(res).id}.pdf"`,
      "Content-Length": String(pdf.length),
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
    });
    res.end(pdf);
  };
}
