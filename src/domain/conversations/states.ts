import type { Actor } from "../actor.js";

/**
 * The life of a conversation (manual §4, §6, §10), in one place:
 * - a PS message (new or reply) puts it in A TRAITER, reopening a closed one;
 * - an ELSM message puts it in EN COURS and makes the writing agent its rédacteur;
 * - the ELSM closes it (CLOS): it stays readable, the ELSM can no longer write in it, the PS side still can.
 */
export type ConversationState = "a_traiter" | "en_cours" | "clos";

/** Which side of the exchange an actor writes from. */
export type Side = "ps" | "elsm";

export function sideOf(actor: Actor): Side {
  return actor.kind === "ps" ? "ps" : "elsm";
}

export function otherSide(side: Side): Side {
  return side === "ps" ? "elsm" : "ps";
}

/** The state a message written by `side` puts its conversation in. */
export function stateAfterMessage(side: Side): ConversationState {
  return side === "ps" ? "a_traiter" : "en_cours";
}

/** The ELSM can neither reply nor draft in a closed thread; the PS side always can. */
export function canWrite(side: Side, state: ConversationState): boolean {
  return side === "ps" || !isClosed(state);
}

/** Only an open thread can be closed (closing a closed one again changes nothing). */
export function isClosed(state: ConversationState): boolean {
  return state === "clos";
}

export const CLOSED_FOR_ELSM = "Cette conversation est close : l'échelon ne peut plus y répondre ni y préparer de brouillon.";

/**
 * The échelon's reply (or reply draft) posted to a thread closed since its form was loaded: refused, and
 * said so with who closed it (null: not known, e.g. a thread closed before the audit trail).
 */
export function closedWhileTyping(sending: boolean, closer: string | null): string {
  const by = closer ? ` par ${closer}` : "";
  return `Ce fil a été clos${by} pendant votre saisie : ${sending ? "la réponse n'a pas été envoyée" : "le brouillon n'a pas été enregistré"}.`;
}

/** The three trays of the back office, one per state (manual §6). */
export const TRAYS: { key: ConversationState; slug: string; label: string }[] = [
  { key: "a_traiter", slug: "a-traiter", label: "A TRAITER" },
  { key: "en_cours", slug: "en-cours", label: "EN COURS" },
  { key: "clos", slug: "clos", label: "CLOS" },
];

export const TRAY_LABELS = Object.fromEntries(TRAYS.map((t) => [t.key, t.label])) as Record<ConversationState, string>;

export function trayBySlug(slug: string): (typeof TRAYS)[number] | null {
  return TRAYS.find((t) => t.slug === slug) ?? null;
}
