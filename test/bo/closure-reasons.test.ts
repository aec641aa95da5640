import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  $,
  annaAin,
  bunyel,
  drGene,
  hiddenFields,
  marcDubois,
  marieRhone,
  paulHerault,
  selectPatient,
  signInAgent,
  signInPs,
  startTestApp,
  type Session,
  type TestApp,
} from "../helpers/app.js";

/** Issue 14 §3: closing asks for a reason (the échelon's list + an optional précision), shown to the doctor and in CLOS. */
let app: TestApp;
let anna: Session;
let gene: Session;
let ainId: number;
let heraultId: number;

beforeAll(async () => {
  app = await startTestApp();
  anna = await signInAgent(app, annaAin);
  gene = await signInPs(app, drGene);
  ainId = (await app.db("elsms").where({ code: "ELSM 011" }).first("id")).id;
  heraultId = (await app.db("elsms").where({ code: "ELSM 341" }).first("id")).id;
});
afterAll(async () => {
  await app.close();
});

const text = (html: string, selector: string) => $(html)(selector).text().replace(/\s+/g, " ").trim();
const reasonsOf = (elsmId: number) =>
  app
    .db("closure_reasons")
    .where({ elsm_id: elsmId })
    .orderBy([{ column: "position" }, { column: "id" }]);
const DATE = "\\w+, \\d{1,2}/\\d{2}/\\d{4} \\d{2}:\\d{2}";

/** A fresh thread from Dr GENE about Guillaume BUNYEL, to ELSM 011, in A TRAITER. */
async function psSend(subject: string): Promise<number> {
  await selectPatient(gene, bunyel);
  const form = await gene.agent.get("/ps/conversations/new");
  const res = await gene.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject, body: "Bonjour", action: "send" });
  expect(res.status).toBe(303);
  return Number(res.headers.location.split("/").pop());
}

const close = (s: Session, id: number, fields: Record<string, unknown>) =>
  s.agent
    .post(`/bo/conversations/${id}/close`)
    .type("form")
    .send({ _csrf: s.csrf, ...fields });

describe("the default closure reasons", () => {
  it("every ELSM starts with the short default list, in order", async () => {
    const labels = ["Réponse apportée", "Demande sans objet", "Dossier transmis au service compétent", "Sans réponse du professionnel de santé"];
    for (const code of ["ELSM 011", "ELSM 341", "MSA 069"]) {
      const elsm = await app.db("elsms").where({ code }).first("id");
      expect(
        (await reasonsOf(elsm.id)).map((r) => r.label),
        code,
      ).toEqual(labels);
    }
  });
});

