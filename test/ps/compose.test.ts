import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, drGene, drMezin, fixture, hiddenFields, petitNoDoctor, signInPs, solana, startTestApp, type TestApp } from "../helpers/app.js";
import { conversationBySubject, listRows, openCompose, postForm, practitionerId, textOf } from "../helpers/ps.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

describe("sending a question", () => {
  it("creates a conversation at the ELSM of the patient's caisse, with the doctor as party and author", async () => {
    const s = await signInPs(app, drGene);
    const { html, hidden } = await openCompose(s, bunyel);
    const page = $(html);
    expect(textOf(page, "#detail h1")).toBe("Poser une question médicale");
    for (const label of ["Objet", "Message", "Pièce(s) jointe(s)"]) expect(page(`form.compose label:contains("${label}")`).length, label).toBe(1);
    expect(page('form.compose a:contains("Retour à la liste")').attr("href")).toBe("/ps/messages");
    expect(page("form.compose button[name=action][value=draft]").text().trim()).toBe("Enregistrer comme brouillon");
    expect(page("form.compose button[name=action][value=send]").text().trim()).toBe("Envoyer");

    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Durée d'arrêt", body: "Bonjour,\nquelle durée ?", action: "send" });
    expect(res.status).toBe(303);
    const c = await conversationBySubject(app, "Durée d'arrêt");
    expect(res.headers.location).toBe(`/ps/conversations/${c.id}`);
    const elsm = await app.db("elsms").where({ id: c.elsm_id }).first();
    expect(elsm.code).toBe("ELSM 011");
    const gene = await practitionerId(app, drGene);
    expect(c).toMatchObject({ ps_practitioner_id: gene, ps_structure_id: null, started_by: "ps", started_by_practitioner_id: gene, state: "a_traiter", last_message_side: "ps" });
    const messages = await app.db("messages").where({ conversation_id: c.id });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ side: "ps", author_practitioner_id: gene, body: "Bonjour,\nquelle durée ?", read_at: null });

    const thread = $((await s.agent.get(res.headers.location)).text);
    expect(textOf(thread, ".notice")).toBe("Votre message a été envoyé.");
    expect(textOf(thread, "#thread-title")).toBe("Durée d'arrêt");
  });

  it("routes by the patient's caisse, not by the doctor's usual échelon", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, petitNoDoctor);
    await postForm(s, "/ps/conversations", { ...hidden, subject: "Patient de l'Hérault", body: "Bonjour", action: "send" });
    const c = await app.db("conversations as c").join("elsms as e", "e.id", "c.elsm_id").where("c.subject", "Patient de l'Hérault").first("e.code");
    expect(c.code).toBe("ELSM 341");
  });
});

describe("Objet and Message are required to send", () => {
  it("an empty objet is refused with its field error, and the typed message is kept", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "  ", body: "Texte sans objet à garder", action: "send" });
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(textOf(page, "#subject-error")).toContain("Saisissez l'objet du message");
    expect(page("input#subject").attr("aria-invalid")).toBe("true");
    expect(page("textarea#body").text()).toBe("Texte sans objet à garder");
    expect(page("#body-error").length).toBe(0);
    expect(page(".error-summary a[href='#subject']").length).toBe(1);
    expect(await app.db("messages").where({ body: "Texte sans objet à garder" }).first()).toBeUndefined();
  });

  it("an empty message is refused with its field error, and the typed objet is kept", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Objet sans message", body: "", action: "send" });
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(textOf(page, "#body-error")).toContain("Saisissez le texte du message");
    expect(page("input#subject").val()).toBe("Objet sans message");
    expect(await conversationBySubject(app, "Objet sans message")).toBeUndefined();
  });

  it("both empty: two field errors", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "", body: "", action: "send" });
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page("#subject-error").length).toBe(1);
    expect(page("#body-error").length).toBe(1);
  });

  it("the refused form, completed, sends once and leaves no draft behind", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const refused = await postForm(s, "/ps/conversations", { ...hidden, subject: "Complété ensuite", body: "", action: "send" });
    const form = $(refused.text)("form.compose");
    const res = await postForm(s, form.attr("action")!, { ...hiddenFields(refused.text), subject: "Complété ensuite", body: "Voici le message.", action: "send" });
    expect(res.status).toBe(303);
    expect(await app.db("conversations").where({ subject: "Complété ensuite" })).toHaveLength(1);
    expect(await app.db("drafts").where({ subject: "Complété ensuite" })).toHaveLength(0);
  });
});

