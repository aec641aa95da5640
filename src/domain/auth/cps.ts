import { audit } from "../audit/audit.js";
import type { Db } from "../../db/connection.js";
import type { AgentActor, PsActor } from "../actor.js";
import { parseId } from "../ids.js";
import { isPinShape, pinMatches } from "./pin.js";

export const MAX_PIN_ATTEMPTS = 3;

/** A refused login names the field the message is about (the error summary links to it). */
export type LoginResult<A> = { ok: true; actor: A } | { ok: false; field: "card" | "pin" | "agent"; message: string };

/**
 * The doctor signed in, acting as themselves (liberal) or for a structure: a salaried doctor acts under the structure
 * (manual §1) but sees which colleague is signed in. The one rule for both doors (the card, Pro Santé Connect).
 */
export function psActor(practitioner: { id: number; first_name: string; last_name: string }, structure: { id: number; raison_sociale: string; finess: string } | null): PsActor {
  const name = `Dr ${practitioner.first_name} ${practitioner.last_name}`;
  return {
    kind: "ps",
    practitionerId: practitioner.id,
    structureId: structure?.id ?? null,
    displayName: structure ? `${name} — ${structure.raison_sociale} (FINESS ${structure.finess})` : name,
  };
}

/** The agent signed in. */
export function agentActor(agent: { id: number; elsm_id: number; first_name: string; last_name: string }): AgentActor {
  return { kind: "agent", agentId: agent.id, elsmId: agent.elsm_id, displayName: `${agent.last_name} ${agent.first_name}` };
}

/** Simulated CPS card login: the card's PIN, three wrong PINs block the card (as a real CPS does). */
export async function cpsLogin(db: Db, rawCardId: unknown, pin: string, ip: string): Promise<LoginResult<PsActor>> {
  const cardId = parseId(rawCardId);
  const card = cardId
    ? await db("practitioners as p").leftJoin("structures as s", "s.id", "p.structure_id").where("p.id", cardId).first("p.*", "s.raison_sociale", "s.finess")
    : null;
  if (!card) return { ok: false, field: "card", message: "Sélectionnez votre carte CPS dans la liste." };
  const anonymous = { actor: null, ip };
  if (card.card_blocked_at) {
    await audit(db, anonymous, "login.card_blocked", { type: "practitioner", id: card.id });
    return {
      ok: false,
      field: "card",
      message: "Cette carte CPS est bloquée après 3 codes PIN erronés. Contactez votre gestionnaire de cartes (démonstration : npm run demo:reset).",
    };
  }
  if (!isPinShape(pin) || !pinMatches(pin, card.pin_hash)) {
    // Counted in the database in one statement, so that wrong PINs sent in parallel still add up.
    const attempts = await db.transaction(async (trx) => {
      const [row] = await trx("practitioners").where({ id: card.id }).increment("failed_pin_attempts", 1).returning("failed_pin_attempts");
      const count = Number(typeof row === "object" ? (row as { failed_pin_attempts: number }).failed_pin_attempts : row);
      if (count >= MAX_PIN_ATTEMPTS) await trx("practitioners").where({ id: card.id }).whereNull("card_blocked_at").update({ card_blocked_at: new Date().toISOString() });
      await audit(trx, anonymous, "login.failed_pin", { type: "practitioner", id: card.id });
      return count;
    });
    const blocked = attempts >= MAX_PIN_ATTEMPTS;
    const left = MAX_PIN_ATTEMPTS - attempts;
    return {
      ok: false,
      field: "pin",
      message: blocked
        ? "Code PIN erroné. Après 3 codes erronés, votre carte CPS est désormais bloquée."
        : `Code PIN erroné. Il vous reste ${left} essai${left > 1 ? "s" : ""} avant le blocage de la carte.`,
    };
  }
  const actor = psActor(card, card.structure_id ? { id: card.structure_id, raison_sociale: card.raison_sociale, finess: card.finess } : null);
  await db.transaction(async (trx) => {
    if (card.failed_pin_attempts) await trx("practitioners").where({ id: card.id }).update({ failed_pin_attempts: 0 });
    await audit(trx, { actor, ip }, "login");
  });
  return { ok: true, actor };
}

/** Simulated agent login (the real one is the Assurance Maladie's own directory). */
export async function agentLogin(db: Db, rawAgentId: unknown, ip: string): Promise<LoginResult<AgentActor>> {
  const agentId = parseId(rawAgentId);
  const agent = agentId ? await db("agents").where({ id: agentId }).first() : null;
  if (!agent) return { ok: false, field: "agent", message: "Sélectionnez votre nom dans la liste des agents." };
  const actor = agentActor(agent);
  await audit(db, { actor, ip }, "login");
  return { ok: true, actor };
}
