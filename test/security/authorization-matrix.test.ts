import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  annaAin,
  bunyel,
  drBenali,
  drGene,
  drLeroy,
  drMezin,
  fixture,
  hiddenFields,
  marieRhone,
  paulHerault,
  selectPatient,
  signInAgent,
  signInPs,
  startTestApp,
  type Session,
  type TestApp,
} from "../helpers/app.js";
import { routeTable, type RouteEntry } from "../helpers/routes.js";

/**
 * Every route taking an id × every actor who is not party to the object: 404 (or the login page
 * without a session), never the object. Built from the app's route table: a new route with an id
 * is covered without editing this file; a new kind of id makes `objectFor` fail until it is named.
 */
let app: TestApp;
const SUBJECT = "Objet très confidentiel de la matrice";
const ids = {
  ps: { conversation: 0, draft: 0, attachment: 0, model: 0, reason: 0, message: 0 },
  bo: { conversation: 0, draft: 0, attachment: 0, model: 0, reason: 0, message: 0 },
};
let reasonLabel = "";
const MODEL = { title: "Modèle de la matrice", body: "Texte du modèle de la matrice" };
let owner: { ps: Session; bo: Session };

beforeAll(async () => {
  app = await startTestApp();
  const gene = await signInPs(app, drGene);
  await selectPatient(gene, bunyel);
  const form = await gene.agent.get("/ps/conversations/new");
  const sent = await gene.agent
    .post("/ps/conversations")
    .field({ ...hiddenFields(form.text), subject: SUBJECT, body: "Corps confidentiel", action: "send" })
    .attach("attachments", fixture("valid", "compte-rendu.pdf"));
  const conversation = Number(sent.headers.location.split("/").pop());
  const draftForm = await gene.agent.get("/ps/conversations/new");
  const drafted = await gene.agent
    .post("/ps/conversations")
    .field({ ...hiddenFields(draftForm.text), subject: `${SUBJECT} (brouillon)`, body: "", action: "draft" })
    .attach("attachments", fixture("valid", "radio.png"));
  const psDraft = Number(drafted.headers.location.split("/").pop());
  const attachment = (await app.db("attachments").join("messages", "messages.id", "attachments.message_id").where("messages.conversation_id", conversation).first("attachments.id"))
    .id;
  const anna = await signInAgent(app, annaAin);
  const boDraft = (await app.db("drafts").where({ side: "elsm", subject: "TEST ELSM INIT QUESTION" }).first("id")).id;
  // A saved reply of ELSM 011 (models exist only on the back-office side).
  await anna.agent
    .post("/bo/modeles")
    .type("form")
    .send({ _csrf: anna.csrf, ...MODEL });
  const model = (await app.db("reply_models").where({ title: MODEL.title }).first("id")).id;
  // A closure reason of ELSM 011 (issue 14 §3; the default list every ELSM starts with).
  const reason = await app
    .db("closure_reasons")
    .where({ elsm_id: (await app.db("elsms").where({ code: "ELSM 011" }).first("id")).id })
    .first("id", "label");
  reasonLabel = reason.label;
  // The thread's message (« Retirer le message », issue 15 §1): its author's, not opened yet — withdrawable by its owner.
  const message = (await app.db("messages").where({ conversation_id: conversation }).first("id")).id;
  ids.ps = { conversation, draft: psDraft, attachment, model: 0, reason: 0, message };
  ids.bo = { conversation, draft: boDraft, attachment, model, reason: reason.id, message };
  owner = { ps: gene, bo: anna };
});
afterAll(async () => {
  await app.close();
});

function objectFor(route: RouteEntry): { side: "ps" | "bo"; url: string } | null {
  const params = route.path.match(/:(\w+)/g);
  if (!params) return null;
  const side = route.path.startsWith("/ps/") ? "ps" : route.path.startsWith("/bo/") ? "bo" : null;
  if (!side) throw new Error(`route ${route.path} takes an id outside /ps and /bo: name its object here`);
  if (route.path === "/bo/bannettes/:tray") return null; // a tray name, not an object id
  let url = route.path;
  for (const p of params) {
    const kind =
      p === ":conversationId"
        ? "conversation"
        : p === ":draftId"
          ? "draft"
          : p === ":attachmentId"
            ? "attachment"
            : p === ":modelId" && side === "bo"
              ? "model"
              : p === ":reasonId" && side === "bo"
                ? "reason"
                : p === ":messageId"
                  ? "message"
                  : null;
    if (!kind) throw new Error(`route ${route.path}: unknown id ${p}; add its object to objectFor`);
    url = url.replace(p, String(ids[side][kind]));
  }
  return { side, url };
}