describe("drafts", () => {
  it("may be incomplete, list as [Brouillon] <objet>, reopen, complete and send", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const saved = await postForm(s, "/ps/conversations", { ...hidden, subject: "Brouillon incomplet", body: "", action: "draft" });
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toMatch(/^\/ps\/drafts\/\d+$/);

    const list = listRows((await s.agent.get("/ps/messages")).text);
    const row = list.find((r) => r.subject === "[Brouillon] Brouillon incomplet");
    expect(row).toBeDefined();
    expect(row!.draft).toBe(true);
    expect(row!.href).toBe(saved.headers.location);
    expect(row!.lines).toContain("Patient(e): Guillaume BUNYEL - NIR: 1700469387111");

    const reopened = await s.agent.get(row!.href);
    expect(reopened.status).toBe(200);
    const page = $(reopened.text);
    expect(page("input#subject").val()).toBe("Brouillon incomplet");
    expect(page("textarea#body").text()).toBe("");
    expect(page("form.compose").attr("action")).toBe(row!.href);

    const sent = await postForm(s, row!.href, { ...hiddenFields(reopened.text), subject: "Brouillon incomplet", body: "Complété plus tard.", action: "send" });
    expect(sent.status).toBe(303);
    const c = await conversationBySubject(app, "Brouillon incomplet");
    expect(sent.headers.location).toBe(`/ps/conversations/${c.id}`);
    expect(await app.db("messages").where({ conversation_id: c.id }).pluck("body")).toEqual(["Complété plus tard."]);
    const after = listRows((await s.agent.get("/ps/messages")).text);
    expect(after.find((r) => r.subject === "[Brouillon] Brouillon incomplet")).toBeUndefined();
    expect(after.find((r) => r.subject === "Brouillon incomplet")).toBeDefined();
    expect((await s.agent.get(row!.href)).status).toBe(404);
  });

  it("the seeded draft of the manual is listed and its text is kept on reopening", async () => {
    const s = await signInPs(app, drGene);
    const row = listRows((await s.agent.get("/ps/messages")).text).find((r) => r.subject === "[Brouillon] Maladie pro - Urgent");
    expect(row).toBeDefined();
    expect(row!.badge).toBe("AG");
    const page = $((await s.agent.get(row!.href)).text);
    expect(page("textarea#body").text()).toContain("maladie professionnelle");
  });

  it("an entirely empty draft is refused with a message", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const before = await app.db("drafts").count<{ n: number }[]>({ n: "*" });
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "", body: "", action: "draft" });
    expect(res.status).toBe(422);
    expect(textOf($(res.text), ".error-summary")).toContain("Le brouillon est vide");
    expect(await app.db("drafts").count<{ n: number }[]>({ n: "*" })).toEqual(before);
  });

  it("saving the same new draft twice (double click) makes one draft", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const a = await postForm(s, "/ps/conversations", { ...hidden, subject: "Double brouillon", body: "x", action: "draft" });
    const b = await postForm(s, "/ps/conversations", { ...hidden, subject: "Double brouillon", body: "x", action: "draft" });
    expect(a.headers.location).toBe(b.headers.location);
    expect(await app.db("drafts").where({ subject: "Double brouillon" })).toHaveLength(1);
  });

  it("Supprimer ce brouillon removes it from the list, with its attachments out of reach", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const saved = await postForm(s, "/ps/conversations", { ...hidden, subject: "À jeter", body: "x", action: "draft" }, [{ path: fixture("valid", "radio.png") }]);
    const page = $((await s.agent.get(saved.headers.location)).text);
    const attachment = page(".attached a").attr("href")!;
    expect((await s.agent.get(attachment)).status).toBe(200);
    // With an attachment, the discard asks first (see discard-draft.test.ts): its link leads to the question.
    const discard = page("a.link-button:contains('Supprimer ce brouillon')");
    const confirm = $((await s.agent.get(discard.attr("href")!)).text);
    const res = await s.agent.post(confirm("#detail form").attr("action")!).type("form").send({ _csrf: s.csrf });
    expect(res.status).toBe(303);
    expect(listRows((await s.agent.get("/ps/messages")).text).some((r) => r.subject === "[Brouillon] À jeter")).toBe(false);
    expect((await s.agent.get(saved.headers.location)).status).toBe(404);
    expect((await s.agent.get(attachment)).status).toBe(404);
  });

  it("another doctor does not see it in their list", async () => {
    const s = await signInPs(app, drMezin);
    const rows = listRows((await s.agent.get("/ps/messages")).text);
    expect(rows.some((r) => r.subject.includes("Maladie pro - Urgent"))).toBe(false);
  });
});

