import type { Knex } from "knex";
import type { Db } from "../../db/connection.js";
import type { AgentActor, PsActor } from "../actor.js";
import { patientView } from "../directory/cards.js";
import { patientById } from "../directory/queries.js";
import { countTray, newDrafts, newDraftsCount, newDraftsPage, psList, psOverdueCount, psUnreadCount, trayCounts, trayPage, type Cursor } from "./lists.js";
import { boSearchFilter, psSearchFilter, type BoSearch, type PsSearch } from "./search.js";
import type { ConversationState } from "./states.js";
import {
  cursorParamOf,
  DEFAULT_TRAY_VIEW,
  filteredCount,
  filterLabel,
  isCountKept,
  isFiltered,
  orderOf,
  trayCountLabel,
  trayViewFilter,
  trayViewQuery,
  type TrayView,
} from "./tray-view.js";

/** The column beside every doctor's page (manual §5): the selected patient, the list (searched or not), drafts, unread count. */
export async function psWorkspace(db: Db, actor: PsActor, view: { cursor: Cursor | null; search: PsSearch | null; selectedPatientId: number | null; overdueOnly?: boolean }) {
  const filter = view.search ? await psSearchFilter(db, view.search) : undefined;
  const overdueOnly = view.overdueOnly ?? false;
  const where = (q: Knex.QueryBuilder) => {
    filter?.where(q);
    // « En retard » (issue 14 §1): the threads whose answer-due date has passed, whoever owes the answer.
    if (overdueOnly) q.where("c.overdue", true);
  };
  const [selected, list, unread, overdue, drafts] = await Promise.all([
    view.selectedPatientId ? patientById(db, view.selectedPatientId) : null,
    psList(db, actor, view.cursor, where, filter?.inOrder),
    psUnreadCount(db, actor),
    psOverdueCount(db, actor),
    // A search, or the overdue threads, show matching conversations only.
    view.search || overdueOnly ? [] : newDrafts(db, actor),
  ]);
  return { list, unread, overdue, overdueOnly, drafts, search: view.search, cursor: view.cursor, patient: patientView(selected) };
}

/**
 * The column beside every back-office page (manual §6): the tray counts and the open tray, in the order and with
 * the filters asked (`trayView`). EN COURS shows the new-question drafts first (unless a filter leaves them out),
 * under their own counted heading and pager (`draftCursor`), so that every heading's number is the number of rows
 * it lists across its pages.
 */
export async function boWorkspace(db: Db, actor: AgentActor, view: { tray: ConversationState; trayView?: TrayView; cursor: Cursor | null; draftCursor?: Cursor | null }) {
  const trayView = view.trayView ?? DEFAULT_TRAY_VIEW;
  const withDrafts = view.tray === "en_cours" && !view.cursor && !isFiltered(trayView);
  const filter = trayViewFilter(trayView, actor.agentId);
  const [counts, list, drafts, draftCount, mine, byHolder] = await Promise.all([
    trayCounts(db, actor),
    trayPage(db, actor, view.tray, view.cursor, filter, orderOf(trayView)),
    withDrafts ? newDraftsPage(db, actor, view.draftCursor ?? null) : null,
    withDrafts ? newDraftsCount(db, actor) : 0,
    countTray(db, actor, null, mineFilter(actor)),
    // A view the kept counts do not hold (by holder; overdue with another filter): its index range, counted.
    isCountKept(trayView) ? null : countTray(db, actor, view.tray, filter),
  ]);
  return {
    tray: view.tray,
    counts,
    countLabels: Object.fromEntries(Object.entries(counts).map(([state, count]) => [state, trayCountLabel(count)])) as Record<ConversationState, ReturnType<typeof trayCountLabel>>,
    // The view, for the form and for every link that must keep it (tabs, pager).
    trayView,
    trayQuery: trayViewQuery(trayView),
    cursorParam: cursorParamOf(trayView),
    filterLabel: filterLabel(trayView),
    listed: filteredCount(counts[view.tray], trayView) ?? byHolder ?? 0,
    // "Mes échanges (n)": the agent's threads across the three trays.
    mineCount: mine,
    list,
    drafts,
    draftCount,
    draftCursor: view.draftCursor ?? null,
    cursor: view.cursor,
  };
}

/** The threads the agent holds (issue 13 §1): one range of (elsm_id, assignee_agent_id, last_message_at, id). */
export function mineFilter(actor: AgentActor) {
  return (q: Knex.QueryBuilder) => {
    q.where("c.assignee_agent_id", actor.agentId);
  };
}

/** "Mes échanges": the agent's threads across the three trays, newest first, each with its tray. */
export async function boMine(db: Db, actor: AgentActor, cursor: Cursor | null) {
  return trayPage(db, actor, null, cursor, mineFilter(actor));
}

/** The back office's search results, across the three trays (manual §11). */
export async function boSearchResults(db: Db, actor: AgentActor, search: BoSearch, cursor: Cursor | null) {
  const filter = await boSearchFilter(db, search, actor.elsmId);
  return trayPage(db, actor, null, cursor, filter.where, "desc", filter.inOrder);
}
