import { countRows as count, freshThread as aFreshThread, textAll } from "../helpers/ps.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, drGene, fixture, hiddenFields, marcDubois, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";

/**
 * Issue 11 §2: the échelon's reply draft is shared by its agents. A send or a save takes only the draft
 * its form names, at the version the form showed; a draft a colleague wrote or changed since is a
 * conflict shown with both texts — nothing sent by mistake, nothing destroyed.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const text = textAll;

/** A fresh thread of Dr GENE with the ELSM de l'Ain (doctor with a mailbox), so each test starts with no draft. */
const freshThread = (subject: string) => aFreshThread(app, subject);

const replyPage = (s: Session, id: number, base = "/bo") => s.agent.get(`${base}/conversations/${id}/reply`);
const post = (s: Session, id: number, page: string, fields: Record<string, string>, files: string[] = [], base = "/bo") => {
  let req = s.agent.post(`${base}/conversations/${id}/messages`).field({ ...hiddenFields(page), ...fields });
  for (const f of files) req = req.attach("attachments", f);
  return req;
};

describe("a reply draft shared by the agents of one échelon", () => {
  it("an agent sending from a form opened before a colleague saved a draft with a file sends nothing and sees both texts; the colleague's draft and file stay", async () => {
    const id = await freshThread("Brouillon partagé 1");
    const anna = await signInAgent(app, annaAin);
    const marc = await signInAgent(app, marcDubois);
    const annaForm = (await replyPage(anna, id)).text;
    const marcForm = (await replyPage(marc, id)).text;

    const saved = await post(anna, id, annaForm, { body: "Texte d'Anna", action: "draft" }, [fixture("valid", "compte-rendu.pdf")]);
    expect(saved.status).toBe(303);

    const sent = await post(marc, id, marcForm, { body: "Réponse de Marc", action: "send" });
    expect(sent.status).toBe(409);
    const page = $(sent.text);
    expect(page("textarea[name=body]").val()).toBe("Réponse de Marc");
    expect(text(sent.text, ".draft-conflict")).toContain("Texte d'Anna");
    expect(text(sent.text, ".draft-conflict")).toContain("Anna AIN");

    expect(await count(app.db("messages").where({ conversation_id: id, side: "elsm" }))).toBe(0);
    const drafts = await app.db("drafts").where({ conversation_id: id });
    expect(drafts.map((d) => d.body)).toEqual(["Texte d'Anna"]);
    expect(await app.db("attachments").where({ draft_id: drafts[0].id }).pluck("original_name")).toEqual(["compte-rendu.pdf"]);

    // The doctor received nothing, and never Anna's file.
    const gene = await signInPs(app, drGene);
    const thread = await gene.agent.get(`/ps/conversations/${id}`);
    expect(text(thread.text, "main")).not.toContain("Réponse de Marc");
    expect($(thread.text)(".attachments a").length).toBe(0);
  });

  it("an agent saving a draft at a version a colleague has changed since is refused with both texts, and the colleague's changes are kept", async () => {
    const id = await freshThread("Brouillon partagé 2");
    const anna = await signInAgent(app, annaAin);
    const marc = await signInAgent(app, marcDubois);
    const first = await post(anna, id, (await replyPage(anna, id)).text, { body: "Version 1", action: "draft" });
    expect(first.status).toBe(303);
    const annaForm = (await replyPage(anna, id)).text;
    const marcForm = (await replyPage(marc, id)).text;
    expect($(marcForm)("textarea[name=body]").val()).toBe("Version 1");

    expect((await post(anna, id, annaForm, { body: "Version 2 d'Anna", action: "draft" }, [fixture("valid", "compte-rendu.pdf")])).status).toBe(303);

    const stale = await post(marc, id, marcForm, { body: "Version de Marc", action: "draft" });
    expect(stale.status).toBe(409);
    expect($(stale.text)("textarea[name=body]").val()).toBe("Version de Marc");
    expect(text(stale.text, ".draft-conflict")).toContain("Version 2 d'Anna");
    const staleSend = await post(marc, id, marcForm, { body: "Version de Marc", action: "send" });
    expect(staleSend.status).toBe(409);

    const drafts = await app.db("drafts").where({ conversation_id: id });
    expect(drafts.map((d) => d.body)).toEqual(["Version 2 d'Anna"]);
    expect(await count(app.db("attachments").where({ draft_id: drafts[0].id }))).toBe(1);
    expect(await count(app.db("messages").where({ conversation_id: id, side: "elsm" }))).toBe(0);

    // Having seen Anna's draft, Marc's next post from the conflict page names it at its current version.
    const again = await post(marc, id, stale.text, { body: "Version de Marc, après lecture", action: "send" });
    expect(again.status).toBe(303);
    expect(await count(app.db("drafts").where({ conversation_id: id }))).toBe(0);
  });

  it("one agent's draft with a file, sent from its reply page, becomes the message with its file and the draft is gone", async () => {
    const id = await freshThread("Brouillon partagé 3");
    const anna = await signInAgent(app, annaAin);
    const saved = await post(anna, id, (await replyPage(anna, id)).text, { body: "Brouillon d'Anna", action: "draft" }, [fixture("valid", "compte-rendu.pdf")]);
    expect(saved.status).toBe(303);
    const sent = await post(anna, id, (await replyPage(anna, id)).text, { body: "Réponse d'Anna", action: "send" });
    expect(sent.status).toBe(303);
    const message = await app.db("messages").where({ conversation_id: id, side: "elsm" }).first();
    expect(message.body).toBe("Réponse d'Anna");
    expect(await app.db("attachments").where({ message_id: message.id }).pluck("original_name")).toEqual(["compte-rendu.pdf"]);
    expect(await count(app.db("drafts").where({ conversation_id: id }))).toBe(0);
  });
});

describe("a doctor's reply draft", () => {
  it("a reply sent from a tab opened before the same doctor saved a draft with a file in another tab does not take that draft or its file", async () => {
    const id = await freshThread("Brouillon du médecin");
    const gene = await signInPs(app, drGene);
    const tabOne = (await replyPage(gene, id, "/ps")).text;
    const tabTwo = (await replyPage(gene, id, "/ps")).text;
    expect((await post(gene, id, tabTwo, { body: "Brouillon onglet 2", action: "draft" }, [fixture("valid", "compte-rendu.pdf")], "/ps")).status).toBe(303);

    const sent = await post(gene, id, tabOne, { body: "Réponse onglet 1", action: "send" }, [], "/ps");
    expect(sent.status).toBe(409);
    expect(text(sent.text, ".draft-conflict")).toContain("Brouillon onglet 2");
    const drafts = await app.db("drafts").where({ conversation_id: id });
    expect(drafts.map((d) => d.body)).toEqual(["Brouillon onglet 2"]);
    expect(await count(app.db("attachments").where({ draft_id: drafts[0].id }))).toBe(1);
    expect(await count(app.db("messages").where({ conversation_id: id, side: "ps" }))).toBe(1);
  });
});