const outsiders = {
  ps: [
    ["another liberal doctor", () => signInPs(app, drMezin)],
    ["a salaried doctor of another structure", () => signInPs(app, drLeroy)],
    ["a salaried doctor of a centre (not party)", () => signInPs(app, drBenali)],
    ["an agent of the thread's own ELSM (wrong side)", () => signInAgent(app, annaAin)],
    ["an agent of another ELSM", () => signInAgent(app, paulHerault)],
  ],
  bo: [
    ["an agent of another ELSM", () => signInAgent(app, paulHerault)],
    ["an agent of the MSA échelon", () => signInAgent(app, marieRhone)],
    ["the doctor party to the thread (wrong side)", () => signInPs(app, drGene)],
    ["a salaried doctor", () => signInPs(app, drLeroy)],
  ],
} as const;

async function call(s: Session | null, route: RouteEntry, url: string, agentless: ReturnType<typeof import("supertest").agent>) {
  const client = s ? s.agent : agentless;
  return route.method === "get"
    ? client.get(url)
    : client
        .post(url)
        .type("form")
        .send(s ? { _csrf: s.csrf, body: "x", subject: "x", action: "send", note: "x", label: "x", reason_id: String(ids.bo.reason) } : { body: "x", note: "x" });
}

describe("authorization matrix", () => {
  it("covers every route that takes an id (sanity: the table is not empty)", () => {
    const covered = routeTable(app.app).filter((r) => objectFor(r));
    expect(covered.length).toBeGreaterThanOrEqual(18);
    // Every route of the saved replies that names one (edit, its post, delete confirmation and post, the filled text).
    expect(covered.filter((r) => r.path.includes(":modelId")).map((r) => `${r.method} ${r.path}`)).toHaveLength(5);
    // Every route of the closure reasons that names one (issue 14 §3: edit, its post, delete confirmation and post).
    expect(covered.filter((r) => r.path.includes(":reasonId")).map((r) => `${r.method} ${r.path}`)).toEqual([
      "get /bo/motifs-cloture/:reasonId",
      "post /bo/motifs-cloture/:reasonId",
      "get /bo/motifs-cloture/:reasonId/supprimer",
      "post /bo/motifs-cloture/:reasonId/supprimer",
    ]);
  });

  it("the owners themselves reach every GET route (the ids are real)", async () => {
    for (const route of routeTable(app.app).filter((r) => r.method === "get")) {
      const target = objectFor(route);
      if (!target) continue;
      const res = await owner[target.side].agent.get(target.url);
      expect(res.status, `${route.path} for its owner`).not.toBe(404);
    }
  });

  for (const side of ["ps", "bo"] as const) {
    for (const [label, signIn] of outsiders[side]) {
      it(`${label}: 404 on every ${side === "ps" ? "doctor" : "back-office"} route with an id, never the object`, async () => {
        const s = await signIn();
        const failures: string[] = [];
        for (const route of routeTable(app.app)) {
          const target = objectFor(route);
          if (!target || target.side !== side) continue;
          const res = await call(s, route, target.url, s.agent);
          if (res.status !== 404 || res.text.includes(SUBJECT) || res.text.includes("Corps confidentiel") || res.text.includes(MODEL.body))
            failures.push(`${route.method.toUpperCase()} ${route.path} → ${res.status}`);
        }
        expect(failures).toEqual([]);
      });
    }
    it(`no session: every ${side} route with an id sends to the login page`, async () => {
      const { agent } = await import("supertest");
      const anonymous = agent(app.app);
      const failures: string[] = [];
      for (const route of routeTable(app.app)) {
        const target = objectFor(route);
        if (!target || target.side !== side) continue;
        const res = await call(null, route, target.url, anonymous);
        if (res.status !== 303 || res.headers.location !== `/${side}/login` || res.text.includes(SUBJECT))
          failures.push(`${route.method.toUpperCase()} ${route.path} → ${res.status} ${res.headers.location}`);
      }
      expect(failures).toEqual([]);
    });
  }

  it("nothing changed for the owners after all those attempts", async () => {
    const conversation = await app.db("conversations").where({ id: ids.ps.conversation }).first();
    expect(conversation).toMatchObject({ state: "a_traiter", ps_deleted_at: null, closed_at: null });
    expect(await app.db("messages").where({ conversation_id: ids.ps.conversation })).toHaveLength(1);
    // POST …/messages/:messageId/retirer: the doctor's message is still there, not withdrawn, with its text.
    expect(await app.db("messages").where({ id: ids.ps.message }).first("withdrawn_at", "body")).toEqual({ withdrawn_at: null, body: "Corps confidentiel" });
    expect(await app.db("drafts").where({ id: ids.ps.draft }).first()).toBeDefined();
    expect(await app.db("drafts").where({ id: ids.bo.draft }).first()).toBeDefined();
    expect(await app.db("reply_models").where({ id: ids.bo.model }).first()).toMatchObject(MODEL);
    // The closure reason routes (renamed to "x" or deleted had they been reached), and the close (with a valid reason).
    expect(await app.db("closure_reasons").where({ id: ids.bo.reason }).first()).toMatchObject({ label: reasonLabel });
    expect(conversation.closed_reason_label).toBeNull();
    // POST /bo/conversations/:conversationId/notes (a valid note was posted by each outsider): no note written.
    expect(await app.db("internal_notes").where({ conversation_id: ids.bo.conversation })).toEqual([]);
    // POST /bo/conversations/:conversationId/attribution: nobody took the thread.
    expect(conversation.assignee_agent_id).toBeNull();
    // POST /ps|bo/conversations/:conversationId/unread: marked unread by neither side.
    expect([Boolean(conversation.ps_marked_unread), Boolean(conversation.elsm_marked_unread)]).toEqual([false, false]);
  });

  it("the note route is among the covered ones, and its owner's post of the same form is written (the check is not vacuous)", async () => {
    expect(routeTable(app.app).some((r) => r.method === "post" && r.path === "/bo/conversations/:conversationId/notes" && objectFor(r))).toBe(true);
    const res = await owner.bo.agent.post(`/bo/conversations/${ids.bo.conversation}/notes`).type("form").send({ _csrf: owner.bo.csrf, note: "x" });
    expect(res.status).toBe(303);
    expect(await app.db("internal_notes").where({ conversation_id: ids.bo.conversation })).toHaveLength(1);
  });
});

