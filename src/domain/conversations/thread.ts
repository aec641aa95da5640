import { sizeLabel, type AttachmentView } from "../attachments/service.js";
import type { Db, Row } from "../../db/connection.js";
import { prepared } from "../../db/dialect.js";
import { patientById, practitionerById, structureById } from "../directory/queries.js";
import { patientView, practitionerCard, structureCard, type PatientCardView, type ProfessionalCard } from "../directory/cards.js";
import { formatDateTime } from "../format.js";
import type { Actor, RequestContext } from "../actor.js";
import { accessHistory } from "../audit/history.js";
import { purgeBanner } from "./retention.js";
import { closureDetails } from "../closure-reasons/reasons.js";
import { closerOf, openConversation, traceDisplay } from "./operations.js";
import { recallRefusal, type RecallFacts } from "./recall.js";
import { replyDraft, type ConversationRow } from "./scope.js";
import { dueView, owedByText } from "./deadlines.js";
import { canWrite, isClosed, sideOf, type Side } from "./states.js";

export type MessageView = {
  id: number;
  side: Side;
  author: string;
  date: string;
  body: string;
  attachments: AttachmentView[];
  /** For the viewer's own messages: when the other side opened it (null = not yet). */
  readBy: { read: boolean; date: string | null } | null;
  /** A withdrawn message's tombstone (« Message retiré par … le … »): no text, no file (issue 15 §1). */
  withdrawn: string | null;
  /** « Retirer le message » is offered: the viewer's own latest message, not opened yet (recall.ts recallRefusal). */
  withdrawable: boolean;
};

export type ThreadView = {
  id: number;
  subject: string;
  state: ConversationRow["state"];
  patient: PatientCardView | null;
  professional: ProfessionalCard;
  elsmName: string;
  messages: MessageView[];
  /** The ELSM cannot write in a closed thread; the PS side always can. */
  canReply: boolean;
  /** What the other side did to the thread, as the viewer is told: the doctor deleted it (back office), the échelon closed it (doctor). */
  notice: string | null;
  /** A closed thread: « Conversation close par l'échelon (the agent, for the back office) le … — motif : … — précision : … ». */
  closure: string | null;
  /** « Cette conversation sera supprimée le … » once its retention notice is sent (both sides); null otherwise. */
  purgeNotice: string | null;
  /** Long enough to open on its newest message, with links to it and to the actions. */
  long: boolean;
  /** "Réponse attendue avant le 17/12/2026 à 14:02 — à l'échelon de répondre" (deadlines.ts), null when nobody owes one. */
  due: { text: string; late: boolean } | null;
};

/** From this many messages a thread is long: the page opens on the newest one and offers links past the others. */
export const LONG_THREAD = 4;

function noticeFor(actor: Actor, c: ConversationRow): string | null {
  if (actor.kind === "agent" && c.ps_deleted_at) return `Supprimée par le professionnel de santé le ${formatDateTime(c.ps_deleted_at)}`;
  return null;
}

/** Only while the thread is closed: a doctor's message reopens it and clears its reason (compose.ts). */
async function closureFor(db: Db, actor: Actor, c: ConversationRow): Promise<string | null> {
  if (!isClosed(c.state) || !c.closed_at) return null;
  // The doctor is told the échelon; the back office, which agent (from the audit trail; none for old data).
  const closer = actor.kind === "agent" ? await closerOf(db, c.id) : null;
  return `Conversation close par ${closer ?? "l'échelon"} le ${formatDateTime(c.closed_at)}${closureDetails(c)}`;
}

