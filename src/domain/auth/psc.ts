import type { Db } from "../../db/connection.js";
import type { AgentActor, PsActor } from "../actor.js";
import { audit, type AuditAction } from "../audit/audit.js";
import { agentActor, psActor } from "./cps.js";

/**
 * Who signs in through an OpenID provider (issue 16): Pro Santé Connect's userinfo resolved to the doctor and whom
 * they act for; the insurer's SSO claim resolved to the agent. Refusals name their reason (audited, shown in French).
 */

/** eIDAS levels by rank: PSC has sent `eidas3` where `eidas1` was asked; a string comparison would not do. */
const ACR_RANK: Record<string, number> = { eidas1: 1, eidas2: 2, eidas3: 3 };
export const MINIMUM_ACR = "eidas1";

export function acrSufficient(acr: unknown): boolean {
  return typeof acr === "string" && (ACR_RANK[acr] ?? 0) >= ACR_RANK[MINIMUM_ACR]!;
}

const IDNPS_RPPS = /^8(\d{11})$/;
const BARE_RPPS = /^\d{11}$/;

/**
 * The RPPS number of a PSC userinfo: SubjectNameID is the IDNPS, "8" + the 11-digit RPPS (a "0" + ADELI is not an
 * RPPS: such a professional is not known here); otherwise `otherIds` may list it (bare, IDNPS, or `{ identifiant }`).
 */
export function rppsOf(userinfo: Record<string, unknown>): string | null {
  const subject = typeof userinfo.SubjectNameID === "string" ? userinfo.SubjectNameID : "";
  const fromSubject = IDNPS_RPPS.exec(subject);
  if (fromSubject) return fromSubject[1]!;
  const others = Array.isArray(userinfo.otherIds) ? userinfo.otherIds : [];
  for (const other of others) {
    const id = typeof other === "string" ? other : typeof other === "object" && other ? String((other as { identifiant?: unknown }).identifiant ?? "") : "";
    if (BARE_RPPS.test(id)) return id;
    const idnps = IDNPS_RPPS.exec(id);
    if (idnps) return idnps[1]!;
  }
  return null;
}

type Activity = { codeModeExercice?: unknown; numeroFinessSite?: unknown };

/** `SubjectRefPro.exercices[].activities[]`: where the professional practises, as PSC declares it. */
function activitiesOf(userinfo: Record<string, unknown>): Activity[] {
  const ref = userinfo.SubjectRefPro as { exercices?: { activities?: Activity[] }[] } | undefined;
  const exercices = Array.isArray(ref?.exercices) ? ref.exercices : [];
  return exercices.flatMap((e) => (Array.isArray(e?.activities) ? e.activities.filter((a) => typeof a === "object" && a !== null) : []));
}

export type RefusalReason = "unknown_rpps" | "no_activity" | "acr_too_low" | "unknown_agent";

export const REFUSAL_MESSAGES: Record<RefusalReason, string> = {
  unknown_rpps: "Votre numéro RPPS n'est pas connu de ce service. Si vous pensez qu'il devrait l'être, contactez l'échelon local du service médical.",
  no_activity:
    "Aucune de vos activités déclarées dans Pro Santé Connect ne correspond à un exercice libéral ni à une structure connue de ce service : la connexion n'est pas possible.",
  acr_too_low: "Le niveau d'authentification reçu de Pro Santé Connect est insuffisant. Connectez-vous avec votre carte CPS ou l'application e-CPS.",
  unknown_agent: "Votre compte Assurance Maladie n'est associé à aucun agent d'un échelon médical de ce service. Contactez votre administrateur.",
};

/** The audit action of each refusal (the reason is the action: the audit rows hold ids only). */
const REFUSAL_ACTIONS: Record<RefusalReason, AuditAction> = {
  unknown_rpps: "login.psc.unknown_rpps",
  no_activity: "login.psc.no_activity",
  acr_too_low: "login.psc.acr_too_low",
  unknown_agent: "login.sso.unknown_agent",
};

export type Refused = { ok: false; reason: RefusalReason; message: string };
export type PscResolution = { ok: true; actor: PsActor } | { ok: "choice"; options: PsActor[] } | Refused;