describe("the routes without an id (issue 13's « Mes échanges », models, search by words; issue 14's settings, dashboard and CSV; lists, forms…)", () => {
  const LOGIN = /^\/(ps|bo)\/login$/;
  const sideRoutes = (side: "ps" | "bo") => routeTable(app.app).filter((r) => r.path.startsWith(`/${side}/`) && !r.path.includes(":") && !LOGIN.test(r.path));

  it("include the issue 13 and 14 pages (the list is not vacuous)", () => {
    const bo = sideRoutes("bo").map((r) => `${r.method} ${r.path}`);
    for (const route of ["get /bo/mes-echanges", "get /bo/modeles", "get /bo/modeles/nouveau", "post /bo/modeles", "post /bo/recherche"]) expect(bo).toContain(route);
    expect(sideRoutes("ps").map((r) => `${r.method} ${r.path}`)).toContain("post /ps/search");
    for (const route of ["get /bo/delais", "post /bo/delais", "get /bo/tableau-de-bord", "get /bo/tableau-de-bord.csv", "get /bo/motifs-cloture", "post /bo/motifs-cloture"])
      expect(bo).toContain(route);
    expect(sideRoutes("ps").length).toBeGreaterThanOrEqual(8);
  });

  for (const [side, label, signIn] of [
    ["bo", "a doctor (even one party to the échelon's threads)", () => signInPs(app, drGene)],
    ["bo", "a salaried doctor", () => signInPs(app, drLeroy)],
    ["ps", "an agent", () => signInAgent(app, annaAin)],
  ] as const) {
    it(`${label}: 404 on every ${side === "bo" ? "back-office" : "doctor"} route, never its figures; nothing written`, async () => {
      const s = await signIn();
      const models = await app.db("reply_models").count<{ n: number }[]>({ n: "*" });
      const failures: string[] = [];
      for (const route of sideRoutes(side)) {
        const res =
          route.method === "get"
            ? await s.agent.get(route.path)
            : await s.agent
                .post(route.path)
                .type("form")
                .send({ _csrf: s.csrf, elsm_days: "1", ps_days: "1", label: "Motif forgé", title: "x", body: "x", subject: "x", action: "send" });
        // The 404 page keeps the signed-in side's banner: what must be absent is the page's own content.
        if (res.status !== 404 || /Semaine du|id="elsm-days"|id="table-agents"|Réponse apportée/.test(res.text))
          failures.push(`${route.method.toUpperCase()} ${route.path} → ${res.status}`);
      }
      expect(failures).toEqual([]);
      expect(await app.db("elsms").where({ code: "ELSM 011" }).first("elsm_answer_days", "ps_answer_days")).toEqual({ elsm_answer_days: 15, ps_answer_days: 21 });
      expect(await app.db("closure_reasons").where({ label: "Motif forgé" })).toEqual([]);
      expect(await app.db("reply_models").count<{ n: number }[]>({ n: "*" })).toEqual(models);
    });
  }

  it("no session: every back-office route sends to the back office's login, every doctor's route to the doctors'", async () => {
    const { agent } = await import("supertest");
    const anonymous = agent(app.app);
    const failures: string[] = [];
    for (const side of ["ps", "bo"] as const)
      for (const route of sideRoutes(side)) {
        const res = route.method === "get" ? await anonymous.get(route.path) : await anonymous.post(route.path).type("form").send({ label: "x" });
        if (res.status !== 303 || res.headers.location !== `/${side}/login`) failures.push(`${route.method.toUpperCase()} ${route.path} → ${res.status} ${res.headers.location}`);
      }
    expect(failures).toEqual([]);
  });
});

