import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, hiddenFields, startWithGeneAndAnna, type Session, type TestApp } from "../helpers/app.js";
import { elsmWrites, openCompose, postForm, textOf } from "../helpers/ps.js";

/** Replying with the message answered in view; a long thread opens on its newest message, with links past the others. Both sides. */
let app: TestApp;
let gene: Session;
let anna: Session;
beforeAll(async () => {
  ({ app, gene, anna } = await startWithGeneAndAnna());
});
afterAll(async () => {
  await app.close();
});

async function psQuestion(subject: string, body: string): Promise<number> {
  const { hidden } = await openCompose(gene, bunyel);
  const res = await postForm(gene, "/ps/conversations", { ...hidden, subject, body, action: "send" });
  expect(res.status).toBe(303);
  return Number(res.headers.location.split("/").pop());
}

async function psReplies(id: number, body: string) {
  const form = await gene.agent.get(`/ps/conversations/${id}/reply`);
  const res = await postForm(gene, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body, action: "send" });
  expect(res.status).toBe(303);
}

describe("the reply form shows the message being answered", () => {
  it("the doctor's reply page quotes the échelon's newest message: its author, date and text", async () => {
    const id = await psQuestion("Question à citer", "Ma question");
    await elsmWrites(app, "AIN", id, "Première réponse de l'échelon");
    await psReplies(id, "Précision du médecin");
    await elsmWrites(app, "AIN", id, "Seconde réponse,\nsur deux lignes");
    const page = $((await gene.agent.get(`/ps/conversations/${id}/reply`)).text);
    expect(textOf(page, ".answered figcaption")).toMatch(/^Message auquel vous répondez : ELSM .+, \w+, \d+\/\d+\/\d{4} \d{2}:\d{2}$/);
    expect(page(".answered blockquote").text()).toBe("Seconde réponse,\nsur deux lignes");
    // The quote comes before the form.
    expect(page("#detail .answered + form.compose, #detail .answered ~ form.compose").length).toBe(1);
  });

  it("before the échelon has answered, the doctor's own newest message is shown", async () => {
    const id = await psQuestion("Sans réponse encore", "Question seule");
    const page = $((await gene.agent.get(`/ps/conversations/${id}/reply`)).text);
    expect(page(".answered blockquote").text()).toBe("Question seule");
    expect(textOf(page, ".answered figcaption")).toContain("Dr Alain GENE");
  });

  it("the back office's reply page quotes the doctor's newest message", async () => {
    const id = await psQuestion("Question pour le back office", "Bonjour l'échelon");
    await elsmWrites(app, "AIN", id, "Réponse de l'agent");
    await psReplies(id, "Relance du médecin");
    const page = $((await anna.agent.get(`/bo/conversations/${id}/reply`)).text);
    expect(page(".answered blockquote").text()).toBe("Relance du médecin");
    expect(textOf(page, ".answered figcaption")).toContain("Dr Alain GENE");
  });

  it("the reply form shown again after a refused send still quotes it", async () => {
    const id = await psQuestion("Citation gardée", "Question");
    await elsmWrites(app, "AIN", id, "Réponse à garder en vue");
    const form = await gene.agent.get(`/ps/conversations/${id}/reply`);
    const res = await postForm(gene, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "", action: "send" });
    expect(res.status).toBe(422);
    expect($(res.text)(".answered blockquote").text()).toBe("Réponse à garder en vue");
  });
});

describe("a long thread", () => {
  let id: number;
  beforeAll(async () => {
    id = await psQuestion("Fil très long", "Message 1");
    for (let i = 2; i <= 8; i++) {
      if (i % 2 === 0) await elsmWrites(app, "AIN", id, `Message ${i}`);
      else await psReplies(id, `Message ${i}`);
    }
  });

  for (const side of ["ps", "bo"] as const) {
    it(`${side === "ps" ? "doctor" : "back office"}: keeps the oldest-first order and links to the newest message and to the reply`, async () => {
      const s = side === "ps" ? gene : anna;
      const page = $((await s.agent.get(`/${side}/conversations/${id}`)).text);
      const bodies = page(".message .message-body")
        .toArray()
        .map((b) => page(b).text());
      expect(bodies).toEqual(["Message 1", "Message 2", "Message 3", "Message 4", "Message 5", "Message 6", "Message 7", "Message 8"]);
      const toNewest = page(".thread-skip a:contains('Aller au dernier message')").attr("href")!;
      expect(page(".message").last().attr("id")).toBe(toNewest.slice(1));
      const toReply = page(".thread-skip a:contains('Aller à la réponse')").attr("href")!;
      expect(toReply).toBe("#thread-actions");
      expect(page("#thread-actions a:contains('Répondre')").attr("href")).toBe(`/${side}/conversations/${id}/reply`);
      // The links come before the messages.
      expect(page(".thread-skip ~ .messages-scroller .message").length).toBe(8);
    });
  }

  it("closed, the back office's link says « Aller aux actions » (it can no longer reply)", async () => {
    const page = await anna.agent.get(`/bo/conversations/${id}/close`);
    await anna.agent
      .post(`/bo/conversations/${id}/close`)
      .type("form")
      .send({ _csrf: $(page.text)("form.close-form input[name=_csrf]").val(), reason_id: $(page.text)("#closure-reason option").eq(1).val() });
    const thread = $((await anna.agent.get(`/bo/conversations/${id}`)).text);
    expect(thread(".thread-skip a[href='#thread-actions']").text()).toBe("Aller aux actions");
  });

  it("a short thread has no such links", async () => {
    const short = await psQuestion("Fil court", "Un seul message");
    const page = $((await gene.agent.get(`/ps/conversations/${short}`)).text);
    expect(page(".thread-skip").length).toBe(0);
  });
});
