import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, drGene, marcDubois, paulHerault, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { conversationBySubject, elsmWrites, listRows } from "../helpers/ps.js";

/** Issue 13 §1: Prendre, Attribuer à …, Libérer; the holder on the rows; "Mes échanges" / "Non attribués" / "Tous". */
let app: TestApp;
let anna: Session;
let marc: Session;
let threadId: number;
let annaId: number;
let marcId: number;
const SUBJECT = "Arrêt de travail durée maxi";
const squash = (s: string) => s.replace(/\s+/g, " ").trim();
/** The subjects of a list's rows (without their tags), in the tray column (#list) or in the page (#detail). */
function subjectsIn(html: string, where = "#list"): string[] {
  const page = $(html);
  return page(`${where} li.item .item-subject`)
    .map((_, el) => squash(page(el).text()))
    .get();
}
const rowOf = (html: string, subject: string) => listRows(html).find((r) => r.subject.endsWith(subject));

beforeAll(async () => {
  app = await startTestApp();
  anna = await signInAgent(app, annaAin);
  marc = await signInAgent(app, marcDubois);
  threadId = (await conversationBySubject(app, SUBJECT)).id;
  annaId = (await app.db("agents").where({ last_name: "AIN" }).first("id")).id;
  marcId = (await app.db("agents").where({ last_name: "DUBOIS" }).first("id")).id;
});
afterAll(async () => {
  await app.close();
});

/** The thread page's « Attribution » block, and its forms' hidden "attendu" (the holder they were shown with). */
async function block(s: Session, id = threadId) {
  const res = await s.agent.get(`/bo/conversations/${id}`);
  const page = $(res.text);
  return {
    status: res.status,
    holder: squash(page("#assignment-holder").text()),
    expected: String(page('.assignment input[name="attendu"]').first().val() ?? ""),
    buttons: page(".assignment button")
      .map((_, b) => squash(page(b).text()))
      .get(),
    options: page("#assign-agent option")
      .map((_, o) => squash(page(o).text()))
      .get(),
    flash: squash(page(".notice").text()),
  };
}

function post(s: Session, fields: Record<string, string>, id = threadId) {
  return s.agent
    .post(`/bo/conversations/${id}/attribution`)
    .type("form")
    .send({ _csrf: s.csrf, ...fields });
}

const holderOf = async (id = threadId) => (await app.db("conversations").where({ id }).first("assignee_agent_id")).assignee_agent_id;
const auditRows = (action: string) => app.db("audit_events").where({ action, object_type: "conversation", object_id: threadId }).orderBy("id");

async function trayState(): Promise<string> {
  return (await app.db("conversations").where({ id: threadId }).first("state")).state;
}
const SLUG: Record<string, string> = { a_traiter: "a-traiter", en_cours: "en-cours", clos: "clos" };