describe("the assignment route (issue 13 §1)", () => {
  it("is among the covered ones, and its owner's Prendre is written (the outsiders' 404 was the loader's, not a refusal)", async () => {
    expect(routeTable(app.app).some((r) => r.method === "post" && r.path === "/bo/conversations/:conversationId/attribution" && objectFor(r))).toBe(true);
    const paul = await signInAgent(app, paulHerault);
    const outsider = await paul.agent.post(`/bo/conversations/${ids.bo.conversation}/attribution`).type("form").send({ _csrf: paul.csrf, action: "prendre" });
    expect(outsider.status).toBe(404);
    const res = await owner.bo.agent.post(`/bo/conversations/${ids.bo.conversation}/attribution`).type("form").send({ _csrf: owner.bo.csrf, action: "prendre" });
    expect(res.status).toBe(303);
    expect((await app.db("conversations").where({ id: ids.bo.conversation }).first("assignee_agent_id")).assignee_agent_id).not.toBeNull();
  });
});

describe("the mark-unread routes (issue 14 §4)", () => {
  it("are among the covered ones on both sides, and their owners' posts mark the thread (the outsiders' 404 was the loader's)", async () => {
    for (const side of ["ps", "bo"] as const) {
      expect(routeTable(app.app).some((r) => r.method === "post" && r.path === `/${side}/conversations/:conversationId/unread` && objectFor(r))).toBe(true);
      const res = await owner[side].agent.post(`/${side}/conversations/${ids[side].conversation}/unread`).type("form").send({ _csrf: owner[side].csrf });
      expect(res.status).toBe(303);
    }
    const c = await app.db("conversations").where({ id: ids.ps.conversation }).first("ps_marked_unread", "elsm_marked_unread");
    expect([Boolean(c.ps_marked_unread), Boolean(c.elsm_marked_unread)]).toEqual([true, true]);
  });
});

describe("mass assignment", () => {
  it("fields the form does not offer (elsm_id, author, state, patient_id…) change nothing", async () => {
    const gene = await signInPs(app, drGene);
    await selectPatient(gene, bunyel);
    const form = await gene.agent.get("/ps/conversations/new");
    const paul = await app.db("agents").where({ last_name: "HERAULT" }).first();
    const res = await gene.agent.post("/ps/conversations").field({
      ...hiddenFields(form.text),
      subject: "Champs en trop",
      body: "Bonjour",
      action: "send",
      elsm_id: String(paul.elsm_id),
      state: "clos",
      author_practitioner_id: "2",
      author_agent_id: String(paul.id),
      patient_id: "4",
      ps_practitioner_id: "2",
      started_by: "elsm",
      read_at: "2020-01-01T00:00:00.000Z",
      side: "elsm",
    });
    expect(res.status).toBe(303);
    const id = Number(res.headers.location.split("/").pop());
    const c = await app.db("conversations").where({ id }).first();
    const genePractitioner = await app.db("practitioners").where({ nam: drGene.nam }).first();
    const ain = await app.db("elsms").where({ code: "ELSM 011" }).first();
    const bunyelPatient = await app.db("patients").where({ nir: bunyel.nir, first_name: "Guillaume" }).first();
    expect(c).toMatchObject({ elsm_id: ain.id, state: "a_traiter", started_by: "ps", ps_practitioner_id: genePractitioner.id, patient_id: bunyelPatient.id });
    const m = await app.db("messages").where({ conversation_id: id }).first();
    expect(m).toMatchObject({ side: "ps", author_practitioner_id: genePractitioner.id, author_agent_id: null, read_at: null });
  });

  it("a forged patient in the signed form context is refused (the signature does not match)", async () => {
    const gene = await signInPs(app, drGene);
    await selectPatient(gene, bunyel);
    const form = await gene.agent.get("/ps/conversations/new");
    const fields = hiddenFields(form.text);
    const [payload, mac] = fields._ctx!.split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), p: 4 })).toString("base64url");
    const res = await gene.agent.post("/ps/conversations").field({ ...fields, _ctx: `${forged}.${mac}`, subject: "Patient forgé", body: "x", action: "send" });
    expect(res.status).toBe(303);
    const id = Number(res.headers.location.split("/").pop());
    const bunyelPatient = await app.db("patients").where({ nir: bunyel.nir, first_name: "Guillaume" }).first();
    expect((await app.db("conversations").where({ id }).first()).patient_id).toBe(bunyelPatient.id);
  });
});