async function refuse(db: Db, ip: string, reason: RefusalReason, practitionerId?: number): Promise<Refused> {
  await audit(db, { actor: null, ip }, REFUSAL_ACTIONS[reason], practitionerId ? { type: "practitioner", id: practitionerId } : undefined);
  return { ok: false, reason, message: REFUSAL_MESSAGES[reason] };
}

/**
 * A PSC login resolved: the doctor by RPPS; each activity whose FINESS is a structure known here offers that structure,
 * a liberal activity (`codeModeExercice` L) without such a FINESS offers the doctor's own practice. One offer signs in
 * (audited `login`); several ask « Pour qui agissez-vous ? » first (chooseActor). Refused: audited with the reason.
 */
export async function resolvePscLogin(db: Db, idClaims: Record<string, unknown>, userinfo: Record<string, unknown>, ip: string): Promise<PscResolution> {
  if (!acrSufficient(idClaims.acr)) return refuse(db, ip, "acr_too_low");
  const rpps = rppsOf(userinfo);
  const practitioner = rpps ? await db("practitioners").where({ rpps }).first("id", "first_name", "last_name") : null;
  if (!practitioner) return refuse(db, ip, "unknown_rpps");

  const activities = activitiesOf(userinfo);
  const finessList = [...new Set(activities.map((a) => String(a.numeroFinessSite ?? "")).filter((f) => /^\d[\dAB]\d{7}$/.test(f)))];
  const structures = finessList.length ? await db("structures").whereIn("finess", finessList).orderBy("raison_sociale").select("id", "raison_sociale", "finess") : [];
  const known = new Set(structures.map((s) => s.finess));
  const liberal = activities.some((a) => a.codeModeExercice === "L" && !known.has(String(a.numeroFinessSite ?? "")));
  const options = [...(liberal ? [psActor(practitioner, null)] : []), ...structures.map((s) => psActor(practitioner, s))];
  if (options.length === 0) return refuse(db, ip, "no_activity", practitioner.id);
  if (options.length > 1) return { ok: "choice", options };
  await audit(db, { actor: options[0]!, ip }, "login");
  return { ok: true, actor: options[0]! };
}

/** The choice made on « Pour qui agissez-vous ? »: one of the offers kept server-side, by its position; audited `login`. */
export async function chooseActor(db: Db, options: PsActor[], rawIndex: unknown, ip: string): Promise<PsActor | null> {
  const index = typeof rawIndex === "string" && /^\d{1,2}$/.test(rawIndex) ? Number(rawIndex) : -1;
  const actor = options[index];
  if (!actor) return null;
  await audit(db, { actor, ip }, "login");
  return actor;
}

/** The labels of the choice: the liberal practice, or the structure with its FINESS. */
export function choiceLabel(actor: PsActor): string {
  return actor.structureId ? actor.displayName.replace(/^Dr [^—]+— /, "") : `${actor.displayName} — exercice libéral`;
}

/** An agent signed in by the insurer's SSO: the claim AGENT_OIDC_ID_CLAIM names the agent (agents.sso_id). */
export async function resolveAgentLogin(db: Db, claims: Record<string, unknown>, idClaim: string, ip: string): Promise<{ ok: true; actor: AgentActor } | Refused> {
  const value = claims[idClaim];
  const ssoId = typeof value === "string" || typeof value === "number" ? String(value) : "";
  const agent = ssoId ? await db("agents").where({ sso_id: ssoId }).first("id", "elsm_id", "first_name", "last_name") : null;
  if (!agent) return refuse(db, ip, "unknown_agent");
  const actor = agentActor(agent);
  await audit(db, { actor, ip }, "login");
  return { ok: true, actor };
}

/** A flow that failed (state, nonce, code, expiry, provider): audited without any token or code. */
export async function flowFailed(db: Db, door: "psc" | "sso", expired: boolean, ip: string): Promise<void> {
  await audit(db, { actor: null, ip }, `login.${door}.${expired ? "flow_expired" : "flow_failed"}`);
}
