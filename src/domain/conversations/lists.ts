import type { Knex } from "knex";
import type { Db, Row } from "../../db/connection.js";
import { prepared } from "../../db/dialect.js";
import { formatDateTime } from "../format.js";
import type { Actor, AgentActor, PsActor } from "../actor.js";
import { practitionerCard, structureCard, type ProfessionalCard } from "../directory/cards.js";
import { badgeFor, type Badge } from "./badge.js";
import { dueView, type DueView } from "./deadlines.js";
import { draftsOf, elsmConversations, psConversations } from "./scope.js";
import type { ConversationState, Side } from "./states.js";

/** Conditions a list's query is narrowed by. */
export type ListFilter = (q: Knex.QueryBuilder) => void;

export const PAGE_SIZE = 20;

export type ListItem = {
  id: number;
  subject: string;
  badge: Badge;
  unread: boolean;
  date: string;
  patient: { name: string; nir: string } | null;
  professional: ProfessionalCard | null;
  redacteur: string | null;
  /** The agent who holds the thread (back office only; null on the doctor's side). */
  assignee: string | null;
  /** A closed thread's closure reason, as copied at its close (back office only). */
  closedReason: string | null;
  tray: ConversationState;
  draft: boolean;
  read: boolean;
  /** The answer-due date (deadlines.ts); its rowText is shown once close or past. */
  due: DueView | null;
};

export type Page = { items: ListItem[]; next: string | null };

/** Keyset cursor "<last_message_at>~<id>": the last row shown, no OFFSET, same cost on page 1 and page 5 000. */
export type Cursor = { at: string; id: number };

/** Which way a list runs: newest first (every list's default) or oldest first (a tray, on request). */
export type ListOrder = "desc" | "asc";

export function parseCursor(raw: unknown): Cursor | null {
  if (typeof raw !== "string") return null;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)~([1-9]\d{0,9})$/.exec(raw);
  return m ? { at: m[1]!, id: Number(m[2]) } : null;
}

function applyCursor(q: Knex.QueryBuilder, cursor: Cursor | null, order: ListOrder): Knex.QueryBuilder {
  if (!cursor) return q;
  const past = order === "desc" ? "<" : ">";
  return q.where((w) => w.where("c.last_message_at", past, cursor.at).orWhere((x) => x.where("c.last_message_at", cursor.at).andWhere("c.id", past, cursor.id)));
}

/** The columns a list row shows, for the few conversations already picked (one page). */
function listColumns(db: Knex, ids: number[], unreadSide: Side): Knex.QueryBuilder {
  return db("conversations as c")
    .whereIn("c.id", ids)
    .join("elsms as e", "e.id", "c.elsm_id")
    .leftJoin("patients as p", "p.id", "c.patient_id")
    .leftJoin("practitioners as sp", "sp.id", "c.started_by_practitioner_id")
    .leftJoin("practitioners as pp", "pp.id", "c.ps_practitioner_id")
    .leftJoin("structures as s", "s.id", "c.ps_structure_id")
    .leftJoin("agents as a", "a.id", "c.redacteur_agent_id")
    .leftJoin("agents as asg", "asg.id", "c.assignee_agent_id")
    .select(
      "c.id",
      "c.subject",
      "c.started_by",
      "c.state",
      "c.last_message_at",
      "c.last_message_side",
      "c.due_at",
      "c.due_side",
      "c.closed_reason_label",
      "e.code as elsm_code",
      "p.last_name as patient_last_name",
      "p.first_name as patient_first_name",
      "p.nir as patient_nir",
      "sp.first_name as starter_first_name",
      "sp.last_name as starter_last_name",
      "pp.first_name as pp_first_name",
      "pp.last_name as pp_last_name",
      "pp.nam as pp_nam",
      "pp.postal_code as pp_postal_code",
      "pp.city as pp_city",
      "s.raison_sociale as structure_raison_sociale",
      "s.finess as structure_finess",
      "s.address as s_address",
      "s.postal_code as s_postal_code",
      "s.city as s_city",
      "a.first_name as agent_first_name",
      "a.last_name as agent_last_name",
      "asg.first_name as assignee_first_name",
      "asg.last_name as assignee_last_name",
      `c.${unreadSide === "elsm" ? "ps_unread" : "elsm_unread"} as unread`,
    );
}

/**
 * One page of a list, newest first (or oldest first), in two steps: pick the page's ids from the scoped
 * and filtered query alone (an index range, even when a search matches thousands of threads), then read
 * the columns shown for those 21 rows only.
 */
