import type { Db } from "../../db/connection.js";
import type { RequestContext } from "../actor.js";
import { sizeLabel } from "../attachments/service.js";
import { audit } from "../audit/audit.js";
import { formatDateTime } from "../format.js";
import type { ConversationRow } from "./scope.js";
import { TRAY_LABELS } from "./states.js";
import { threadView } from "./thread.js";

/**
 * A thread as it is filed in the medical record (issue 15 §3): what the thread page shows its reader — the same
 * view model, so the same names, dates and wording on both sides —, plus each attachment's type, exact size and
 * SHA-256. Internal notes are not part of it on either side: the thread view model has none (the back office loads
 * them apart, internal-notes.ts). Exporting reads nothing as read: no read mark, no unread count moves; the only
 * write is its audit row (conversation.exported, ids only).
 */
export type ExportedAttachment = { name: string; type: string; size: string; sha256: string };

export type ExportedMessage = { author: string; date: string; body: string; attachments: ExportedAttachment[] };

export type ThreadExport = {
  id: number;
  /** The document's title (its metadata, shown by the reader's title bar): « Échange n° 12 — subject ». */
  title: string;
  subject: string;
  /** « Exporté le … par … ». */
  exported: string;
  /** The header, label and value: patient, NIR, professional, ELSM, dates, state (and the closure, a deletion). */
  header: { label: string; value: string }[];
  messages: ExportedMessage[];
};

/** Loaded through the actor's scope already (the route's loader: out of scope → NotFound → 404). */
export async function exportThread(db: Db, ctx: RequestContext, c: ConversationRow, now = new Date()): Promise<ThreadExport> {
  const thread = await threadView(db, ctx.actor, c);
  const ids = thread.messages.flatMap((m) => m.attachments.map((a) => a.id));
  const details = new Map<number, { mime_type: string; size_bytes: number | string; sha256: string }>();
  if (ids.length) for (const row of await db("attachments").whereIn("id", ids).select("id", "mime_type", "size_bytes", "sha256")) details.set(Number(row.id), row);
  const p = thread.patient;
  const header = [
    ...(p
      ? [
          { label: "Patient(e)", value: `${p.firstName} ${p.lastName}` },
          { label: "NIR", value: `${p.nir} ${p.nirKey}` },
          { label: "Né(e) le", value: p.birthDateLabel },
        ]
      : [{ label: "Patient(e)", value: "aucun patient désigné" }]),
    { label: "Professionnel de santé", value: `${thread.professional.title} — ${thread.professional.detail}` },
    { label: "Service médical", value: thread.elsmName },
    { label: "Créée le", value: formatDateTime(c.created_at) },
    { label: "Dernier message le", value: formatDateTime(c.last_message_at) },
    { label: "État", value: TRAY_LABELS[c.state] },
    ...(thread.closure ? [{ label: "Clôture", value: thread.closure }] : []),
    ...(thread.notice ? [{ label: "Suppression", value: thread.notice }] : []),
  ];
  const model: ThreadExport = {
    id: c.id,
    title: `Échange n° ${c.id} — ${c.subject}`,
    subject: c.subject,
    exported: `Exporté le ${formatDateTime(now.toISOString())} par ${ctx.actor.displayName}`,
    header,
    messages: thread.messages.map((m) => ({
      author: m.author,
      date: m.date,
      // A withdrawn message is filed as its tombstone (« Message retiré par … le … »), its text gone (issue 15 §1).
      body: m.withdrawn ?? m.body,
      attachments: m.attachments.map((a) => {
        const d = details.get(a.id)!;
        const bytes = Number(d.size_bytes);
        return { name: a.name, type: d.mime_type, size: `${sizeLabel(bytes)} (${bytes.toLocaleString("fr-FR")} octets)`, sha256: d.sha256 };
      }),
    })),
  };
  await audit(db, ctx, "conversation.exported", { type: "conversation", id: c.id });
  return model;
}