describe("hostile text", () => {
  it("<script> in objet and message is shown as text, never as markup", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const subject = `<script>alert("objet")</script><img src=x onerror=alert(1)>`;
    const body = `<script>alert("message")</script>\n<b>gras</b>`;
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject, body, action: "send" });
    expect(res.status).toBe(303);
    const thread = $((await s.agent.get(res.headers.location)).text);
    expect(thread(".message-body").last().text()).toBe(body);
    expect(thread("#detail script, #detail img, #list script, #list img, .message-body b").length).toBe(0);
    expect(
      thread("script")
        .toArray()
        .every((el) => thread(el).attr("src")),
    ).toBe(true);
    const row = listRows((await s.agent.get("/ps/messages")).text).find((r) => r.href === res.headers.location);
    expect(row!.subject).toBe(subject);
  });

  it("a refused form re-renders the hostile text as text too", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const subject = `"><script>alert(1)</script>`;
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject, body: "", action: "send" });
    const page = $(res.text);
    expect(page("input#subject").val()).toBe(subject);
    expect(
      page("script")
        .toArray()
        .every((el) => page(el).attr("src")),
    ).toBe(true);
  });
});

describe("double submit", () => {
  it("the same form sent twice (same submission_key) creates one message", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const fields = { ...hidden, subject: "Envoi en double", body: "Une seule fois", action: "send" };
    const first = await postForm(s, "/ps/conversations", fields);
    const second = await postForm(s, "/ps/conversations", fields);
    expect(first.status).toBe(303);
    expect(second.status).toBe(303);
    expect(second.headers.location).toBe(first.headers.location);
    expect(await app.db("conversations").where({ subject: "Envoi en double" })).toHaveLength(1);
    expect(await app.db("messages").where({ body: "Une seule fois" })).toHaveLength(1);
  });

  it("two sends of the same form at the same moment create one message", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const fields = { ...hidden, subject: "Envoi simultané", body: "Course", action: "send" };
    const [a, b] = await Promise.all([postForm(s, "/ps/conversations", fields), postForm(s, "/ps/conversations", fields)]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(a.headers.location).toBe(b.headers.location);
    expect(await app.db("messages").where({ body: "Course" })).toHaveLength(1);
  });

  it("a reply sent twice with the same form creates one message", async () => {
    const s = await signInPs(app, drGene);
    const id = (await conversationBySubject(app, "complément d'info PSE")).id;
    const form = await s.agent.get(`/ps/conversations/${id}/reply`);
    const fields = { ...hiddenFields(form.text), body: "Réponse unique", action: "send" };
    await postForm(s, `/ps/conversations/${id}/messages`, fields);
    const again = await postForm(s, `/ps/conversations/${id}/messages`, fields);
    expect(again.headers.location).toBe(`/ps/conversations/${id}`);
    expect(await app.db("messages").where({ conversation_id: id, body: "Réponse unique" })).toHaveLength(1);
  });

  it("two different forms with the same text are two messages (the key, not the text, decides)", async () => {
    const s = await signInPs(app, drGene);
    const one = await openCompose(s, bunyel);
    await postForm(s, "/ps/conversations", { ...one.hidden, subject: "Même texte", body: "Identique", action: "send" });
    const two = await openCompose(s, bunyel);
    await postForm(s, "/ps/conversations", { ...two.hidden, subject: "Même texte", body: "Identique", action: "send" });
    expect(await app.db("conversations").where({ subject: "Même texte" })).toHaveLength(2);
  });
});

