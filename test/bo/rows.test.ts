import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, signInAgent, startTestApp, type Session, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

async function rows(s: Session, slug: string) {
  const page = $((await s.agent.get(`/bo/bannettes/${slug}`)).text);
  return page("#list .item")
    .map((_, el) => {
      const row = page(el);
      return {
        subject: row.find(".item-subject").text().trim(),
        text: row.text().replace(/\s+/g, " ").trim(),
        badge: row.find(".badge [aria-hidden=true]").text().trim(),
        tone: (row.find(".badge").attr("class") ?? "").replace("badge ", ""),
        label: row.find(".badge .visually-hidden").text().trim(),
        draft: row.hasClass("draft"),
      };
    })
    .get();
}
const find = (list: Awaited<ReturnType<typeof rows>>, subject: string) => list.find((r) => r.subject === subject)!;

describe("back-office pastilles (manual §6)", () => {
  it("the échelon's questions without a patient: light, the doctor's initials (AG, XL)", async () => {
    const anna = await signInAgent(app, annaAin);
    const lombalgie = find(await rows(anna, "en-cours"), "Durée arrêt de travail Lombalgie");
    expect([lombalgie.badge, lombalgie.tone]).toEqual(["AG", "badge-outgoing"]);
    expect(lombalgie.label).toBe("Question de l'échelon sans patient, adressée au Dr Alain GENE.");
    const sansDossier = find(await rows(anna, "clos"), "Sans dossier");
    expect([sansDossier.badge, sansDossier.tone]).toEqual(["XL", "badge-outgoing"]);
  });

  it("threads about a patient, whoever started them: dark, the code of the échelon addressed (ELSM 011)", async () => {
    const anna = await signInAgent(app, annaAin);
    const recherche = find(await rows(anna, "en-cours"), "Recherche"); // the échelon's, about Inès SOLANA Y FUENTES
    expect([recherche.badge, recherche.tone]).toEqual(["ELSM 011", "badge-incoming"]);
    expect(recherche.label).toBe("Conversation adressée à l'échelon ELSM 011.");
    const info = find(await rows(anna, "a-traiter"), "info ALD"); // Dr GENE's, about Guillaume BUNYEL
    expect([info.badge, info.tone]).toEqual(["ELSM 011", "badge-incoming"]);
    const draft = (await rows(anna, "en-cours")).find((r) => r.draft && r.text.includes("TEST ELSM INIT QUESTION"))!;
    expect([draft.badge, draft.tone]).toEqual(["ELSM 011", "badge-incoming"]);
  });

  it("the legend names both colours", async () => {
    const anna = await signInAgent(app, annaAin);
    const legend = $((await anna.agent.get("/bo/bannettes/a-traiter")).text)(".legend")
      .text()
      .replace(/\s+/g, " ");
    expect(legend).toContain("Bleu foncé : l'échelon auquel la conversation s'adresse");
    expect(legend).toContain("Bleu clair : question de l'échelon sans patient");
  });
});

describe("draft rows in the back office read like every row (manual §6)", () => {
  it("a new-question draft shows the doctor, N°AM - CP VILLE, the patient, its author as Rédacteur, and [Brouillon] where every row has its tags", async () => {
    const anna = await signInAgent(app, annaAin);
    const page = $((await anna.agent.get("/bo/bannettes/en-cours")).text);
    const draft = page("#list .item.draft").filter((_, el) => page(el).text().includes("TEST ELSM INIT QUESTION"));
    const lines = draft
      .find(".item-line")
      .map((_, l) => page(l).text().trim())
      .get();
    expect(lines).toEqual(["Dr GENE Alain", "N°AM : 991101197 - 34170 CASTELNAU LE LEZ", "Patient(e) : Freddy Georges FERRAND", "Rédacteur : Anna AIN"]);
    expect(draft.find(".item-title").text().replace(/\s+/g, " ").trim()).toBe("[Brouillon] TEST ELSM INIT QUESTION");
    // A conversation row carries its tags in the same place, before the subject.
    const lu = page("#list .item:not(.draft) .item-title").filter((_, el) => page(el).text().includes("["));
    for (const el of lu.toArray()) expect(page(el).children().last().hasClass("item-subject")).toBe(true);
  });

  it("a draft without a recipient says so", async () => {
    const anna = await signInAgent(app, annaAin);
    const elsm = await app.db("elsms").where({ code: "ELSM 011" }).first("id");
    const agent = await app.db("agents").where({ last_name: "AIN" }).first("id");
    const now = new Date().toISOString();
    await app.db("drafts").insert({ side: "elsm", author_agent_id: agent.id, elsm_id: elsm.id, subject: "Sans destinataire", body: "", created_at: now, updated_at: now });
    const page = $((await anna.agent.get("/bo/bannettes/en-cours")).text);
    const draft = page("#list .item.draft").filter((_, el) => page(el).text().includes("Sans destinataire"));
    expect(draft.text().replace(/\s+/g, " ")).toContain("Destinataire : non renseigné");
  });
});

describe("a row's accessible name (issue 12 §7)", () => {
  it("stays under 100 characters with the longest subject: the subject cut first, then state, patient, date", async () => {
    const anna = await signInAgent(app, annaAin);
    const id = (await app.db("conversations").where({ state: "a_traiter" }).whereNotNull("patient_id").first("id")).id;
    const long = `Demande de prise en charge ${"très ".repeat(40)}détaillée`.slice(0, 200);
    await app.db("conversations").where({ id }).update({ subject: long });
    const page = $((await anna.agent.get("/bo/bannettes/a-traiter")).text);
    const name = page(`#list a[href$="/conversations/${id}"]`).attr("aria-label") ?? "";
    expect(name.length).toBeLessThan(100);
    expect(name.startsWith(`${long.slice(0, 39).trimEnd()}…, `)).toBe(true);
    expect(name).toMatch(/patient\(e\) .+, \d{1,2}\/\d\d\/\d{4} \d\d:\d\d$/);
  });
});