async function listPage(
  db: Knex,
  scoped: Knex.QueryBuilder,
  cursor: Cursor | null,
  viewer: Side,
  more?: (q: Knex.QueryBuilder) => void,
  order: ListOrder = "desc",
  inOrder?: ListFilter | null,
): Promise<Page> {
  const listOrder = [
    { column: "c.last_message_at", order },
    { column: "c.id", order },
  ];
  let pick = applyCursor(scoped, cursor, order).select("c.id", "c.last_message_at").orderBy(listOrder);
  if (inOrder) {
    // Conditions checked on the rows already in the list's order (PostgreSQL's frequent words, full-text.ts): the
    // ordered query is fenced (OFFSET 0: the planner keeps it a subquery), so the checks stop once the page is full.
    pick = db.select("c.id", "c.last_message_at").from(db.raw("(? OFFSET 0) AS c", [pick]));
    inOrder(pick);
    pick.orderBy(listOrder);
  }
  const picked: { id: number; last_message_at: string }[] = await pick.limit(PAGE_SIZE + 1);
  const shown = picked.slice(0, PAGE_SIZE);
  if (shown.length === 0) return { items: [], next: null };
  // Always PAGE_SIZE ids (0 names no row): one SQL text per list kind, prepared once per connection.
  const ids = Array.from({ length: PAGE_SIZE }, (_, i) => shown[i]?.id ?? 0);
  const q = listColumns(db, ids, viewer === "ps" ? "elsm" : "ps");
  more?.(q);
  prepared(db, q, `list_rows_${viewer}`);
  const byId = new Map((await q).map((r: Row) => [Number(r.id), r]));
  const last = shown[shown.length - 1]!;
  return {
    items: shown.flatMap((r) => (byId.has(Number(r.id)) ? [toItem(byId.get(Number(r.id))!, viewer)] : [])),
    next: picked.length > PAGE_SIZE ? `${last.last_message_at}~${last.id}` : null,
  };
}

/**
 * The professional party of a list row, from the columns a query selected under a prefix (a structure's
 * address, postal code and city; a practitioner's names, N°AM, postal code and city).
 */
function professionalOf(r: Row, c: { structure: string; finess: string; raisonSociale: string; practitioner: string }): ProfessionalCard | null {
  const s = c.structure;
  const p = c.practitioner;
  if (r[c.finess]) {
    return structureCard({ raisonSociale: r[c.raisonSociale], finess: r[c.finess], address: r[`${s}address`], postalCode: r[`${s}postal_code`], city: r[`${s}city`] });
  }
  if (r[`${p}nam`]) {
    return practitionerCard({ lastName: r[`${p}last_name`], firstName: r[`${p}first_name`], nam: r[`${p}nam`], postalCode: r[`${p}postal_code`], city: r[`${p}city`] });
  }
  return null;
}

function toItem(r: Row, viewer: Side): ListItem {
  return {
    id: r.id,
    subject: r.subject,
    badge: badgeFor(
      {
        started_by: r.started_by,
        elsm_code: r.elsm_code,
        has_patient: Boolean(r.patient_nir),
        starter_first_name: r.starter_first_name,
        starter_last_name: r.starter_last_name,
        party_first_name: r.pp_first_name,
        party_last_name: r.pp_last_name,
        structure_raison_sociale: r.structure_raison_sociale,
        structure_finess: r.structure_finess,
      },
      viewer,
    ),
    unread: Number(r.unread) > 0,
    date: formatDateTime(r.last_message_at),
    due: dueView({ due_at: r.due_at, due_side: r.due_side }, new Date()),
    patient: r.patient_nir ? { name: `${r.patient_first_name} ${r.patient_last_name}`, nir: r.patient_nir } : null,
    professional: professionalOf(r, { structure: "s_", finess: "structure_finess", raisonSociale: "structure_raison_sociale", practitioner: "pp_" }),
    redacteur: r.agent_last_name ? `${r.agent_first_name} ${r.agent_last_name}` : null,
    assignee: viewer === "elsm" && r.assignee_last_name ? `${r.assignee_first_name} ${r.assignee_last_name}` : null,
    closedReason: viewer === "elsm" && r.state === "clos" ? (r.closed_reason_label ?? null) : null,
    tray: r.state,
    draft: Number(r.has_draft ?? 0) > 0,
    read: r.last_message_side === "elsm" && Number(r.last_elsm_read ?? 0) > 0,
  };
}

