import type { Actor, PsActor } from "../domain/actor.js";
import type { OidcFlow } from "../domain/auth/oidc.js";
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
    /** A real login in progress at an OpenID provider (issue 16): its state, nonce, PKCE verifier and start time. */
    oidcFlow?: OidcFlow & { door: "psc" | "sso" };
    /** « Pour qui agissez-vous ? »: the offers of a PSC login, before the session is created (same 10 minutes). */
    pscChoice?: { options: PsActor[]; idToken: string; createdAt: number };
    /** The id token of a real login: the only token kept, for the provider's logout (id_token_hint). */
    oidcLogout?: { door: "psc" | "sso"; idToken: string };
    // csrf-sync adds its synchronizer token (`csrfToken`) through its own declaration.
  }
}
