import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { percentile, weekStarts } from "../../src/domain/conversations/dashboard.js";
import { deadlinePass } from "../../src/domain/conversations/deadlines.js";
import { $, annaAin, bunyel, drGene, paulHerault, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { elsmWrites, sendPsQuestion } from "../helpers/ps.js";

/** Issue 14 §5: the échelon's « Tableau de bord » — weeks of questions, time to the first answer, overdue, open per agent. */
const HOUR = 3_600_000;
let app: TestApp;
let anna: Session;
let gene: Session;

beforeAll(async () => {
  app = await startTestApp();
  anna = await signInAgent(app, annaAin);
  gene = await signInPs(app, drGene);
});
afterAll(async () => {
  await app.close();
});

const psQuestion = (subject: string) => sendPsQuestion(gene, bunyel, subject, "Bonjour.");

/** A table's body as rows of cell texts. */
function table(html: string, id: string): string[][] {
  const page = $(html);
  return page(`#${id} tbody tr`)
    .map((_, tr) => [
      page(tr)
        .find("th, td")
        .map((__, c) => page(c).text().trim())
        .get(),
    ])
    .get();
}

describe("the weeks", () => {
  it("start on Mondays at midnight in Paris, summer time or not; the percentile is the nearest rank", () => {
    const starts = weekStarts(new Date("2026-11-04T10:00:00Z"), 26);
    expect(starts).toHaveLength(27);
    expect(starts[25]!.toISOString()).toBe("2026-11-01T23:00:00.000Z"); // Monday 2 November, 00:00 in Paris (UTC+1)
    expect(starts[26]!.toISOString()).toBe("2026-11-08T23:00:00.000Z");
    expect(starts.find((d) => d.toISOString().startsWith("2026-10-"))!.toISOString()).toMatch(/T22:00:00\.000Z$/); // October: UTC+2
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([7], 0.9)).toBe(7);
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe("« Tableau de bord »", () => {
  it("counts this week's questions, the time to their first answer (median, 90th percentile) and shows each figure in its table", async () => {
    const ids: number[] = [];
    for (let i = 1; i <= 10; i++) ids.push(await psQuestion(`Question du tableau n° ${i}`));
    // Answered after 1, 2, … 9 hours (the tenth not yet): median of nine = the 5th, 90th percentile = the 9th.
    for (const [i, id] of ids.slice(0, 9).entries()) {
      await elsmWrites(app, "AIN", id, "Réponse.");
      const c = await app.db("conversations").where({ id }).first("created_at");
      await app
        .db("conversations")
        .where({ id })
        .update({ first_answer_at: new Date(Date.parse(c.created_at) + (i + 1) * HOUR).toISOString() });
    }
    const res = await anna.agent.get("/bo/tableau-de-bord");
    expect(res.status).toBe(200);
    const weeks = table(res.text, "table-questions");
    expect(weeks).toHaveLength(26);
    expect(weeks[25]).toEqual([expect.stringMatching(/^\d\d\/\d\d\/\d{4}$/), "10", "9"]);
    expect(weeks.slice(0, 25).every((w) => w[1] === "0")).toBe(true);
    expect(table(res.text, "table-delays")[25]).toEqual([weeks[25]![0], "5", "9"]);
    const page = $(res.text);
    expect(page("#chart-questions").attr("role")).toBe("img");
    expect(page("#chart-questions-title").text()).toBe("Questions reçues par semaine");
    expect(page("#chart-questions-desc").text()).toContain("10 au total");
    // The chart's bars carry the same figures as the table.
    expect(page("#chart-questions rect title").last().text()).toContain("Questions reçues : 10 questions");
    expect(
      page("#chart-delays rect title")
        .map((_, t) => page(t).text())
        .get(),
    ).toEqual([`${weeks[25]![0]} — Délai médian : 5 heures`, `${weeks[25]![0]} — 90e centile : 9 heures`]);
  });

  it("counts the overdue threads and the open threads per holder; another échelon's figures are its own", async () => {
    const id = await psQuestion("Prise par Anna");
    await anna.agent.post(`/bo/conversations/${id}/attribution`).type("form").send({ _csrf: anna.csrf, action: "prendre", attendu: "aucun" });
    await deadlinePass(app.db, new Date(Date.now() + 16 * 24 * HOUR));
    const res = await anna.agent.get("/bo/tableau-de-bord");
    const agents = table(res.text, "table-agents");
    expect(agents.find((r) => r[0] === "AIN Anna")).toEqual(["AIN Anna", "1", "0"]);
    const overdue = Number(
      (
        await app
          .db("tray_counts")
          .where({ elsm_id: (await app.db("conversations").where({ id }).first("elsm_id")).elsm_id, state: "a_traiter" })
          .first("overdue")
      ).overdue,
    );
    expect(overdue).toBeGreaterThan(0);
    expect($(res.text)("#overdue-title + ul li").first().text()).toContain(`${overdue} échange`);
    const paul = await signInAgent(app, paulHerault);
    const his = await paul.agent.get("/bo/tableau-de-bord");
    expect(table(his.text, "table-questions").every((w) => w[1] === "0")).toBe(true);
    expect(table(his.text, "table-agents").map((r) => r[0])).not.toContain("AIN Anna");
  });

  it("downloads the same figures as CSV (semicolons, decimal commas), for the period chosen", async () => {
    const res = await anna.agent.get("/bo/tableau-de-bord.csv?semaines=8");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers["content-disposition"]).toContain("tableau-de-bord-8-semaines.csv");
    const lines = res.text.replace(/^\uFEFF/, "").split("\r\n");
    expect(lines[0]).toBe("Semaine du;Questions reçues;Dont répondues;Délai médian de première réponse (heures);90e centile (heures)");
    expect(lines.slice(1, 9)).toHaveLength(8);
    expect(lines[8]).toMatch(/^\d\d\/\d\d\/\d{4};11;9;5;9$/);
    expect(lines).toContain('"AIN Anna";1;0');
    expect((await anna.agent.get("/bo/tableau-de-bord?semaines=8")).text).toContain('href="/bo/tableau-de-bord.csv?semaines=8"');
  });

  it("a period that is not 4 to 52 whole weeks is refused in French, on the page and for the CSV — never a 500", async () => {
    for (const forged of ["3", "53", "0", "-4", "26.5", "abc", "1e2", "9999999999"]) {
      const page = await anna.agent.get(`/bo/tableau-de-bord?semaines=${encodeURIComponent(forged)}`);
      expect(page.status, forged).toBe(400);
      expect($(page.text)("#weeks-error").text()).toBe("La période demandée n'est pas valide : choisissez de 4 à 52 semaines.");
      expect(table(page.text, "table-questions")).toHaveLength(26);
      const csv = await anna.agent.get(`/bo/tableau-de-bord.csv?semaines=${encodeURIComponent(forged)}`);
      expect(csv.status, forged).toBe(400);
      expect(csv.text).toBe("La période demandée n'est pas valide : choisissez de 4 à 52 semaines.");
    }
    expect((await anna.agent.get("/bo/tableau-de-bord?semaines=4&semaines=8")).status).toBe(400);
    expect((await anna.agent.get("/bo/tableau-de-bord.csv?semaines=4&semaines=8")).status).toBe(400);
    for (const forged of ["%00", "%20", "8%0A=1+1", "%EF%BC%98"]) expect((await anna.agent.get(`/bo/tableau-de-bord.csv?semaines=${forged}`)).status, forged).toBe(400);
  });

  it("parameters it does not take (weeks, from, to, a range in any form) are ignored: the default 26 weeks, never a 500", async () => {
    for (const query of [
      "weeks=-1",
      "weeks=100000",
      "weeks=abc",
      "from=garbage&to=%27%3B--",
      "from=2026-13-45&to=1900-01-01",
      "semaines[]=8",
      "debut=-1&fin=99999999999999999999",
    ]) {
      const csv = await anna.agent.get(`/bo/tableau-de-bord.csv?${query}`);
      expect(csv.status, query).toBe(200);
      expect(csv.headers["content-disposition"], query).toContain("tableau-de-bord-26-semaines.csv");
      expect(
        csv.text.split("\r\n").filter((l) => /^\d\d\/\d\d\/\d{4};/.test(l)),
        query,
      ).toHaveLength(26);
      const page = await anna.agent.get(`/bo/tableau-de-bord?${query}`);
      expect(page.status, query).toBe(200);
      expect(table(page.text, "table-questions"), query).toHaveLength(26);
    }
  });

  it("is the back office's only: a doctor gets a 404, nobody signed in the login page", async () => {
    expect((await gene.agent.get("/bo/tableau-de-bord")).status).toBe(404);
    expect((await gene.agent.get("/bo/tableau-de-bord.csv")).status).toBe(404);
    const { agent } = await import("supertest");
    const anonymous = await agent(app.app).get("/bo/tableau-de-bord.csv");
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toBe("/bo/login");
  });
});