describe("taking, giving and releasing a thread", () => {
  it("an unassigned thread says so and offers Prendre and every colleague of the échelon (and no one else)", async () => {
    const b = await block(anna);
    expect(b.holder).toBe("Non attribué : aucun agent ne suit ce fil.");
    expect(b.expected).toBe("aucun");
    expect(b.buttons).toEqual(["Prendre", "Attribuer"]);
    expect(b.options).toEqual(["Choisir un agent de l'échelon", "Anna AIN", "Marc DUBOIS"]);
    expect(b.options.join(" ")).not.toContain("HERAULT");
  });

  it("Prendre: the thread is the agent's, said on the page and on its row, traced with the agent's id", async () => {
    const res = await post(anna, { action: "prendre", attendu: "aucun" });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/bo/conversations/${threadId}#assignment-holder`);
    expect(await holderOf()).toBe(annaId);
    const b = await block(anna);
    expect(b.flash).toBe("Vous avez pris ce fil : il est dans « Mes échanges ».");
    expect(b.holder).toBe("Attribué à : Anna AIN (vous)");
    expect(b.buttons).toEqual(["Libérer", "Attribuer"]);
    expect(b.options).not.toContain("Anna AIN");
    // A colleague sees who holds it, and may take it.
    expect((await block(marc)).holder).toBe("Attribué à : Anna AIN");
    expect((await block(marc)).buttons).toEqual(["Prendre", "Libérer", "Attribuer"]);
    const tray = (await anna.agent.get(`/bo/bannettes/${SLUG[await trayState()]}`)).text;
    expect(rowOf(tray, SUBJECT)?.lines).toContain("Attribué à : Anna AIN");
    const [row] = await auditRows("conversation.assigned");
    expect(row).toMatchObject({ actor_type: "agent", actor_id: annaId, assignee_agent_id: annaId });
  });

  it("Attribuer à a colleague: it leaves Anna's « Mes échanges » for Marc's", async () => {
    const res = await post(anna, { action: "attribuer", agent_id: String(marcId), attendu: String(annaId) });
    expect(res.status).toBe(303);
    expect(await holderOf()).toBe(marcId);
    expect((await block(anna)).flash).toBe("Le fil est attribué à Marc DUBOIS.");
    const annaMine = $((await anna.agent.get("/bo/mes-echanges")).text);
    expect(subjectsIn(annaMine.html(), "#detail")).toEqual([]);
    expect(squash(annaMine("#detail .empty").text())).toContain("Aucun échange ne vous est attribué.");
    expect(squash(annaMine("h1").text())).toBe("Tous mes échanges (0)");
    const marcMine = $((await marc.agent.get("/bo/mes-echanges")).text);
    expect(subjectsIn(marcMine.html(), "#detail")).toEqual([SUBJECT]);
    expect(squash(marcMine("h1").text())).toBe("Tous mes échanges (1)");
    expect(squash(marcMine('a[href="/bo/mes-echanges"]').text())).toBe("Tous mes échanges (1)");
    const rows = await auditRows("conversation.assigned");
    expect(rows.at(-1)).toMatchObject({ actor_id: annaId, assignee_agent_id: marcId });
  });

  it("a colleague's reply does not take the thread: Marc still holds it, Anna becomes the Rédacteur", async () => {
    await elsmWrites(app, "AIN", threadId, "Réponse d'Anna sur le fil de Marc.");
    const c = await app.db("conversations").where({ id: threadId }).first("assignee_agent_id", "redacteur_agent_id");
    expect(c).toEqual({ assignee_agent_id: marcId, redacteur_agent_id: annaId });
    const lines = rowOf((await marc.agent.get(`/bo/bannettes/${SLUG[await trayState()]}`)).text, SUBJECT)?.lines ?? [];
    expect(lines).toContain("Attribué à : Marc DUBOIS");
    expect(lines.join(" ")).toContain("Rédacteur : Anna AIN");
  });

  it("Libérer: nobody holds it, traced as released", async () => {
    const res = await post(marc, { action: "liberer", attendu: String(marcId) });
    expect(res.status).toBe(303);
    expect(await holderOf()).toBeNull();
    expect((await block(marc)).flash).toBe("Le fil est libéré : il n'est plus attribué.");
    expect(await auditRows("conversation.released")).toHaveLength(1);
  });
});

describe("two agents at once, and bad requests", () => {
  it("two agents press Prendre on the same page: the first takes it, the second is told who did and changes nothing", async () => {
    const [a, m] = await Promise.all([block(anna), block(marc)]);
    expect(a.expected).toBe("aucun");
    expect(m.expected).toBe("aucun");
    expect((await post(anna, { action: "prendre", attendu: a.expected })).status).toBe(303);
    const late = await post(marc, { action: "prendre", attendu: m.expected });
    expect(late.status).toBe(409);
    const page = $(late.text);
    expect(squash(page(".error-summary").text())).toContain("Entre-temps, ce fil a été attribué à Anna AIN : rien n'a été changé.");
    expect(squash(page("#assignment-holder").text())).toBe("Attribué à : Anna AIN");
    expect(await holderOf()).toBe(annaId);
  });

  it("given to an agent of another échelon, an unknown id or none: a French error, nothing written, nothing of the other agent shown", async () => {
    const paulId = (await app.db("agents").where({ last_name: "HERAULT" }).first("id")).id;
    const traced = () => app.db("audit_events").whereIn("action", ["conversation.assigned", "conversation.released"]).count({ n: "*" });
    const before = (await traced())[0]!.n;
    for (const [agentId, message] of [
      [String(paulId), "Cet agent n'appartient pas à votre échelon : choisissez un agent de la liste."],
      ["999999", "Cet agent n'appartient pas à votre échelon : choisissez un agent de la liste."],
      ["", "Choisissez l'agent à qui attribuer ce fil."],
      ["abc", "Choisissez l'agent à qui attribuer ce fil."],
    ] as const) {
      const res = await post(anna, { action: "attribuer", agent_id: agentId, attendu: String(annaId) });
      expect(res.status, agentId).toBe(422);
      const page = $(res.text);
      expect(squash(page("#assign-agent-error").text())).toBe(message);
      expect(page("#assign-agent").attr("aria-invalid")).toBe("true");
      expect(res.text).not.toContain("HERAULT");
    }
    expect((await post(anna, { attendu: String(annaId) })).status).toBe(422);
    expect((await post(anna, { action: "voler", attendu: String(annaId) })).status).toBe(422);
    expect(await holderOf()).toBe(annaId);
    expect((await traced())[0]!.n).toBe(before);
  });

  it("an agent of another échelon or a doctor: 404, and the thread keeps its holder; without the CSRF token: refused", async () => {
    const paul = await signInAgent(app, paulHerault);
    expect((await post(paul, { action: "prendre" })).status).toBe(404);
    const gene = await signInPs(app, drGene);
    expect((await gene.agent.post(`/bo/conversations/${threadId}/attribution`).type("form").send({ _csrf: gene.csrf, action: "prendre" })).status).toBe(404);
    const noToken = await marc.agent.post(`/bo/conversations/${threadId}/attribution`).type("form").send({ action: "prendre" });
    expect(noToken.status).toBe(403);
    expect(await holderOf()).toBe(annaId);
  });

  it("the doctor's side never shows who holds the thread", async () => {
    const gene = await signInPs(app, drGene);
    const c = await app.db("conversations").where({ id: threadId }).first("ps_practitioner_id");
    const doctor = await app.db("practitioners").where({ id: c.ps_practitioner_id }).first("nam");
    const party = doctor.nam === drGene.nam ? gene : await signInPs(app, { nam: doctor.nam });
    for (const url of ["/ps/messages", `/ps/conversations/${threadId}`]) {
      const res = await party.agent.get(url);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain("Attribué");
      expect(res.text).not.toContain("attribution");
    }
  });
});

