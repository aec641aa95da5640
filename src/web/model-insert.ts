import type { Request, Response } from "express";
import type { AppDeps } from "../deps.js";
import type { AgentActor } from "../domain/actor.js";
import { BODY_MAX, type ComposeInput } from "../domain/conversations/compose.js";
import type { HeldFile } from "../domain/conversations/held-files.js";
import type { DraftRow } from "../domain/conversations/scope.js";
import { appendText, filledModel, type ModelParties } from "../domain/reply-models/models.js";
import { composePage, type ComposeSide, type ComposeWhere } from "./compose.js";
import { actorOf } from "./middleware/guards.js";
import { parseId } from "../domain/ids.js";

export const MODEL_INSERTED = "Le modèle a été ajouté à la fin du message : relisez-le, puis enregistrez ou envoyez. Rien n'a été envoyé ni enregistré.";

/** Who a compose form writes about, for the placeholders: the thread's parties, or the question's resolved recipient. */
function partiesOf(where: ComposeWhere): ModelParties {
  if (where.kind === "reply") {
    const c = where.conversation;
    return { patientId: c.patient_id, practitionerId: c.ps_practitioner_id, structureId: c.ps_structure_id };
  }
  if (where.kind === "elsm-new") {
    const ids = where.state.recipientIds;
    return { patientId: where.state.patientId, practitionerId: ids?.rp ?? null, structureId: ids?.rs ?? null };
  }
  return { patientId: where.patient.id, practitionerId: null, structureId: null };
}

/**
 * "Insérer le modèle" without JavaScript (action=insert_model): nothing is sent or saved; the form comes back with the
 * model's text at the end of the message and everything else as posted — the files chosen held (held-files.ts), the
 * draft named at the version shown. A model of another ELSM is an error on the list, never its text.
 * `hold`: stores this post's files for the next post (and, for a question, shows the recipient typed).
 */
export async function answerModelInsert(
  req: Request,
  res: Response,
  deps: AppDeps,
  side: ComposeSide,
  draft: DraftRow | null,
  input: ComposeInput,
  hold: () => Promise<{ where: ComposeWhere; held: HeldFile[]; fileErrors: string[] }>,
) {
  // A storage that cannot take the files: the error pages' 503 (middleware/errors.ts).
  const kept = await hold();
  const filled = await filledModel(deps.db, actorOf<AgentActor>(res), req.body?.model_id, partiesOf(kept.where));
  const body = filled.ok ? appendText(input.body, filled.text) : input.body;
  // Inserted all the same: the agent shortens it (a message over its limit cannot be sent or saved).
  const tooLong = body.length > BODY_MAX ? { body: `Avec le modèle, le message dépasse ${BODY_MAX} caractères (${body.length}) : raccourcissez-le avant de l'envoyer.` } : {};
  const typed = {
    subject: input.subject,
    body,
    submissionKey: input.submissionKey,
    confirmNoMail: input.confirmNoMail ?? false,
    held: kept.held,
    fileErrors: kept.fileErrors,
    errors: filled.ok ? tooLong : { model_id: filled.error },
    notice: filled.ok ? MODEL_INSERTED : null,
    ...(input.draftVersion ? { versionShown: input.draftVersion } : {}),
    modelId: parseId(req.body?.model_id),
    removing: input.removeAttachmentIds,
  };
  const status = filled.ok && !tooLong.body && kept.fileErrors.length === 0 ? 200 : 422;
  return composePage(req, res, deps, side, kept.where, draft, typed, status);
}
