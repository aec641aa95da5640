import type { Db } from "../../db/connection.js";
import type { AgentActor, PsActor } from "../actor.js";
import { patientView } from "../directory/cards.js";
import { patientById } from "../directory/queries.js";
import { newDrafts, psList, psUnreadCount, trayCounts, trayPage, type Cursor } from "./lists.js";
import { boSearchFilter, psSearchFilter, type BoSearch, type PsSearch } from "./search.js";
import type { ConversationState } from "./states.js";

/** The column beside every doctor's page (manual §5): the selected patient, the list (searched or not), drafts, unread count. */
export async function psWorkspace(db: Db, actor: PsActor, view: { cursor: Cursor | null; search: PsSearch | null; selectedPatientId: number | null }) {
  const filter = view.search ? psSearchFilter(db, view.search) : undefined;
  const [selected, list, unread, drafts] = await Promise.all([
    view.selectedPatientId ? patientById(db, view.selectedPatientId) : null,
    psList(db, actor, view.cursor, filter),
    psUnreadCount(db, actor),
    // A search shows matching conversations only.
    view.search ? [] : newDrafts(db, actor),
  ]);
  return { list, unread, drafts, search: view.search, cursor: view.cursor, patient: patientView(selected) };
}

/** The column beside every back-office page (manual §6): the tray counts and the open tray; EN COURS lists the new-question drafts first. */
export async function boWorkspace(db: Db, actor: AgentActor, view: { tray: ConversationState; cursor: Cursor | null }) {
  const [counts, list, drafts] = await Promise.all([
    trayCounts(db, actor),
    trayPage(db, actor, view.tray, view.cursor),
    view.tray === "en_cours" && !view.cursor ? newDrafts(db, actor) : [],
  ]);
  return { tray: view.tray, counts, list, drafts, cursor: view.cursor };
}

/** The back office's search results, across the three trays (manual §11). */
export function boSearchResults(db: Db, actor: AgentActor, search: BoSearch, cursor: Cursor | null) {
  return trayPage(db, actor, null, cursor, boSearchFilter(db, search));
}
