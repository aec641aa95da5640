import type { Request, Response, Router } from "express";
import type { AppDeps } from "../../deps.js";
import type { AgentActor } from "../../domain/actor.js";
import { loadConversation } from "../../domain/conversations/scope.js";
import { deleteModel, filledModel, listModels, saveModel, type ModelErrors, type ModelParties, type ModelValues, type ReplyModelRow } from "../../domain/reply-models/models.js";
import { formContextOf } from "../compose.js";
import { errorItems } from "../forms.js";
import { modelOf } from "../loaders.js";
import { flash } from "../middleware/flash.js";
import { actorOf, contextOf } from "../middleware/guards.js";
import type { RenderWorkspace } from "../workspace.js";

const NO_PARTIES: ModelParties = { patientId: null, practitionerId: null, structureId: null };

/**
 * The échelon's saved replies (/bo/modeles…): list, create, edit, delete (a confirmation page first), and the filled
 * text of one for the compose form's "Insérer un modèle" with JavaScript. A model of another ELSM is a 404 (loaders.ts).
 */
export function replyModelRoutes(router: Router, deps: AppDeps, render: RenderWorkspace): void {
  const { db } = deps;
  const formPage = (req: Request, res: Response, model: ReplyModelRow | null, values: ModelValues, errors: ModelErrors = {}, status = 200) =>
    render(
      req,
      res,
      "bo/model-form",
      {
        title: model ? "Modifier le modèle de réponse" : "Nouveau modèle de réponse",
        modelsPage: true,
        model: model ? { id: model.id } : null,
        values,
        errors,
        errorItems: errorItems({ "model-title": errors.title, "model-body": errors.body }),
      },
      status,
    );
  const saved = async (req: Request, res: Response, model: ReplyModelRow | null) => {
    const outcome = await saveModel(db, contextOf<AgentActor>(req, res), model, req.body);
    if (!outcome.ok) return formPage(req, res, model, outcome.values, outcome.errors, 422);
    flash(req, model ? "Le modèle de réponse a été enregistré." : "Le modèle de réponse a été créé.");
    res.redirect(303, "/bo/modeles");
  };

  router.get("/bo/modeles", async (req, res) => {
    const models = (await listModels(db, actorOf(res))).map((m) => ({ id: m.id, title: m.title }));
    return render(req, res, "bo/models", { title: "Modèles de réponse", modelsPage: true, models });
  });
  router.get("/bo/modeles/nouveau", (req, res) => formPage(req, res, null, { title: "", body: "" }));
  router.post("/bo/modeles", (req, res) => saved(req, res, null));
  router.get("/bo/modeles/:modelId", (req, res) => {
    const model = modelOf(res);
    return formPage(req, res, model, { title: model.title, body: model.body });
  });
  router.post("/bo/modeles/:modelId", (req, res) => saved(req, res, modelOf(res)));
  router.get("/bo/modeles/:modelId/supprimer", (req, res) => {
    const model = modelOf(res);
    return render(req, res, "bo/confirm-model-delete", { title: "Supprimer le modèle de réponse", modelsPage: true, model: { id: model.id, title: model.title } });
  });
  router.post("/bo/modeles/:modelId/supprimer", async (req, res) => {
    await deleteModel(db, contextOf<AgentActor>(req, res), modelOf(res));
    flash(req, "Le modèle de réponse a été supprimé.");
    res.redirect(303, "/bo/modeles");
  });

  // With JavaScript, "Insérer le modèle" appends this text to the message in place (public/js/app.js): the form, and the
  // files chosen in it, stay as they are. Filled for the form's signed context (its thread, or the question's recipient).
  router.get("/bo/modeles/:modelId/texte", async (req, res) => {
    const actor = actorOf<AgentActor>(res);
    const filled = await filledModel(db, actor, String(modelOf(res).id), await partiesOfContext(deps, res, req.query.ctx));
    if (!filled.ok) return res.status(404).type("text/plain").send(filled.error);
    res.type("text/plain").send(filled.text);
  });
}

/** Who the form whose context this is writes about: its thread's parties (through the agent's scope) or its question's. */
async function partiesOfContext(deps: AppDeps, res: Response, token: unknown): Promise<ModelParties> {
  const reply = formContextOf(deps, res, token, "reply");
  if (reply?.c) {
    const c = await loadConversation(deps.db, actorOf(res), String(reply.c));
    return { patientId: c.patient_id, practitionerId: c.ps_practitioner_id, structureId: c.ps_structure_id };
  }
  const question = formContextOf(deps, res, token, "elsm-new");
  if (question) return { patientId: question.p ?? null, practitionerId: question.rp ?? null, structureId: question.rs ?? null };
  return NO_PARTIES;
}
