import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, csrfFrom, startTestApp, type TestApp } from "../helpers/app.js";
import { KNOWN_NON_CONFORMITIES } from "../../src/domain/site/accessibility.js";

/** The committed record of the a11y sweep (test/browser/a11y-sweep.test.ts checks it against its run). */
type Result = { axe: string[]; problems: number } | null;
type Record = {
  date: string;
  tools: { axeCore: string; browser: string };
  pages: { page: string; paths: string[]; states: { state: string; js: Result; noJs: Result }[] }[];
};
const here = path.dirname(fileURLToPath(import.meta.url));
const record = JSON.parse(fs.readFileSync(path.join(here, "..", "..", "src", "domain", "site", "accessibility-audit.json"), "utf8")) as Record;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

async function statement() {
  const res = await request(app.app).get("/accessibilite");
  expect(res.status).toBe(200);
  return $(res.text);
}

const squash = (s: string) => s.replace(/\s+/g, " ").trim();

describe("the accessibility statement (RGAA, art. 47 of law 2005-102)", () => {
  it("says « non conforme » while no RGAA audit exists, gives no rate, and says an audit is planned", async () => {
    const page = await statement();
    expect(squash(page("#conformity-state").text())).toContain("est non conforme avec le référentiel général d'amélioration de l'accessibilité (RGAA), version 4.1");
    expect(page("main").text()).not.toContain("partiellement conforme");
    expect(squash(page("#conformity-rate").text())).toBe("Taux de conformité aux critères RGAA : non établi, faute d'audit RGAA.");
    expect(page("main").text()).toContain("Un audit est prévu");
  });

  it("gives the automated audit's date and figures as the committed record of the sweep has them", async () => {
    const page = await statement();
    const figure = (name: string) => page(`[data-audit="${name}"]`).text();
    const states = record.pages.flatMap((p) => p.states);
    const runs = states.flatMap((s) => [s.js, s.noJs]).filter((r) => r !== null);
    expect(record.pages.length).toBeGreaterThan(10);
    expect(page('[data-audit="date"]').attr("datetime")).toBe(record.date);
    expect(figure("pages")).toBe(String(record.pages.length));
    expect(figure("states")).toBe(String(states.length));
    expect(figure("with-js")).toBe(String(states.filter((s) => s.js).length));
    expect(figure("without-js")).toBe(String(states.filter((s) => s.noJs).length));
    expect(figure("runs")).toBe(String(runs.length));
    expect(figure("clean-runs")).toBe(String(runs.filter((r) => r.axe.length === 0 && r.problems === 0).length));
    expect(figure("violations")).toBe(String(runs.reduce((n, r) => n + r.axe.length, 0)));
    expect(figure("problems")).toBe(String(runs.reduce((n, r) => n + r.problems, 0)));
    expect(figure("axe-core")).toBe(record.tools.axeCore);
    expect(figure("browser")).toBe(record.tools.browser);
    const listed = page("#pages-tested li")
      .map((_, li) => squash(page(li).text()))
      .get();
    expect(listed).toHaveLength(record.pages.length);
    record.pages.forEach((p, i) => {
      expect(listed[i]).toMatch(new RegExp(`^${p.page.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} .*: ${p.states.length} états?$`));
    });
  });

  it("lists the known non-conformities with their RGAA criteria, no derogation, and the exempt third-party content", async () => {
    const page = await statement();
    const known = page("#known-non-conformities li")
      .map((_, li) => squash(page(li).text()))
      .get();
    // Exactly the list the code keeps (each open item of issue 12 leaves it when it lands), each with its criteria.
    expect(known).toHaveLength(KNOWN_NON_CONFORMITIES.length);
    for (const [i, item] of known.entries()) {
      expect(item).toMatch(/\(RGAA, critères? \d+\.\d+/);
      for (const c of KNOWN_NON_CONFORMITIES[i]!.criteria) expect(item).toContain(c);
    }
    expect(squash(page("#derogations").text())).toBe("Aucune dérogation.");
    expect(page("#exempt-content").text()).toMatch(/pièces jointes déposées par les utilisateurs/);
  });

  it("names the technologies, the environment and tools tested, without claiming a screen reader test", async () => {
    const page = await statement();
    expect(
      page("#technologies li")
        .map((_, li) => page(li).text().split(" ")[0])
        .get(),
    ).toEqual(["HTML", "CSS", "JavaScript"]);
    expect(page("#environment").text()).toContain(record.tools.browser);
    expect(page("#environment").text()).toContain("Aucune technologie d'assistance");
    expect(page("main").text()).not.toMatch(/NVDA|JAWS|VoiceOver|Talkback/i);
  });

  it("links to the multi-year plan, a page of its own", async () => {
    const page = await statement();
    expect(page('main a[href="/accessibilite/schema-pluriannuel"]').length).toBeGreaterThan(0);
    const plan = await request(app.app).get("/accessibilite/schema-pluriannuel");
    expect(plan.status).toBe(200);
    expect($(plan.text)("h1").text()).toBe("Schéma pluriannuel de mise en accessibilité");
  });

  it("gives an e-mail address and a contact form, not a premium-rate number", async () => {
    const page = await statement();
    expect(page('#contact-address a[href="mailto:accessibilite@echanges.example"]').text()).toBe("accessibilite@echanges.example");
    expect(page('main form[action="/accessibilite/contact"][method="post"]').length).toBe(1);
    expect(page("main").text()).not.toMatch(/0811|08 11/);
  });

  it("gives the Défenseur des droits' four means of recourse", async () => {
    const page = await statement();
    const recourse = page("#recourse");
    expect(recourse.find('a[href="https://formulaire.defenseurdesdroits.fr/"]').length).toBe(1);
    expect(recourse.find('a[href="https://www.defenseurdesdroits.fr/saisir/delegues"]').length).toBe(1);
    expect(recourse.text()).toContain("09 69 39 00 00");
    expect(squash(recourse.text())).toContain("Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07");
  });
});

it("the footer link of every page names the statement's state: « Accessibilité : non conforme »", async () => {
  for (const url of ["/", "/ps/login", "/bo/login", "/accessibilite", "/page-inexistante"]) {
    const page = $((await request(app.app).get(url)).text);
    expect(page('footer a[href="/accessibilite"]').text(), url).toBe("Accessibilité : non conforme");
  }
});

describe("the statement's contact form", () => {
  async function form() {
    const agent = request.agent(app.app);
    const csrf = csrfFrom((await agent.get("/accessibilite")).text);
    return { agent, csrf };
  }

  it("keeps a message, then shows the confirmation once (Post/Redirect/Get)", async () => {
    const { agent, csrf } = await form();
    const res = await agent
      .post("/accessibilite/contact")
      .type("form")
      .send({ _csrf: csrf, name: "Jeanne Lecteur", email: "jeanne@exemple.fr", page: "Rédaction d'un message", message: "Le bouton d'envoi n'est pas annoncé." });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/accessibilite#contact");
    expect(await app.db("accessibility_feedback").select("name", "email", "page", "message")).toEqual([
      { name: "Jeanne Lecteur", email: "jeanne@exemple.fr", page: "Rédaction d'un message", message: "Le bouton d'envoi n'est pas annoncé." },
    ]);
    const after = $((await agent.get("/accessibilite")).text);
    expect(after('#main [role="status"]').text()).toBe("Votre message a été envoyé. Nous vous répondrons par courriel.");
    expect($((await agent.get("/accessibilite")).text)('#main [role="status"]').length).toBe(0);
  });

  it("refuses a message without an address or text: 422, French errors on their fields, what was typed kept", async () => {
    const { agent, csrf } = await form();
    const before = await app.db("accessibility_feedback").count({ n: "*" }).first();
    const res = await agent.post("/accessibilite/contact").type("form").send({ _csrf: csrf, name: "Jeanne", email: "pas-une-adresse", page: "Accueil", message: "   " });
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page("title").text()).toMatch(/^Erreur : /);
    expect(
      page(".error-summary li a")
        .map((_, a) => [[page(a).attr("href"), page(a).text()]])
        .get(),
    ).toEqual([
      ["#contact-email", "L'adresse électronique doit être de la forme nom@domaine.fr."],
      ["#contact-message", "Décrivez le problème rencontré."],
    ]);
    expect(page("#contact-email").attr("aria-invalid")).toBe("true");
    expect(page("#contact-email").attr("aria-describedby")).toContain("contact-email-error");
    expect(page("#contact-email").val()).toBe("pas-une-adresse");
    expect(page("#contact-name").val()).toBe("Jeanne");
    expect(page("#contact-page").val()).toBe("Accueil");
    expect(await app.db("accessibility_feedback").count({ n: "*" }).first()).toEqual(before);
  });

  it("refuses a post without the page's CSRF token", async () => {
    const before = await app.db("accessibility_feedback").count({ n: "*" }).first();
    const res = await request(app.app).post("/accessibilite/contact").type("form").send({ email: "a@b.fr", message: "x" });
    expect(res.status).toBe(403);
    expect(await app.db("accessibility_feedback").count({ n: "*" }).first()).toEqual(before);
  });
});
