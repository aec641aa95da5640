import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, drBenali, drGene, drRoux, hiddenFields, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { listRows } from "../helpers/ps.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const idOf = async (subject: string) => Number((await app.db("conversations").where({ subject }).first("id")).id);
async function saveReplyDraft(s: Session, id: number, body: string) {
  const form = await s.agent.get(`/ps/conversations/${id}/reply`);
  const res = await s.agent.post(`/ps/conversations/${id}/messages`).field({ ...hiddenFields(form.text), body, action: "draft" });
  expect(res.status).toBe(303);
}
const replyButton = async (s: Session, id: number) =>
  $((await s.agent.get(`/ps/conversations/${id}`)).text)(`a[href="/ps/conversations/${id}/reply"]`)
    .text()
    .trim();
const rowOf = async (s: Session, subject: string) => listRows((await s.agent.get("/ps/messages")).text).find((r) => r.subject.endsWith(subject))!;

describe("a doctor's reply draft is signposted", () => {
  it("[Brouillon] on the list row and RÉPONDRE (brouillon en cours) on the thread", async () => {
    const gene = await signInPs(app, drGene);
    const id = await idOf("info ALD");
    expect((await rowOf(gene, "info ALD")).subject).toBe("info ALD");
    expect(await replyButton(gene, id)).toBe("Répondre");
    await saveReplyDraft(gene, id, "Réponse pas finie");
    expect((await rowOf(gene, "info ALD")).subject).toBe("[Brouillon] info ALD");
    expect(await replyButton(gene, id)).toBe("Répondre (brouillon en cours)");
  });

  it("is personal: a colleague of the same structure sees no draft", async () => {
    const roux = await signInPs(app, drRoux);
    const id = await idOf("Suivi ALD diabète");
    await saveReplyDraft(roux, id, "Brouillon de Dr Roux");
    expect((await rowOf(roux, "Suivi ALD diabète")).subject).toBe("[Brouillon] Suivi ALD diabète");
    const benali = await signInPs(app, drBenali);
    expect((await rowOf(benali, "Suivi ALD diabète")).subject).toBe("Suivi ALD diabète");
    expect(await replyButton(benali, id)).toBe("Répondre");
  });
});
