import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, bunyel, drGene, drLuanikazuzi, hiddenFields, selectPatient, signInAgent, signInPs, startTestApp, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const notice = (html: string) => $(html)(".thread-notice").text().replace(/\s+/g, " ").trim();
const DATE = /\w+, \d{1,2}\/\d{2}\/\d{4} \d{2}:\d{2}$/;

describe("what the other side did to a thread is shown", () => {
  it("the agent sees that the doctor deleted the thread, and when", async () => {
    const gene = await signInPs(app, drGene);
    await selectPatient(gene, bunyel);
    const form = await gene.agent.get("/ps/conversations/new");
    const sent = await gene.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject: "À supprimer", body: "Bonjour", action: "send" });
    const id = Number(sent.headers.location.split("/").pop());
    const anna = await signInAgent(app, annaAin);
    expect(notice((await anna.agent.get(`/bo/conversations/${id}`)).text)).toBe("");
    await gene.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: gene.csrf });
    const page = notice((await anna.agent.get(`/bo/conversations/${id}`)).text);
    expect(page).toMatch(/^Supprimée par le professionnel de santé le /);
    expect(page).toMatch(DATE);
  });

  it("the doctor sees that the échelon closed the thread, and when", async () => {
    const xl = await signInPs(app, drLuanikazuzi);
    const c = await app.db("conversations").where({ subject: "Sans dossier" }).first("id");
    const page = notice((await xl.agent.get(`/ps/conversations/${c.id}`)).text);
    expect(page).toBe("Conversation close par l'échelon le mardi, 9/04/2019 18:45 — motif : Réponse apportée");
    // An open thread says nothing of the kind.
    const gene = await signInPs(app, drGene);
    const open = await app.db("conversations").where({ subject: "info ALD" }).first("id");
    expect(notice((await gene.agent.get(`/ps/conversations/${open.id}`)).text)).toBe("");
  });
});
