import type { Router } from "express";
import type { AppDeps } from "../../deps.js";
import type { AgentActor } from "../../domain/actor.js";
import { DASHBOARD_WEEKS, readWeeks, workPicture, workPictureCsv, type WorkPicture } from "../../domain/conversations/dashboard.js";
import { barChart } from "../charts.js";
import { actorOf } from "../middleware/guards.js";
import type { RenderWorkspace } from "../workspace.js";

const hours = (n: number) => String(n).replace(".", ",");

/** What the template shows: the two charts (geometry and text alternative) beside the figures. */
function chartsOf(p: WorkPicture) {
  const labels = p.weeks.map((w) => w.label);
  const first = labels[0];
  const last = labels[labels.length - 1];
  const total = p.weeks.reduce((n, w) => n + w.questions, 0);
  const busiest = p.weeks.reduce((a, w) => (w.questions > a.questions ? w : a), p.weeks[0]!);
  const answered = p.weeks.filter((w) => w.medianHours !== null);
  const slowest = answered.reduce<(typeof answered)[number] | null>((a, w) => (a === null || (w.p90Hours ?? 0) > (a.p90Hours ?? 0) ? w : a), null);
  return {
    questions: {
      chart: barChart(labels, [{ name: "Questions reçues", className: "series-a", values: p.weeks.map((w) => w.questions) }], "questions"),
      summary: `Questions reçues par semaine, du ${first} au ${last} : ${total} au total${total ? `, au plus ${busiest.questions} la semaine du ${busiest.label}` : ""}. Les chiffres de chaque semaine sont dans le tableau qui suit.`,
    },
    delays: {
      chart: barChart(
        labels,
        [
          { name: "Délai médian", className: "series-a", values: p.weeks.map((w) => w.medianHours) },
          { name: "90e centile", className: "series-b", values: p.weeks.map((w) => w.p90Hours) },
        ],
        "heures",
        hours,
      ),
      summary: slowest
        ? `Délai de première réponse par semaine, en heures, médiane et 90e centile, du ${first} au ${last} : le 90e centile le plus long est de ${hours(slowest.p90Hours!)} heures, la semaine du ${slowest.label}. Les chiffres de chaque semaine sont dans le tableau qui suit.`
        : `Délai de première réponse par semaine, du ${first} au ${last} : aucune question de la période n'a encore reçu de réponse.`,
    },
  };
}

/** « Tableau de bord » (/bo/tableau-de-bord, issue 14 §5): the échelon's figures, and the same as CSV. */
export function dashboardRoutes(router: Router, deps: AppDeps, render: RenderWorkspace): void {
  const { db } = deps;
  router.get("/bo/tableau-de-bord", async (req, res) => {
    const choice = readWeeks(req.query.semaines);
    const weeks = choice.ok ? choice.weeks : DASHBOARD_WEEKS.default;
    const picture = await workPicture(db, actorOf<AgentActor>(res), weeks, new Date());
    return render(
      req,
      res,
      "bo/dashboard",
      { title: "Tableau de bord", weeks, choices: [4, 8, 13, 26, 52], error: choice.ok ? null : choice.error, picture, charts: chartsOf(picture), hours },
      choice.ok ? 200 : 400,
    );
  });
  router.get("/bo/tableau-de-bord.csv", async (req, res) => {
    const choice = readWeeks(req.query.semaines);
    if (!choice.ok) return res.status(400).type("text/plain").send(choice.error);
    const picture = await workPicture(db, actorOf<AgentActor>(res), choice.weeks, new Date());
    res.type("text/csv; charset=utf-8").attachment(`tableau-de-bord-${choice.weeks}-semaines.csv`).send(workPictureCsv(picture));
  });
}
