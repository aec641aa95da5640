import { textAll } from "../helpers/ps.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, casanova2A, drMartin, hiddenFields, paulHerault, signInAgent, signInPs, startTestApp, type TestApp } from "../helpers/app.js";
import { openCompose, postForm } from "../helpers/ps.js";

/** Issue 10 §7: replying to a doctor or structure that has no notification mailbox. */
let app: TestApp;
let threadId: number;
beforeAll(async () => {
  app = await startTestApp();
  // Dr MARTIN has no notification mailbox; she asks the ELSM 341 about Marie-Ange CASANOVA.
  const martin = await signInPs(app, drMartin);
  const { hidden } = await openCompose(martin, casanova2A);
  const res = await postForm(martin, "/ps/conversations", { ...hidden, subject: "Question du Dr Martin", body: "Bonjour", action: "send" });
  if (res.status !== 303) throw new Error(`setup: ${res.status}`);
  threadId = Number(res.headers.location.split("/").pop());
});
afterAll(async () => {
  await app.close();
});

const text = textAll;
const WARNING = "Dr Sophie MARTIN n'a pas de boîte mail de notification : la réponse sera visible à sa prochaine connexion, sans courriel.";

describe("the échelon's reply to a doctor without a notification mailbox", () => {
  it("warns on the reply page itself, before anything is sent, with a box to tick to send without mail", async () => {
    const paul = await signInAgent(app, paulHerault);
    const page = await paul.agent.get(`/bo/conversations/${threadId}/reply`);
    expect(page.status).toBe(200);
    expect(text(page.text, "#no-mail-warning")).toBe(WARNING);
    const box = $(page.text)('form.compose input[type="checkbox"][name="confirm_no_mail"]');
    expect(box.length).toBe(1);
    expect(box.attr("checked")).toBeUndefined();
    expect(text(page.text, 'label[for="confirm_no_mail"]')).toBe("Envoyer sans courriel de notification");
  });

  it("sent without ticking the box comes back with the text kept and the warning as the error; nothing is sent", async () => {
    const paul = await signInAgent(app, paulHerault);
    const page = await paul.agent.get(`/bo/conversations/${threadId}/reply`);
    const before = await app.db("messages").where({ conversation_id: threadId }).pluck("id");
    const res = await paul.agent.post(`/bo/conversations/${threadId}/messages`).field({ ...hiddenFields(page.text), body: "Réponse non confirmée", action: "send" });
    expect(res.status).toBe(422);
    const form = $(res.text);
    expect(form("#body").text()).toBe("Réponse non confirmée");
    expect(text(res.text, "#confirm_no_mail-error")).toContain(WARNING);
    expect(form("#confirm_no_mail").attr("aria-invalid")).toBe("true");
    expect(text(res.text, ".error-summary")).toContain("n'a pas de boîte mail de notification");
    expect(form(".error-summary a").attr("href")).toBe("#confirm_no_mail");
    expect(await app.db("messages").where({ conversation_id: threadId }).pluck("id")).toEqual(before);
  });

  it("sent with the box ticked goes to the doctor, with no notification mail", async () => {
    const paul = await signInAgent(app, paulHerault);
    const page = await paul.agent.get(`/bo/conversations/${threadId}/reply`);
    const res = await paul.agent
      .post(`/bo/conversations/${threadId}/messages`)
      .field({ ...hiddenFields(page.text), body: "Réponse confirmée", confirm_no_mail: "1", action: "send" });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/bo/conversations/${threadId}`);
    expect(await app.db("messages").where({ conversation_id: threadId, side: "elsm" }).pluck("body")).toEqual(["Réponse confirmée"]);
    expect(await app.db("notifications").where({ conversation_id: threadId }).whereNull("recipient_elsm_id").pluck("id")).toEqual([]);
    const martin = await signInPs(app, drMartin);
    expect(text((await martin.agent.get(`/ps/conversations/${threadId}`)).text, "main")).toContain("Réponse confirmée");
  });

  it("a reply to a doctor who has a mailbox shows no warning and needs no box", async () => {
    const anna = await signInAgent(app, annaAin);
    const id = (await app.db("conversations").where({ subject: "info ALD" }).first("id")).id;
    const page = await anna.agent.get(`/bo/conversations/${id}/reply`);
    expect($(page.text)("#no-mail-warning").length).toBe(0);
    expect($(page.text)("#confirm_no_mail").length).toBe(0);
    const res = await anna.agent.post(`/bo/conversations/${id}/messages`).field({ ...hiddenFields(page.text), body: "Réponse", action: "send" });
    expect(res.status).toBe(303);
  });
});

describe("the échelon's reply to a structure without a notification mailbox", () => {
  it("warns naming the structure, and sends once confirmed", async () => {
    await app.db("structures").where({ finess: "340098765" }).update({ mailbox: null });
    const paul = await signInAgent(app, paulHerault);
    const id = (await app.db("conversations").where({ subject: "Chirurgie bariatrique - entente préalable" }).first("id")).id;
    const page = await paul.agent.get(`/bo/conversations/${id}/reply`);
    expect(text(page.text, "#no-mail-warning")).toBe("CLINIQUE DU PARC n'a pas de boîte mail de notification : la réponse sera visible à sa prochaine connexion, sans courriel.");
    const refused = await paul.agent.post(`/bo/conversations/${id}/messages`).field({ ...hiddenFields(page.text), body: "Pour la clinique", action: "send" });
    expect(refused.status).toBe(422);
    const sent = await paul.agent.post(`/bo/conversations/${id}/messages`).field({ ...hiddenFields(refused.text), body: "Pour la clinique", confirm_no_mail: "1", action: "send" });
    expect(sent.status).toBe(303);
  });
});