/** The PS's message list (manual §5), newest first. */
export async function psList(db: Db, actor: PsActor, cursor: Cursor | null, filter?: ListFilter, inOrder?: ListFilter | null): Promise<Page> {
  const q = psConversations(db, actor, "c");
  filter?.(q);
  // [Brouillon]: the doctor's own reply draft (PS drafts are personal), for the page's rows only.
  return listPage(
    db,
    q,
    cursor,
    "ps",
    (rows) =>
      rows.select(
        db.raw("(SELECT COUNT(*) FROM drafts d WHERE d.conversation_id = c.id AND d.side = ? AND d.author_practitioner_id = ?) AS has_draft", ["ps", actor.practitionerId]),
      ),
    "desc",
    inOrder,
  );
}

/** The doctor's threads past their answer-due date (« En retard »), whoever owes the answer: a COUNT in the doctor's scope, like the unread one. */
export async function psOverdueCount(db: Db, actor: PsActor): Promise<number> {
  const [row] = await psConversations(db, actor, "c").where("c.overdue", true).count<{ n: number }[]>({ n: "*" });
  return Number(row?.n ?? 0);
}

/** "ÉCHANGES MÉDICAUX (n)": conversations holding an unread message from the ELSM, or marked unread by the doctor's side. */
export async function psUnreadCount(db: Db, actor: PsActor): Promise<number> {
  const [row] = await psConversations(db, actor, "c").where("c.ps_unread", ">", 0).count<{ n: number }[]>({ n: "*" });
  return Number(row?.n ?? 0);
}

/** A new-question draft, shown by the same row partial as a conversation (manual §2 and §6). */
export type DraftItem = {
  id: number;
  subject: string;
  badge: Badge;
  date: string;
  patient: { name: string; nir: string } | null;
  /** The back office's recipient (Dr NAME Firstname / N°AM …, or the structure); null when none was chosen. */
  professional: ProfessionalCard | null;
  /** The back office's draft author, the agent who wrote it. */
  redacteur: string | null;
  draft: true;
};

/** New-question drafts, listed as "[Brouillon] <objet>" (manual §2). */
export async function newDrafts(db: Db, actor: Actor): Promise<DraftItem[]> {
  return draftRows(db, actor, null, 50);
}

/** The back office's new-question drafts, a page at a time (same keyset cursor as the lists, on updated_at). */
export async function newDraftsPage(db: Db, actor: AgentActor, cursor: Cursor | null): Promise<{ items: DraftItem[]; next: string | null }> {
  const rows = await draftRows(db, actor, cursor, PAGE_SIZE + 1);
  const items = rows.slice(0, PAGE_SIZE);
  const last = items[items.length - 1];
  return { items, next: rows.length > PAGE_SIZE && last ? `${last.updatedAt}~${last.id}` : null };
}

/** How many new-question drafts the heading "QUESTIONS EN BROUILLON (n)" announces. */
export async function newDraftsCount(db: Db, actor: AgentActor): Promise<number> {
  const [row] = await draftsOf(db, actor).whereNull("conversation_id").count<{ n: number }[]>({ n: "*" });
  return Number(row?.n ?? 0);
}

