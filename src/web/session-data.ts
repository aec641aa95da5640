import type { Actor } from "../domain/actor.js";
import type { ConversationState } from "../domain/conversations/states.js";
import type { RescuedForm } from "../domain/conversations/form-context.js";
import type { BoSearch, PsSearch } from "../domain/conversations/search.js";
import type { TrayView } from "../domain/conversations/tray-view.js";

/** Everything a session may hold, declared once. */
declare module "express-session" {
  interface SessionData {
    user?: Actor;
    /** When the user signed in (ms): the absolute lifetime counts from here. */
    startedAt?: number;
    /** The last keep-alive (ms): changing it makes the request write the session's new deadline. */
    activeAt?: number;
    /** The page asked for before the login, to return to after it. */
    returnTo?: string;
    /** What a form posted after the session expired held, kept for the same person's next login. */
    rescued?: RescuedForm;
    /** One-time confirmation shown after a Post/Redirect/Get. */
    flash?: string;
    /** The doctor's patient for a new question, and the beneficiaries offered when a NIR has several. */
    selectedPatientId?: number;
    patientCandidates?: number[];
    /** Search panels: sent by POST and kept here, never in a URL. */
    psSearch?: PsSearch;
    boSearch?: BoSearch;
    /** The back-office tray last opened (the workspace lists it beside every page). */
    boTray?: ConversationState;
    /** Its order and filters, as the tray's URL last gave them (the list beside a thread keeps them). */
    boTrayView?: TrayView;
    // csrf-sync adds its synchronizer token (`csrfToken`) through its own declaration.
  }
}
