import type { Request, Response, Router } from "express";
import type { AppDeps } from "../../deps.js";
import type { AgentActor } from "../../domain/actor.js";
import { deleteReason, listReasons, saveReason, type ClosureReasonRow, type ReasonErrors, type ReasonValues } from "../../domain/closure-reasons/reasons.js";
import { errorItems } from "../forms.js";
import { reasonOf } from "../loaders.js";
import { flash } from "../middleware/flash.js";
import { actorOf, contextOf } from "../middleware/guards.js";
import type { RenderWorkspace } from "../workspace.js";

/**
 * The échelon's closure reasons (/bo/motifs-cloture…, issue 14 §3): list, create, edit, delete (a confirmation page
 * first). A reason of another ELSM is a 404 (loaders.ts).
 */
export function closureReasonRoutes(router: Router, deps: AppDeps, render: RenderWorkspace): void {
  const { db } = deps;
  const formPage = (req: Request, res: Response, reason: ClosureReasonRow | null, values: ReasonValues, errors: ReasonErrors = {}, status = 200) =>
    render(
      req,
      res,
      "bo/closure-reason-form",
      {
        title: reason ? "Modifier le motif de clôture" : "Nouveau motif de clôture",
        reason: reason ? { id: reason.id } : null,
        values,
        errors,
        errorItems: errorItems({ "reason-label": errors.label }),
      },
      status,
    );
  const saved = async (req: Request, res: Response, reason: ClosureReasonRow | null) => {
    const outcome = await saveReason(db, contextOf<AgentActor>(req, res), reason, req.body);
    if (!outcome.ok) return formPage(req, res, reason, outcome.values, outcome.errors, 422);
    flash(req, reason ? "Le motif de clôture a été enregistré." : "Le motif de clôture a été créé.");
    res.redirect(303, "/bo/motifs-cloture");
  };

  router.get("/bo/motifs-cloture", async (req, res) => {
    const reasons = (await listReasons(db, actorOf(res))).map((r) => ({ id: r.id, label: r.label }));
    return render(req, res, "bo/closure-reasons", { title: "Motifs de clôture", reasons });
  });
  router.get("/bo/motifs-cloture/nouveau", (req, res) => formPage(req, res, null, { label: "" }));
  router.post("/bo/motifs-cloture", (req, res) => saved(req, res, null));
  router.get("/bo/motifs-cloture/:reasonId", (req, res) => {
    const reason = reasonOf(res);
    return formPage(req, res, reason, { label: reason.label });
  });
  router.post("/bo/motifs-cloture/:reasonId", (req, res) => saved(req, res, reasonOf(res)));
  router.get("/bo/motifs-cloture/:reasonId/supprimer", (req, res) => {
    const reason = reasonOf(res);
    return render(req, res, "bo/confirm-closure-reason-delete", { title: "Supprimer le motif de clôture", reason: { id: reason.id, label: reason.label } });
  });
  router.post("/bo/motifs-cloture/:reasonId/supprimer", async (req, res) => {
    await deleteReason(db, contextOf<AgentActor>(req, res), reasonOf(res));
    flash(req, "Le motif de clôture a été supprimé.");
    res.redirect(303, "/bo/motifs-cloture");
  });
}