describe("each tray by holder: Mes échanges / Non attribués / Tous, in the URL", () => {
  it("lists the agent's own, the unheld or all threads, with a count equal to the rows, and keeps the view in the tabs' links only", async () => {
    const slug = SLUG[await trayState()]!;
    const subjects = async (s: Session, query: string) => subjectsIn((await s.agent.get(`/bo/bannettes/${slug}${query}`)).text);
    expect(await subjects(anna, "?attribution=moi")).toEqual([SUBJECT]);
    expect(await subjects(marc, "?attribution=moi")).toEqual([]);
    expect(await subjects(anna, "?attribution=aucun")).not.toContain(SUBJECT);
    expect(await subjects(anna, "?attribution=tous")).toContain(SUBJECT);
    // An unknown value is the default view.
    expect(await subjects(anna, "?attribution=autre")).toEqual(await subjects(anna, ""));

    const state = await trayState();
    const inTray = await app.db("conversations").join("elsms", "elsms.id", "conversations.elsm_id").where({ "elsms.code": "ELSM 011", state });
    const unheld = inTray.filter((c) => c.assignee_agent_id === null).length;
    const page = $((await anna.agent.get(`/bo/bannettes/${slug}?attribution=aucun`)).text);
    expect(squash(page("#list-title").text())).toMatch(new RegExp(`— non attribués \\(${unheld}\\)$`));
    expect(page("#tray-attribution option[selected]").text()).toBe("Non attribués");
    // The tabs keep the view (the URL), the plain tray URL does not remember it (not the session).
    expect(page("nav .tabs a").first().attr("href")).toContain("attribution=aucun");
    expect(squash($((await anna.agent.get(`/bo/bannettes/${slug}`)).text)("#list-title").text())).not.toContain("non attribués");
    // Combined with another filter: the agent's threads, unread only.
    expect(await subjects(anna, "?attribution=moi&non_lus=1")).toEqual(inTray.filter((c) => c.assignee_agent_id === annaId && c.elsm_unread > 0).map((c) => c.subject));
  });

  it("the mine page lists the agent's threads across the three trays, each with its tray, and counts them", async () => {
    // Anna takes two more threads of her échelon in other trays.
    const others = await app
      .db("conversations")
      .join("elsms", "elsms.id", "conversations.elsm_id")
      .where({ "elsms.code": "ELSM 011" })
      .whereNot("conversations.id", threadId)
      .orderBy("conversations.id")
      .select("conversations.id", "conversations.state");
    const current = await trayState();
    const taken = [others.find((c) => c.state === "clos"), others.find((c) => c.state !== current && c.state !== "clos")].filter(Boolean) as { id: number }[];
    for (const c of taken) expect((await post(anna, { action: "prendre", attendu: "aucun" }, c.id)).status).toBe(303);
    const page = $((await anna.agent.get("/bo/mes-echanges")).text);
    const rows = page("#detail .list .item");
    expect(rows.length).toBe(1 + taken.length);
    expect(page("#detail .tray-tag").length).toBe(1 + taken.length);
    expect(squash(page("h1").text())).toBe(`Tous mes échanges (${1 + taken.length})`);
  });
});