async function draftRows(db: Db, actor: Actor, cursor: Cursor | null, limit: number): Promise<(DraftItem & { updatedAt: string })[]> {
  const viewer = actor.kind === "ps" ? "ps" : "elsm";
  const q = draftsOf(db, actor)
    .whereNull("conversation_id")
    .leftJoin("patients as p", "p.id", "drafts.patient_id")
    .leftJoin("practitioners as rp", "rp.id", "drafts.recipient_practitioner_id")
    .leftJoin("structures as rs", "rs.id", "drafts.recipient_structure_id")
    .leftJoin("practitioners as ap", "ap.id", "drafts.author_practitioner_id")
    .leftJoin("structures as aps", "aps.id", "ap.structure_id")
    .leftJoin("elsms as e", "e.id", "drafts.elsm_id")
    .orderBy([
      { column: "drafts.updated_at", order: "desc" },
      { column: "drafts.id", order: "desc" },
    ])
    .limit(limit)
    .select(
      "drafts.id",
      "drafts.subject",
      "drafts.updated_at",
      "p.first_name",
      "p.last_name",
      "p.nir",
      "rp.first_name as rp_first_name",
      "rp.last_name as rp_last_name",
      "rs.raison_sociale as rs_raison_sociale",
      "rs.finess as rs_finess",
      "rs.address as rs_address",
      "rs.postal_code as rs_postal_code",
      "rs.city as rs_city",
      "rp.nam as rp_nam",
      "rp.postal_code as rp_postal_code",
      "rp.city as rp_city",
      // Sub-selects, not a join: agents also hold an elsm_id, which the scope's conditions name unqualified.
      db.raw("(SELECT aa.first_name FROM agents aa WHERE aa.id = drafts.author_agent_id) AS aa_first_name"),
      db.raw("(SELECT aa.last_name FROM agents aa WHERE aa.id = drafts.author_agent_id) AS aa_last_name"),
      "ap.first_name as ap_first_name",
      "ap.last_name as ap_last_name",
      "aps.raison_sociale as aps_raison_sociale",
      "aps.finess as aps_finess",
      "e.code as elsm_code",
    );
  if (cursor) q.where((w) => w.where("drafts.updated_at", "<", cursor.at).orWhere((x) => x.where("drafts.updated_at", cursor.at).andWhere("drafts.id", "<", cursor.id)));
  const rows: Row[] = await prepared(db, q, `new_drafts_${viewer}_${cursor ? "after" : "first"}_${limit}`);
  return rows.map((r) => ({
    id: r.id,
    updatedAt: r.updated_at,
    subject: r.subject || "(sans objet)",
    badge: badgeFor(
      {
        started_by: viewer,
        elsm_code: r.elsm_code ?? "",
        has_patient: Boolean(r.nir),
        starter_first_name: r.ap_first_name,
        starter_last_name: r.ap_last_name,
        // A doctor's draft carries the structure of its author; an échelon's draft, its recipient.
        party_first_name: r.rp_first_name,
        party_last_name: r.rp_last_name,
        structure_raison_sociale: viewer === "ps" ? r.aps_raison_sociale : r.rs_raison_sociale,
        structure_finess: viewer === "ps" ? r.aps_finess : r.rs_finess,
      },
      viewer,
    ),
    date: formatDateTime(r.updated_at),
    patient: r.nir ? { name: `${r.first_name} ${r.last_name}`, nir: r.nir } : null,
    professional: professionalOf(r, { structure: "rs_", finess: "rs_finess", raisonSociale: "rs_raison_sociale", practitioner: "rp_" }),
    redacteur: r.aa_last_name ? `${r.aa_first_name} ${r.aa_last_name}` : null,
    draft: true as const,
  }));
}

/** One tray of the back office (manual §6), newest first unless asked otherwise, with [Brouillon] and [Lu]. */
export async function trayPage(
  db: Db,
  actor: AgentActor,
  tray: ConversationState | null,
  cursor: Cursor | null,
  filter?: ListFilter,
  order: ListOrder = "desc",
  inOrder?: ListFilter | null,
): Promise<Page> {
  const q = elsmConversations(db, actor, "c");
  if (tray) q.where("c.state", tray);
  filter?.(q);
  return listPage(
    db,
    q,
    cursor,
    "elsm",
    (rows) =>
      rows.select(
        db.raw("(SELECT COUNT(*) FROM drafts d WHERE d.conversation_id = c.id AND d.side = ?) AS has_draft", ["elsm"]),
        db.raw(
          "(SELECT COUNT(*) FROM messages lm WHERE lm.conversation_id = c.id AND lm.side = ? AND lm.sent_at = c.last_message_at AND lm.read_at IS NOT NULL) AS last_elsm_read",
          ["elsm"],
        ),
      ),
    order,
    inOrder,
  );
}

/**
 * How many threads a tray view by holder lists (tray_counts does not keep them per agent): a COUNT over the
 * view's own index range — "Mes échanges" (elsm_id, state, assignee_agent_id), "Non attribués" the partial index.
 */
export async function countTray(db: Db, actor: AgentActor, tray: ConversationState | null, filter?: (q: Knex.QueryBuilder) => void): Promise<number> {
  const q = elsmConversations(db, actor, "c");
  if (tray) q.where("c.state", tray);
  filter?.(q);
  const [row] = await q.count<{ n: number }[]>({ n: "*" });
  return Number(row?.n ?? 0);
}

/** A tray's size, its threads unread by the ELSM, those about a patient, and both (kept by the operations: counters.ts). */
export type TrayCount = { n: number; unread: number; patient: number; patientUnread: number; overdue: number };

export async function trayCounts(db: Db, actor: AgentActor): Promise<Record<ConversationState, TrayCount>> {
  const rows = await db("tray_counts").where({ elsm_id: actor.elsmId }).select("state", "n", "unread", "patient", "patient_unread", "overdue");
  const empty = (): TrayCount => ({ n: 0, unread: 0, patient: 0, patientUnread: 0, overdue: 0 });
  const counts: Record<ConversationState, TrayCount> = { a_traiter: empty(), en_cours: empty(), clos: empty() };
  for (const r of rows) {
    counts[r.state as ConversationState] = {
      n: Number(r.n),
      unread: Number(r.unread),
      patient: Number(r.patient),
      patientUnread: Number(r.patient_unread),
      overdue: Number(r.overdue),
    };
  }
  return counts;
}
