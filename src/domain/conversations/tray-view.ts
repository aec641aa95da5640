import type { Knex } from "knex";
import { z } from "zod";
import { parseCursor, type Cursor, type ListOrder, type TrayCount } from "./lists.js";

/**
 * How a back-office tray is shown (issue 10 §19): newest or oldest first, unread threads only, with or without
 * a patient. Plain GET parameters (`?ordre=anciennes&non_lus=1&patient=sans`), so that a link, a small form and
 * the pager carry it without JavaScript; anything else in them falls back to the default.
 */
export const trayViewFields = z.object({
  ordre: z.enum(["recentes", "anciennes"]).catch("recentes"),
  non_lus: z
    .literal("1")
    .optional()
    .catch(undefined)
    .transform((v) => v === "1"),
  patient: z.enum(["tous", "avec", "sans"]).catch("tous"),
  // Issue 13 §1: the agent's own threads, the threads nobody holds, or all of them.
  attribution: z.enum(["tous", "moi", "aucun"]).catch("tous"),
  // Issue 14 §1: the threads whose answer-due date has passed (flagged by the deadline pass: deadlines.ts).
  retard: z
    .literal("1")
    .optional()
    .catch(undefined)
    .transform((v) => v === "1"),
});
export type TrayView = z.infer<typeof trayViewFields>;

export const DEFAULT_TRAY_VIEW: TrayView = { ordre: "recentes", non_lus: false, patient: "tous", attribution: "tous", retard: false };

export function readTrayView(query: unknown): TrayView {
  return trayViewFields.parse(query && typeof query === "object" ? query : {});
}

export function orderOf(view: TrayView): ListOrder {
  return view.ordre === "anciennes" ? "asc" : "desc";
}

/** The pager's parameter: `avant` newest first, `apres` oldest first (the cursor is the last row shown). */
export function cursorParamOf(view: TrayView): "avant" | "apres" {
  return view.ordre === "anciennes" ? "apres" : "avant";
}

export function cursorOf(view: TrayView, query: Record<string, unknown>): Cursor | null {
  return parseCursor(query[cursorParamOf(view)]);
}

/** The view as a query string (its non-default parameters only, "" for the default view). */
export function trayViewQuery(view: TrayView): string {
  const params = new URLSearchParams();
  if (view.ordre !== "recentes") params.set("ordre", view.ordre);
  if (view.non_lus) params.set("non_lus", "1");
  if (view.patient !== "tous") params.set("patient", view.patient);
  if (view.attribution !== "tous") params.set("attribution", view.attribution);
  if (view.retard) params.set("retard", "1");
  return params.toString();
}

/** Whether the view leaves out some of the tray's threads (the order alone does not). */
export function isFiltered(view: TrayView): boolean {
  return view.non_lus || view.patient !== "tous" || view.attribution !== "tous" || view.retard;
}

/**
 * The view's conditions on a tray query. Written as constants, not bound values, so that both databases
 * match them to the partial indexes of migrations 20261202010000 and 20261204010000 (one index range per filter,
 * either way); "Mes échanges" is the agent's range of (elsm_id, state, assignee_agent_id, …).
 */
export function trayViewFilter(view: TrayView, agentId: number): ((q: Knex.QueryBuilder) => void) | undefined {
  if (!isFiltered(view)) return undefined;
  return (q) => {
    if (view.non_lus) q.whereRaw("?? > 0", ["c.elsm_unread"]);
    if (view.patient === "avec") q.whereNotNull("c.patient_id");
    if (view.patient === "sans") q.whereNull("c.patient_id");
    if (view.attribution === "moi") q.where("c.assignee_agent_id", agentId);
    if (view.attribution === "aucun") q.whereNull("c.assignee_agent_id");
    if (view.retard) q.where("c.overdue", true);
  };
}

/** Whether tray_counts holds the view's count: not by holder, and overdue only alone. */
export function isCountKept(view: TrayView): boolean {
  return view.attribution === "tous" && !(view.retard && (view.non_lus || view.patient !== "tous"));
}

/**
 * How many threads the filtered tray lists across its pages, from the kept counts (no COUNT over conversations);
 * null for a view by holder, or overdue with another filter, which tray_counts does not keep (the list counts its
 * index range: countTray).
 */
export function filteredCount(count: TrayCount, view: TrayView): number | null {
  if (!isCountKept(view)) return null;
  if (view.retard) return count.overdue;
  if (view.patient === "avec") return view.non_lus ? count.patientUnread : count.patient;
  if (view.patient === "sans") return view.non_lus ? count.unread - count.patientUnread : count.n - count.patient;
  return view.non_lus ? count.unread : count.n;
}

/** What the filter keeps, for the list's heading: "non lus, sans patient". */
export function filterLabel(view: TrayView): string {
  const parts = [
    view.attribution === "moi" ? "mes échanges" : view.attribution === "aucun" ? "non attribués" : null,
    view.non_lus ? "non lus" : null,
    view.patient === "avec" ? "avec patient" : view.patient === "sans" ? "sans patient" : null,
    view.retard ? "en retard" : null,
  ];
  return parts.filter(Boolean).join(", ");
}

/** A tray tab's count: shown "(12 · 3 non lus)", read out "12 échanges, dont 3 non lus"; "(12)" alone when all are read. */
export function trayCountLabel(count: TrayCount): { shown: string; spoken: string | null } {
  const n = count.n;
  const u = count.unread;
  const threads = `${n} ${n > 1 ? "échanges" : "échange"}`;
  if (u === 0) return { shown: `(${n})`, spoken: null };
  const unread = `${u} non ${u > 1 ? "lus" : "lu"}`;
  return { shown: `(${n} · ${unread})`, spoken: `${threads}, dont ${unread}` };
}