describe("closing with a reason", () => {
  it("the confirmation page asks for the ELSM's reasons and an optional précision, and links to their management", async () => {
    const id = await psSend("Motif : la page");
    const res = await anna.agent.get(`/bo/conversations/${id}/close`);
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(text(res.text, 'label[for="closure-reason"]')).toBe("Motif de clôture");
    expect(page("#closure-reason").attr("name")).toBe("reason_id");
    const options = page("#closure-reason option")
      .map((_i, o) => ({ value: $(res.text)(o).attr("value"), label: $(res.text)(o).text() }))
      .get();
    const own = await reasonsOf(ainId);
    expect(options).toEqual([{ value: "", label: "Choisissez un motif" }, ...own.map((r) => ({ value: String(r.id), label: r.label }))]);
    expect(page("#closure-reason option[selected]").length).toBe(0);
    expect(text(res.text, 'label[for="closure-text"]')).toBe("Précision (facultatif)");
    expect(page("#closure-text").attr("maxlength")).toBe("500");
    expect(page('a[href="/bo/motifs-cloture"]').text()).toBe("Gérer les motifs de clôture");
    // Another ELSM's reasons are never offered.
    const others = await reasonsOf(heraultId);
    for (const r of others) expect(page(`#closure-reason option[value="${r.id}"]`).length).toBe(0);
  });

  it("closes with the reason and the précision: the label copied, shown to the doctor, in the back office with the agent, and in the CLOS tray", async () => {
    const id = await psSend("Motif : clôture complète");
    const [reason] = await reasonsOf(ainId);
    const res = await close(anna, id, { reason_id: String(reason.id), reason_text: "  Compte rendu reçu le 1er décembre.  " });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/bo/conversations/${id}`);
    expect(await app.db("conversations").where({ id }).first()).toMatchObject({
      state: "clos",
      closed_reason_label: "Réponse apportée",
      closed_reason_text: "Compte rendu reçu le 1er décembre.",
    });

    const ps = text((await gene.agent.get(`/ps/conversations/${id}`)).text, ".thread-closure");
    expect(ps).toMatch(new RegExp(`^Conversation close par l'échelon le ${DATE} — motif : Réponse apportée — précision : Compte rendu reçu le 1er décembre\\.$`));
    const bo = text((await anna.agent.get(`/bo/conversations/${id}`)).text, ".thread-closure");
    expect(bo).toMatch(new RegExp(`^Conversation close par Anna AIN le ${DATE} — motif : Réponse apportée — précision : Compte rendu reçu le 1er décembre\\.$`));

    const tray = await anna.agent.get("/bo/bannettes/clos");
    const row = $(tray.text)(`.item-link[href="/bo/conversations/${id}"]`);
    expect(row.find(".item-reason").text()).toBe("Motif : Réponse apportée");
    expect(row.attr("aria-describedby")).toContain(`row-c${id}-reason`);
    // The doctor's list shows no reason (back office only).
    expect($((await gene.agent.get("/ps/messages")).text)(".item-reason").length).toBe(0);

    // Editing or deleting the reason later does not rewrite the thread's history.
    await anna.agent.post(`/bo/motifs-cloture/${reason.id}`).type("form").send({ _csrf: anna.csrf, label: "Réponse apportée (renommé)" });
    expect(text((await gene.agent.get(`/ps/conversations/${id}`)).text, ".thread-closure")).toContain("— motif : Réponse apportée — précision");
  });

  it("without a précision, the line has no « précision »", async () => {
    const id = await psSend("Motif : sans précision");
    const reason = (await reasonsOf(ainId))[1];
    expect((await close(anna, id, { reason_id: String(reason.id), reason_text: "   " })).status).toBe(303);
    expect(await app.db("conversations").where({ id }).first()).toMatchObject({ closed_reason_label: "Demande sans objet", closed_reason_text: null });
    expect(text((await gene.agent.get(`/ps/conversations/${id}`)).text, ".thread-closure")).toMatch(
      new RegExp(`^Conversation close par l'échelon le ${DATE} — motif : Demande sans objet$`),
    );
  });

  for (const [label, fields, field, message] of [
    ["no reason", { reason_text: "Précision gardée" }, "closure-reason", "Choisissez le motif de clôture dans la liste."],
    ["an empty reason", { reason_id: "", reason_text: "Précision gardée" }, "closure-reason", "Choisissez le motif de clôture dans la liste."],
    ["an unknown reason id", { reason_id: "999999", reason_text: "Précision gardée" }, "closure-reason", "Ce motif de clôture n'existe pas ou plus"],
    ["a reason id that is no id", { reason_id: "abc", reason_text: "Précision gardée" }, "closure-reason", "Ce motif de clôture n'existe pas ou plus"],
    ["a reason sent as an array", { reason_id: ["1", "2"], reason_text: "Précision gardée" }, "closure-reason", "Choisissez le motif de clôture dans la liste."],
    ["a précision of 501 characters", { reason_id: "own", reason_text: "p".repeat(501) }, "closure-text", "La précision ne peut pas dépasser 500 caractères"],
  ] as const) {
    it(`refuses ${label}: 422, a French error on its field, what was typed kept, nothing closed`, async () => {
      const id = await psSend(`Motif refusé : ${label}`);
      const own = (await reasonsOf(ainId))[2];
      const sent = { ...fields, reason_id: fields.reason_id === "own" ? String(own.id) : fields.reason_id };
      const res = await close(anna, id, sent);
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page(`#${field}-error`).text()).toContain(message);
      expect(page(`#${field}`).attr("aria-invalid")).toBe("true");
      expect(page(".error-summary a").attr("href")).toBe(`#${field}`);
      expect(page("#closure-text").val()).toBe(fields.reason_text);
      if (fields.reason_id === "own") expect(page(`#closure-reason option[value="${own.id}"]`).attr("selected")).toBeDefined();
      expect(await app.db("conversations").where({ id }).first()).toMatchObject({ state: "a_traiter", closed_at: null, closed_reason_label: null });
      expect(await app.db("audit_events").where({ object_type: "conversation", object_id: id, action: "conversation.closed" })).toEqual([]);
    });
  }

  it("a reason of another ELSM is refused like an unknown one: 422, nothing of the other ELSM shown, nothing closed", async () => {
    const id = await psSend("Motif d'un autre échelon");
    const paul = await signInAgent(app, paulHerault);
    const created = await paul.agent.post("/bo/motifs-cloture").type("form").send({ _csrf: paul.csrf, label: "Motif confidentiel de l'Hérault" });
    expect(created.status).toBe(303);
    const foreign = await app.db("closure_reasons").where({ elsm_id: heraultId, label: "Motif confidentiel de l'Hérault" }).first("id");
    const res = await close(anna, id, { reason_id: String(foreign.id), reason_text: "Texte gardé" });
    expect(res.status).toBe(422);
    expect(text(res.text, "#closure-reason-error")).toBe("Ce motif de clôture n'existe pas ou plus : choisissez-en un dans la liste.");
    expect(res.text).not.toContain("Motif confidentiel de l'Hérault");
    expect($(res.text)("#closure-reason option[selected]").length).toBe(0);
    expect(await app.db("conversations").where({ id }).first()).toMatchObject({ state: "a_traiter", closed_reason_label: null });
  });

  it("closing a closed thread stays idempotent: the same answer, the first reason kept, even with a bad or missing reason", async () => {
    const id = await psSend("Motif : deux clôtures");
    const [first, second] = await reasonsOf(ainId);
    expect((await close(anna, id, { reason_id: String(first.id) })).status).toBe(303);
    const closed = await app.db("conversations").where({ id }).first();
    const marc = await signInAgent(app, marcDubois);
    for (const fields of [{ reason_id: String(second.id), reason_text: "Autre" }, {}, { reason_id: "999999" }]) {
      const again = await close(marc, id, fields);
      expect([again.status, again.headers.location]).toEqual([303, `/bo/conversations/${id}`]);
    }
    expect(await app.db("conversations").where({ id }).first()).toMatchObject({ closed_at: closed.closed_at, closed_reason_label: first.label, closed_reason_text: null });
    expect(await app.db("audit_events").where({ object_type: "conversation", object_id: id, action: "conversation.closed" })).toHaveLength(1);
    // The confirmation page of a closed thread sends back to it.
    const page = await anna.agent.get(`/bo/conversations/${id}/close`);
    expect([page.status, page.headers.location]).toEqual([303, `/bo/conversations/${id}`]);
  });

  it("a doctor's message reopens the thread (A TRAITER): the closure line and the reason are gone", async () => {
    const id = await psSend("Motif : rouverte");
    const [reason] = await reasonsOf(ainId);
    expect((await close(anna, id, { reason_id: String(reason.id), reason_text: "Précision" })).status).toBe(303);
    const form = await gene.agent.get(`/ps/conversations/${id}/reply`);
    expect((await gene.agent.post(`/ps/conversations/${id}/messages`).field({ ...hiddenFields(form.text), body: "Une autre question", action: "send" })).status).toBe(303);
    expect(await app.db("conversations").where({ id }).first()).toMatchObject({ state: "a_traiter", closed_reason_label: null, closed_reason_text: null });
    expect($((await gene.agent.get(`/ps/conversations/${id}`)).text)(".thread-closure").length).toBe(0);
    expect($((await anna.agent.get(`/bo/conversations/${id}`)).text)(".thread-closure").length).toBe(0);
    const tray = await anna.agent.get("/bo/bannettes/a-traiter");
    expect($(tray.text)(`.item-link[href="/bo/conversations/${id}"] .item-reason`).length).toBe(0);
  });
});

