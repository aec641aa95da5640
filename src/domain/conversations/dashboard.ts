import type { Db } from "../../db/connection.js";
import type { AgentActor } from "../actor.js";
import { parisMidnight, parisWallClock } from "../paris-time.js";
import { trayCounts } from "./lists.js";

/**
 * The picture of an échelon's work (issue 14 §5, « Tableau de bord », back office only, the agent's échelon): per
 * week, the doctors' new questions and the time to the échelon's first answer (median, 90th percentile); the
 * threads overdue now; the open threads per agent who holds them. Read by index ranges: the questions of the weeks
 * shown from (elsm_id, started_by, created_at, first_answer_at), covering; the overdue from tray_counts; the open
 * threads per holder from (elsm_id, state, assignee_agent_id, …).
 */
export const DASHBOARD_WEEKS = { min: 4, max: 52, default: 26 } as const;
const HOUR_MS = 3_600_000;

export type WeeksChoice = { ok: true; weeks: number } | { ok: false; error: string };

/** The number of weeks asked (`?semaines=`), default 26; anything but a whole number from 4 to 52 is refused in French. */
export function readWeeks(raw: unknown): WeeksChoice {
  if (raw === undefined || raw === "") return { ok: true, weeks: DASHBOARD_WEEKS.default };
  const n = typeof raw === "string" && /^[0-9]{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (n >= DASHBOARD_WEEKS.min && n <= DASHBOARD_WEEKS.max) return { ok: true, weeks: n };
  return { ok: false, error: `La période demandée n'est pas valide : choisissez de ${DASHBOARD_WEEKS.min} à ${DASHBOARD_WEEKS.max} semaines.` };
}

export type WeekFigures = {
  /** Monday 00:00, Paris time, as an ISO instant. */
  start: string;
  /** "02/11/2026": the week's Monday. */
  label: string;
  questions: number;
  answered: number;
  /** Hours to the first answer, one decimal; null when none of the week's questions is answered yet. */
  medianHours: number | null;
  p90Hours: number | null;
};

export type WorkPicture = {
  weeks: WeekFigures[];
  overdue: { elsm: number; ps: number };
  perAgent: { name: string; aTraiter: number; enCours: number }[];
  unassigned: { aTraiter: number; enCours: number };
};

/** The Mondays (Paris) of the `count` weeks up to the one holding `now`, oldest first, and the Monday after. */
export function weekStarts(now: Date, count: number): Date[] {
  const today = parisWallClock(now);
  const starts: Date[] = [];
  for (let i = count - 1; i >= -1; i -= 1) starts.push(parisMidnight(today.year, today.month, today.day - today.weekday - 7 * i));
  return starts;
}

/** The value at rank ⌈p·n⌉ of the sorted values (nearest-rank percentile), or null for none. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

const dayLabel = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", day: "2-digit", month: "2-digit", year: "numeric" });
const oneDecimal = (hours: number | null) => (hours === null ? null : Math.round(hours * 10) / 10);

export async function workPicture(db: Db, actor: AgentActor, weeks: number, now: Date): Promise<WorkPicture> {
  const starts = weekStarts(now, weeks);
  const from = starts[0]!.toISOString();
  const [questions, counts, open, agents] = await Promise.all([
    db("conversations").where({ elsm_id: actor.elsmId, started_by: "ps" }).where("created_at", ">=", from).select("created_at", "first_answer_at"),
    trayCounts(db, actor),
    db("conversations")
      .where("elsm_id", actor.elsmId)
      .whereIn("state", ["a_traiter", "en_cours"])
      .groupBy("state", "assignee_agent_id")
      .select("state", "assignee_agent_id")
      .count({ n: "*" }),
    db("agents")
      .where({ elsm_id: actor.elsmId })
      .orderBy([{ column: "last_name" }, { column: "first_name" }])
      .select("id", "first_name", "last_name"),
  ]);
  const bounds = starts.map((d) => d.toISOString());
  const buckets = bounds.slice(0, -1).map(() => ({ questions: 0, delays: [] as number[] }));
  for (const q of questions as { created_at: string; first_answer_at: string | null }[]) {
    // The week whose start is the last one not after the question (ISO instants compare as text).
    let lo = 0;
    let hi = buckets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bounds[mid]! <= q.created_at) lo = mid;
      else hi = mid - 1;
    }
    if (q.created_at >= bounds[bounds.length - 1]!) continue;
    const b = buckets[lo]!;
    b.questions += 1;
    if (q.first_answer_at) b.delays.push((Date.parse(q.first_answer_at) - Date.parse(q.created_at)) / HOUR_MS);
  }
  const held = new Map<string, number>();
  for (const r of open as { state: string; assignee_agent_id: number | null; n: number | string }[]) held.set(`${r.assignee_agent_id ?? "-"} ${r.state}`, Number(r.n));
  const of = (id: number | string, state: string) => held.get(`${id} ${state}`) ?? 0;
  return {
    weeks: buckets.map((b, i) => {
      const sorted = b.delays.sort((x, y) => x - y);
      return {
        start: bounds[i]!,
        label: dayLabel.format(starts[i]!),
        questions: b.questions,
        answered: sorted.length,
        medianHours: oneDecimal(percentile(sorted, 0.5)),
        p90Hours: oneDecimal(percentile(sorted, 0.9)),
      };
    }),
    overdue: { elsm: counts.a_traiter.overdue, ps: counts.en_cours.overdue },
    perAgent: (agents as { id: number; first_name: string; last_name: string }[]).map((a) => ({
      name: `${a.last_name} ${a.first_name}`,
      aTraiter: of(a.id, "a_traiter"),
      enCours: of(a.id, "en_cours"),
    })),
    unassigned: { aTraiter: of("-", "a_traiter"), enCours: of("-", "en_cours") },
  };
}

/** The figures as CSV (one week per line; `;` and a decimal comma, as French spreadsheets open it), with a BOM for Excel. */
export function workPictureCsv(p: WorkPicture): string {
  const hours = (h: number | null) => (h === null ? "" : String(h).replace(".", ","));
  // A name is text: never a formula for the spreadsheet, never a new cell or line.
  const text = (s: string) => `"${(/^[=+\-@\t\r]/.test(s) ? `'${s}` : s).replaceAll('"', '""')}"`;
  const lines = [
    "Semaine du;Questions reçues;Dont répondues;Délai médian de première réponse (heures);90e centile (heures)",
    ...p.weeks.map((w) => [w.label, w.questions, w.answered, hours(w.medianHours), hours(w.p90Hours)].join(";")),
  ];
  lines.push(
    "",
    "En retard maintenant;Nombre",
    `Réponse attendue de l'échelon;${p.overdue.elsm}`,
    `Réponse attendue du professionnel de santé;${p.overdue.ps}`,
    "",
    "Échanges ouverts par agent;A TRAITER;EN COURS",
    ...p.perAgent.map((a) => [text(a.name), a.aTraiter, a.enCours].join(";")),
    ["Non attribués", p.unassigned.aTraiter, p.unassigned.enCours].join(";"),
  );
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}