describe("forged fields", () => {
  it("posting elsm_id, state, author, party or patient ids changes nothing", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const herault = (await app.db("elsms").where({ code: "ELSM 341" }).first("id")).id;
    const mezin = await practitionerId(app, drMezin);
    const otherPatient = (await app.db("patients").where({ nir: solana.nir }).first("id")).id;
    const forged = {
      elsm_id: String(herault),
      state: "clos",
      author: String(mezin),
      author_practitioner_id: String(mezin),
      ps_practitioner_id: String(mezin),
      ps_structure_id: "1",
      started_by: "elsm",
      side: "elsm",
      patient_id: String(otherPatient),
      patient: String(otherPatient),
      read_at: "2019-01-01T00:00:00.000Z",
      sent_at: "2000-01-01T00:00:00.000Z",
      conversation_id: "1",
    };
    const res = await postForm(s, "/ps/conversations", { ...hidden, ...forged, subject: "Champs forgés", body: "Bonjour", action: "send" });
    expect(res.status).toBe(303);
    const c = await conversationBySubject(app, "Champs forgés");
    const gene = await practitionerId(app, drGene);
    const bunyelId = (await app.db("patients").where({ nir: bunyel.nir, first_name: "Guillaume" }).first("id")).id;
    expect(c).toMatchObject({ ps_practitioner_id: gene, ps_structure_id: null, started_by: "ps", state: "a_traiter", patient_id: bunyelId });
    expect((await app.db("elsms").where({ id: c.elsm_id }).first()).code).toBe("ELSM 011");
    const [m] = await app.db("messages").where({ conversation_id: c.id });
    expect(m).toMatchObject({ side: "ps", author_practitioner_id: gene, author_agent_id: null, read_at: null });
    expect(m.sent_at > "2020").toBe(true);
  });

  it("a subject posted with a reply does not rename the conversation", async () => {
    const s = await signInPs(app, drGene);
    const id = (await conversationBySubject(app, "info ALD")).id;
    const form = await s.agent.get(`/ps/conversations/${id}/reply`);
    const res = await postForm(s, `/ps/conversations/${id}/messages`, {
      ...hiddenFields(form.text),
      subject: "Renommée",
      elsm_id: "2",
      state: "clos",
      body: "Complément",
      action: "send",
    });
    expect(res.status).toBe(303);
    expect(await app.db("conversations").where({ id }).first()).toMatchObject({ subject: "info ALD", state: "a_traiter" });
  });

  it("a form context signed for another patient cannot be altered", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const [payload, mac] = hidden._ctx!.split(".");
    const ctx = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const otherPatient = (await app.db("patients").where({ nir: solana.nir }).first("id")).id;
    const tampered = `${Buffer.from(JSON.stringify({ ...ctx, p: otherPatient })).toString("base64url")}.${mac}`;
    const res = await postForm(s, "/ps/conversations", { ...hidden, _ctx: tampered, subject: "Contexte altéré", body: "Bonjour", action: "send" });
    expect(res.status).toBe(303);
    const c = await conversationBySubject(app, "Contexte altéré");
    expect(c.patient_id).not.toBe(otherPatient);
  });
});
