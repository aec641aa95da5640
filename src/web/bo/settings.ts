import type { Request, Response, Router } from "express";
import type { AppDeps } from "../../deps.js";
import type { AgentActor } from "../../domain/actor.js";
import { ANSWER_DAYS, answerDaysOf, saveAnswerDays, type AnswerDaysValues, type SaveAnswerDaysOutcome } from "../../domain/conversations/deadlines.js";
import { errorItems } from "../forms.js";
import { flash } from "../middleware/flash.js";
import { actorOf, contextOf } from "../middleware/guards.js";
import type { RenderWorkspace } from "../workspace.js";

type Errors = Extract<SaveAnswerDaysOutcome, { ok: false }>["errors"];

/** The échelon's answer delays (/bo/delais, issue 14 §1): a form of two numbers, for any agent of the échelon. */
export function settingsRoutes(router: Router, deps: AppDeps, render: RenderWorkspace): void {
  const { db } = deps;
  const page = (req: Request, res: Response, values: AnswerDaysValues, errors: Errors = {}, status = 200) =>
    render(
      req,
      res,
      "bo/delays",
      {
        title: "Délais de réponse",
        range: ANSWER_DAYS,
        values,
        errors,
        errorItems: errorItems({ "elsm-days": errors.elsm_days, "ps-days": errors.ps_days }),
      },
      status,
    );
  router.get("/bo/delais", async (req, res) => {
    const days = await answerDaysOf(db, actorOf<AgentActor>(res).elsmId);
    return page(req, res, { elsm_days: String(days.elsm), ps_days: String(days.ps) });
  });
  router.post("/bo/delais", async (req, res) => {
    const outcome = await saveAnswerDays(db, contextOf<AgentActor>(req, res), req.body);
    if (!outcome.ok) return page(req, res, outcome.values, outcome.errors, 422);
    flash(req, "Les délais de réponse ont été enregistrés.");
    res.redirect(303, "/bo/delais");
  });
}