describe("the closure reasons page", () => {
  it("an échelon whose reasons were all deleted is told to create one on the confirmation page (nothing offered, no close)", async () => {
    const marie = await signInAgent(app, marieRhone);
    const msaId = (await app.db("elsms").where({ code: "MSA 069" }).first("id")).id;
    for (const r of await reasonsOf(msaId)) {
      expect((await marie.agent.post(`/bo/motifs-cloture/${r.id}/supprimer`).type("form").send({ _csrf: marie.csrf })).status).toBe(303);
    }
    expect(text((await marie.agent.get("/bo/motifs-cloture")).text, "main")).toContain("Aucun motif de clôture pour l'instant");
    const thread = await app.db("conversations").where({ elsm_id: msaId }).whereNot("state", "clos").first("id");
    const page = await marie.agent.get(`/bo/conversations/${thread.id}/close`);
    expect(text(page.text, "#no-closure-reason")).toContain("Votre échelon n'a aucun motif de clôture");
    expect($(page.text)("#closure-reason option").length).toBe(1);
    expect((await close(marie, thread.id, {})).status).toBe(422);
    expect((await app.db("conversations").where({ id: thread.id }).first("state")).state).not.toBe("clos");
  });

  it("lists the ELSM's reasons, creates one (at the end), edits and deletes one (confirmation first); audited by id", async () => {
    const list = await anna.agent.get("/bo/motifs-cloture");
    expect(list.status).toBe(200);
    expect(text(list.text, "h1")).toBe("Motifs de clôture");
    expect($(list.text)('a[href="/bo/motifs-cloture/nouveau"]').text()).toBe("Créer un motif");
    // Not in the back office's column (its height is counted by a browser test).
    expect($(list.text)('.sidebar a[href="/bo/motifs-cloture"]').length).toBe(0);
    const blank = await anna.agent.get("/bo/motifs-cloture/nouveau");
    expect($(blank.text)("#reason-label").attr("maxlength")).toBe("120");

    const created = await anna.agent.post("/bo/motifs-cloture").type("form").send({ _csrf: anna.csrf, label: "  Orientation vers le service social  " });
    expect([created.status, created.headers.location]).toEqual([303, "/bo/motifs-cloture"]);
    const reasons = await reasonsOf(ainId);
    const row = reasons.at(-1);
    expect(row).toMatchObject({ label: "Orientation vers le service social", elsm_id: ainId });
    const after = await anna.agent.get("/bo/motifs-cloture");
    expect(text(after.text, "main .notice")).toContain("Le motif de clôture a été créé.");
    expect(
      $(after.text)(".closure-reasons li a:first-child")
        .map((_i, a) => $(after.text)(a).text())
        .get(),
    ).toEqual(reasons.map((r) => r.label));
    // Offered at the next close, last.
    const id = await psSend("Motif : nouveau motif proposé");
    expect(
      $((await anna.agent.get(`/bo/conversations/${id}/close`)).text)("#closure-reason option")
        .last()
        .text(),
    ).toBe("Orientation vers le service social");

    const marc = await signInAgent(app, marcDubois);
    const edit = await marc.agent.get(`/bo/motifs-cloture/${row.id}`);
    expect($(edit.text)("#reason-label").val()).toBe("Orientation vers le service social");
    expect((await marc.agent.post(`/bo/motifs-cloture/${row.id}`).type("form").send({ _csrf: marc.csrf, label: "Orientation sociale" })).status).toBe(303);
    const marcId = (await app.db("agents").where({ last_name: "DUBOIS" }).first("id")).id;
    expect(await app.db("closure_reasons").where({ id: row.id }).first()).toMatchObject({ label: "Orientation sociale", updated_by_agent_id: marcId, position: row.position });

    const confirm = await anna.agent.get(`/bo/motifs-cloture/${row.id}/supprimer`);
    expect(text(confirm.text, "h1")).toBe("Supprimer le motif « Orientation sociale » ?");
    expect(await app.db("closure_reasons").where({ id: row.id }).first()).toBeDefined();
    expect((await anna.agent.post(`/bo/motifs-cloture/${row.id}/supprimer`).type("form").send({ _csrf: anna.csrf })).status).toBe(303);
    expect(await app.db("closure_reasons").where({ id: row.id }).first()).toBeUndefined();
    expect((await anna.agent.get(`/bo/motifs-cloture/${row.id}`)).status).toBe(404);
    // A close form still naming it (served before the deletion) is refused on its field.
    const refused = await close(anna, id, { reason_id: String(row.id) });
    expect(refused.status).toBe(422);
    expect(text(refused.text, "#closure-reason-error")).toContain("Ce motif de clôture n'existe pas ou plus");

    const events = await app.db("audit_events").where({ object_type: "closure_reason", object_id: row.id }).orderBy("id").select("action", "actor_id");
    expect(events.map((e) => e.action)).toEqual(["closure_reason.created", "closure_reason.updated", "closure_reason.deleted"]);
  });

  for (const [label, value, message] of [
    ["an empty label", "   ", "Saisissez le libellé du motif"],
    ["a label of 121 characters", "L".repeat(121), "Le libellé ne peut pas dépasser 120 caractères."],
    ["a label sent as an array", ["a", "b"], "Saisissez le libellé du motif"],
  ] as const) {
    it(`refuses ${label}: 422, a French error on the field, what was typed kept, nothing written`, async () => {
      const before = (await reasonsOf(ainId)).length;
      const res = await anna.agent.post("/bo/motifs-cloture").type("form").send({ _csrf: anna.csrf, label: value });
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page("#reason-label-error").text()).toContain(message);
      expect(page("#reason-label").attr("aria-invalid")).toBe("true");
      expect(page(".error-summary a").attr("href")).toBe("#reason-label");
      if (typeof value === "string") expect(page("#reason-label").val()).toBe(value);
      expect((await reasonsOf(ainId)).length).toBe(before);
    });
  }

  it("another ELSM's agent and a doctor: 404 on every reason route, never the reason, nothing changed", async () => {
    const [own] = await reasonsOf(ainId);
    const paul = await signInAgent(app, paulHerault);
    const list = await paul.agent.get("/bo/motifs-cloture");
    expect(list.status).toBe(200);
    for (const r of await reasonsOf(heraultId)) expect($(list.text)(`a[href="/bo/motifs-cloture/${r.id}"]`).length).toBe(1);
    expect($(list.text)(`a[href="/bo/motifs-cloture/${own.id}"]`).length).toBe(0);
    for (const url of [`/bo/motifs-cloture/${own.id}`, `/bo/motifs-cloture/${own.id}/supprimer`, "/bo/motifs-cloture/abc", "/bo/motifs-cloture/0"]) {
      expect((await paul.agent.get(url)).status, url).toBe(404);
    }
    expect((await paul.agent.post(`/bo/motifs-cloture/${own.id}`).type("form").send({ _csrf: paul.csrf, label: "Volé" })).status).toBe(404);
    expect((await paul.agent.post(`/bo/motifs-cloture/${own.id}/supprimer`).type("form").send({ _csrf: paul.csrf })).status).toBe(404);
    for (const url of ["/bo/motifs-cloture", "/bo/motifs-cloture/nouveau", `/bo/motifs-cloture/${own.id}`, `/bo/motifs-cloture/${own.id}/supprimer`]) {
      expect((await gene.agent.get(url)).status, url).toBe(404);
    }
    for (const url of ["/bo/motifs-cloture", `/bo/motifs-cloture/${own.id}`, `/bo/motifs-cloture/${own.id}/supprimer`]) {
      expect((await gene.agent.post(url).type("form").send({ _csrf: gene.csrf, label: "Volé" })).status, url).toBe(404);
    }
    expect(await app.db("closure_reasons").where({ id: own.id }).first()).toMatchObject({ label: own.label, elsm_id: ainId });
  });
});