export async function threadView(db: Db, actor: Actor, c: ConversationRow): Promise<ThreadView> {
  const [elsm, patient, structure, practitioner, closure] = await Promise.all([
    db("elsms").where({ id: c.elsm_id }).first("name"),
    c.patient_id ? patientById(db, c.patient_id) : Promise.resolve(null),
    c.ps_structure_id ? structureById(db, c.ps_structure_id) : Promise.resolve(null),
    c.ps_practitioner_id ? practitionerById(db, c.ps_practitioner_id) : Promise.resolve(null),
    closureFor(db, actor, c),
  ]);
  const messages = db("messages as m")
    .leftJoin("practitioners as p", "p.id", "m.author_practitioner_id")
    .leftJoin("agents as a", "a.id", "m.author_agent_id")
    .where("m.conversation_id", c.id)
    .orderBy([{ column: "m.sent_at" }, { column: "m.id" }])
    .leftJoin("agents as w", "w.id", "m.withdrawn_by_agent_id")
    .select(
      "m.id",
      "m.side",
      "m.body",
      "m.sent_at",
      "m.read_at",
      "m.author_practitioner_id",
      "m.withdrawn_at",
      db.raw("CASE WHEN m.undo IS NULL THEN 0 ELSE 1 END AS undoable"),
      "p.first_name as p_first",
      "p.last_name as p_last",
      "a.first_name as a_first",
      "a.last_name as a_last",
      "w.first_name as w_first",
      "w.last_name as w_last",
    );
  const rows: Row[] = await prepared(db, messages, "thread_messages");
  const files = rows.length
    ? await db("attachments")
        .whereIn(
          "message_id",
          rows.map((r) => r.id),
        )
        .orderBy("id")
        .select("id", "message_id", "original_name", "size_bytes")
    : [];
  const author = (r: Row) => {
    if (r.side === "ps") return `Dr ${r.p_first} ${r.p_last}${structure ? ` — ${structure.raisonSociale}` : ""}`;
    // The PS side sees the échelon (manual §4); the back office sees which agent wrote.
    return actor.kind === "agent" ? `${r.a_first} ${r.a_last} — ${elsm.name}` : elsm.name;
  };
  // Who withdrew: the doctor who wrote it; for the échelon's, the agent (back office) or the échelon (doctor).
  const withdrawer = (r: Row) => (r.side === "ps" ? `Dr ${r.p_first} ${r.p_last}` : actor.kind === "agent" && r.w_last ? `${r.w_first} ${r.w_last}` : elsm.name);
  const latest = rows.filter((r) => !r.withdrawn_at).at(-1)?.id ?? null;
  const facts = (r: Row): RecallFacts => ({
    id: r.id,
    side: r.side,
    author_practitioner_id: r.author_practitioner_id,
    read_at: r.read_at,
    withdrawn_at: r.withdrawn_at,
    undoable: Number(r.undoable) === 1,
  });
  return {
    id: c.id,
    subject: c.subject,
    state: c.state,
    patient: patientView(patient),
    // A thread always has one PS party, a structure or a liberal doctor: both set at creation, never cleared.
    professional: structure ? structureCard(structure) : practitionerCard(practitioner!),
    elsmName: elsm.name,
    messages: rows.map((r) => ({
      id: r.id,
      side: r.side,
      author: author(r),
      date: formatDateTime(r.sent_at),
      body: r.body,
      attachments: files.filter((f) => f.message_id === r.id).map((f) => ({ id: f.id, name: f.original_name, size: sizeLabel(f.size_bytes) })),
      readBy: r.side === (actor.kind === "ps" ? "ps" : "elsm") && !r.withdrawn_at ? { read: Boolean(r.read_at), date: r.read_at ? formatDateTime(r.read_at) : null } : null,
      withdrawn: r.withdrawn_at ? `Message retiré par ${withdrawer(r)} le ${formatDateTime(r.withdrawn_at)}` : null,
      withdrawable: recallRefusal(actor, c.state, facts(r), latest) === null,
    })),
    canReply: canWrite(sideOf(actor), c.state),
    notice: noticeFor(actor, c),
    closure,
    long: rows.length >= LONG_THREAD,
    due: dueLine(c, sideOf(actor)),
    purgeNotice: purgeBanner(c.purge_at),
  };
}

function dueLine(c: ConversationRow, viewer: Side): ThreadView["due"] {
  const due = dueView(c, new Date());
  if (!due) return null;
  const late = due.lateDays !== null ? ` — ${due.rowText!.toLowerCase()}` : "";
  return { text: `${due.expected}${late} — ${owedByText(due.owedBy, viewer)}.`, late: due.lateDays !== null };
}

/**
 * The message a reply answers, shown above the reply form: the other side's newest message (else the
 * newest of the thread, when the other side has not written yet).
 */
export async function answeredMessage(db: Db, actor: Actor, c: ConversationRow): Promise<MessageView | null> {
  const { messages } = await threadView(db, actor, c);
  const shown = messages.filter((m) => !m.withdrawn);
  const other = shown.filter((m) => m.side !== sideOf(actor));
  return other.at(-1) ?? shown.at(-1) ?? null;
}

/**
 * A party opens a thread: the other side's messages are marked read (and the opening traced), then
 * the thread is shown; the back office also sees who opened it ("Historique des accès") and
 * whether the échelon has a reply draft in it.
 */
export async function openThread(db: Db, ctx: RequestContext, c: ConversationRow, options: { markRead: boolean; displayOnly?: boolean } = { markRead: true }) {
  // displayOnly: the page shown again under a refused form (an empty internal note): traced as displayed, nothing marked read.
  if (options.displayOnly) await traceDisplay(db, ctx, c);
  else await openConversation(db, ctx, c, options);
  const agent = ctx.actor.kind === "agent";
  const [thread, history, draft] = await Promise.all([threadView(db, ctx.actor, c), agent ? accessHistory(db, c.id) : [], replyDraft(db, ctx.actor, c.id)]);
  return { thread, history, hasDraft: Boolean(draft) };
}
