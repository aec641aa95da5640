import { textAll } from "../helpers/ps.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  $,
  annaAin,
  bunyel,
  drGene,
  drRoux,
  fixture,
  hiddenFields,
  marcDubois,
  paulHerault,
  selectPatient,
  signInAgent,
  signInPs,
  startTestApp,
  type Session,
  type TestApp,
  closeReasonId,
} from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const text = textAll;

async function trayItems(s: Session, slug: string) {
  const page = $((await s.agent.get(`/bo/bannettes/${slug}`)).text);
  return page("#list .item")
    .map((_, el) => ({
      subject: page(el).find(".item-subject").text().trim(),
      text: page(el).text().replace(/\s+/g, " ").trim(),
      unread: page(el).hasClass("unread"),
      badge: page(el).find(".badge").attr("class") ?? "",
      href: page(el).find("a").attr("href") ?? "",
    }))
    .get();
}

async function trayOf(s: Session, subject: string): Promise<string | null> {
  for (const slug of ["a-traiter", "en-cours", "clos"]) {
    if ((await trayItems(s, slug)).some((i) => i.subject === subject)) return slug;
  }
  return null;
}

async function psSend(s: Session, subject: string, body: string, withFile = false) {
  await selectPatient(s, bunyel);
  const form = await s.agent.get("/ps/conversations/new");
  let req = s.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject, body, action: "send" });
  if (withFile) req = req.attach("attachments", fixture("valid", "compte-rendu.pdf"));
  const res = await req;
  expect(res.status).toBe(303);
  return Number(res.headers.location.split("/").pop());
}

async function reply(s: Session, base: "/ps" | "/bo", id: number, body: string) {
  const form = await s.agent.get(`${base}/conversations/${id}/reply`);
  return s.agent.post(`${base}/conversations/${id}/messages`).field({ ...hiddenFields(form.text), body, action: "send" });
}

describe("the three trays", () => {
  it("show their counts and the seeded threads of the agent's ELSM only", async () => {
    const anna = await signInAgent(app, annaAin);
    const page = await anna.agent.get("/bo/bannettes/a-traiter");
    expect(page.status).toBe(200);
    // What is seen (the count, and its unread threads when there are any), without what only a screen reader reads.
    const tabs = $(page.text)("nav .tabs a")
      .map((_, a) => $(page.text)(a).clone().find(".visually-hidden").remove().end().text().replace(/\s+/g, " ").trim())
      .get();
    expect(tabs).toEqual([expect.stringMatching(/^A TRAITER \(\d+ · \d+ non lus?\)$/), expect.stringMatching(/^EN COURS \(\d+\)$/), expect.stringMatching(/^CLOS \(\d+\)$/)]);
    const items = await trayItems(anna, "a-traiter");
    expect(items.map((i) => i.subject)).toContain("info ALD");
    expect(items.map((i) => i.subject)).not.toContain("Chirurgie bariatrique - entente préalable"); // Hérault's
    const info = items.find((i) => i.subject === "info ALD")!;
    expect(info.text).toContain("Dr GENE Alain");
    expect(info.text).toContain("N°AM : 991101197 - 34170 CASTELNAU LE LEZ");
    expect(info.text).toContain("Patient(e) : Guillaume BUNYEL");
    expect(info.text).toMatch(/lundi, 15\/04\/2019 15:14/);
    expect(info.unread).toBe(true);
    expect(info.badge).toContain("badge-incoming");
  });

  it("list the ELSM's started threads and drafts in EN COURS, with [Brouillon], the échelon's dark badge for a patient's thread, and Rédacteur", async () => {
    const anna = await signInAgent(app, annaAin);
    const items = await trayItems(anna, "en-cours");
    const started = items.find((i) => i.subject === "Recherche")!;
    expect(started.badge).toContain("badge-incoming");
    expect(started.text).toContain("ELSM 011");
    expect(started.text).toContain("Rédacteur : Anna AIN");
    expect(items.some((i) => i.text.includes("[Brouillon]") && i.text.includes("TEST ELSM INIT QUESTION"))).toBe(true);
  });

  it("put a closed thread in CLOS", async () => {
    const anna = await signInAgent(app, annaAin);
    expect((await trayItems(anna, "clos")).map((i) => i.subject)).toContain("Sans dossier");
  });

  it("are shared by the agents of one ELSM and closed to another ELSM's agents (404 on the thread)", async () => {
    const gene = await signInPs(app, drGene);
    const id = await psSend(gene, "Partage des bannettes", "Bonjour");
    const marc = await signInAgent(app, marcDubois);
    expect((await trayItems(marc, "a-traiter")).map((i) => i.subject)).toContain("Partage des bannettes");
    const paul = await signInAgent(app, paulHerault);
    expect((await trayItems(paul, "a-traiter")).map((i) => i.subject)).not.toContain("Partage des bannettes");
    expect((await paul.agent.get(`/bo/conversations/${id}`)).status).toBe(404);
  });

  it("unknown tray is a 404", async () => {
    const anna = await signInAgent(app, annaAin);
    expect((await anna.agent.get("/bo/bannettes/archives")).status).toBe(404);
  });
});

describe("the loop across both sides", () => {
  it("send → A TRAITER (bold), open → read on both sides, reply → EN COURS, doctor answers → A TRAITER, close → CLOS, doctor writes → A TRAITER", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const id = await psSend(gene, "Boucle complète", "Question du médecin", true);

    let item = (await trayItems(anna, "a-traiter")).find((i) => i.subject === "Boucle complète");
    expect(item?.unread).toBe(true);

    const before = await gene.agent.get(`/ps/conversations/${id}`);
    expect(text(before.text, ".message-ps .read-state")).toBe("Pas encore lu par l'échelon");
    const opened = await anna.agent.get(`/bo/conversations/${id}`);
    expect(opened.status).toBe(200);
    expect(text(opened.text, ".messages")).toContain("Question du médecin");
    expect($(opened.text)(".attachments a").text()).toBe("compte-rendu.pdf");
    item = (await trayItems(anna, "a-traiter")).find((i) => i.subject === "Boucle complète");
    expect(item?.unread).toBe(false);
    const after = await gene.agent.get(`/ps/conversations/${id}`);
    expect(text(after.text, ".message-ps .read-state")).toMatch(/^Lu par l'échelon le \w+, \d{1,2}\/\d{2}\/\d{4} \d{2}:\d{2}$/);

    const answered = await reply(anna, "/bo", id, "Réponse de l'échelon");
    expect(answered.status).toBe(303);
    expect(await trayOf(anna, "Boucle complète")).toBe("en-cours");
    const thread = await anna.agent.get(`/bo/conversations/${id}`);
    expect(text(thread.text, ".messages")).toContain("Anna AIN — ELSM de l'AIN");

    // The doctor sees the answer unread, opens it; the back office then shows [Lu].
    const list = $((await gene.agent.get("/ps/messages")).text);
    expect(list(`a[href="/ps/conversations/${id}"]`).closest(".item").hasClass("unread")).toBe(true);
    await gene.agent.get(`/ps/conversations/${id}`);
    expect((await trayItems(anna, "en-cours")).find((i) => i.subject === "Boucle complète")?.text).toContain("[Lu]");

    expect((await reply(gene, "/ps", id, "Réponse du médecin")).status).toBe(303);
    expect(await trayOf(anna, "Boucle complète")).toBe("a-traiter");

    const confirm = await anna.agent.get(`/bo/conversations/${id}/close`);
    expect(text(confirm.text, "h1")).toContain("Clôturer la conversation");
    expect(
      (
        await anna.agent
          .post(`/bo/conversations/${id}/close`)
          .type("form")
          .send({ _csrf: anna.csrf, reason_id: await closeReasonId(app) })
      ).status,
    ).toBe(303);
    expect(await trayOf(anna, "Boucle complète")).toBe("clos");
    const closed = await anna.agent.get(`/bo/conversations/${id}`);
    expect(closed.status).toBe(200);
    expect($(closed.text)(`a[href="/bo/conversations/${id}/reply"]`).length).toBe(0);

    expect((await reply(gene, "/ps", id, "Encore une question")).status).toBe(303);
    expect(await trayOf(anna, "Boucle complète")).toBe("a-traiter");
  });

  it("refuses an ELSM reply or draft posted after another agent closed the thread, saying who, and keeps the text and the file", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const marc = await signInAgent(app, marcDubois);
    const id = await psSend(gene, "Fil à clore", "Bonjour");
    const form = await anna.agent.get(`/bo/conversations/${id}/reply`);
    await marc.agent
      .post(`/bo/conversations/${id}/close`)
      .type("form")
      .send({ _csrf: marc.csrf, reason_id: await closeReasonId(app) });
    for (const [action, said] of [
      ["send", "la réponse n'a pas été envoyée"],
      ["draft", "le brouillon n'a pas été enregistré"],
    ]) {
      const res = await anna.agent
        .post(`/bo/conversations/${id}/messages`)
        .field({ ...hiddenFields(form.text), body: "Texte tapé trop tard", action: action! })
        .attach("attachments", fixture("valid", "radio.png"));
      expect(res.status).toBe(409);
      expect(text(res.text, ".error-summary")).toContain(`Ce fil a été clos par Marc DUBOIS pendant votre saisie : ${said}.`);
      expect($(res.text)("textarea#body").text()).toBe("Texte tapé trop tard");
      expect(text(res.text, "ul.attached")).toContain("radio.png");
    }
    expect(await app.db("messages").where({ conversation_id: id })).toHaveLength(1);
    expect(await app.db("drafts").where({ conversation_id: id, side: "elsm" }).first()).toBeUndefined();
    expect((await app.db("conversations").where({ id }).first()).state).toBe("clos");
  });

  it("a reply and a close posted at once by two agents: replied then closed, or closed and the reply refused; never reopened", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const marc = await signInAgent(app, marcDubois);
    for (let i = 0; i < 6; i++) {
      const id = await psSend(gene, `Course ${i}`, "Bonjour");
      const form = await anna.agent.get(`/bo/conversations/${id}/reply`);
      const [sent, closed] = await Promise.all([
        anna.agent.post(`/bo/conversations/${id}/messages`).field({ ...hiddenFields(form.text), body: `Réponse ${i}`, action: "send" }),
        marc.agent
          .post(`/bo/conversations/${id}/close`)
          .type("form")
          .send({ _csrf: marc.csrf, reason_id: await closeReasonId(app) }),
      ]);
      expect(closed.status).toBe(303);
      const c = await app.db("conversations").where({ id }).first();
      expect(c.state, `thread ${i}`).toBe("clos");
      const elsm = await app.db("messages").where({ conversation_id: id, side: "elsm" });
      if (sent.status === 303) {
        expect(elsm).toHaveLength(1);
        expect(elsm[0].sent_at <= c.closed_at).toBe(true);
      } else {
        expect(sent.status).toBe(409);
        expect(text(sent.text, ".error-summary")).toContain("Ce fil a été clos par Marc DUBOIS pendant votre saisie");
        expect($(sent.text)("textarea#body").text()).toBe(`Réponse ${i}`);
        expect(elsm).toHaveLength(0);
      }
    }
  });

  it("closes once when Clôturer is posted four times at once (double click, two agents): every post answers like the first", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const marc = await signInAgent(app, marcDubois);
    const id = await psSend(gene, "Quatre clôtures", "Bonjour");
    const countsBefore = await app.db("tray_counts").where({ elsm_id: (await app.db("conversations").where({ id }).first("elsm_id")).elsm_id });
    const reason = await closeReasonId(app);
    const closes = await Promise.all([anna, anna, marc, marc].map((s) => s.agent.post(`/bo/conversations/${id}/close`).type("form").send({ _csrf: s.csrf, reason_id: reason })));
    expect(closes.map((r) => r.status)).toEqual([303, 303, 303, 303]);
    expect(closes.map((r) => r.headers.location)).toEqual(Array(4).fill(`/bo/conversations/${id}`));
    // Once more afterwards: the same answer, not an error page.
    const again = await anna.agent
      .post(`/bo/conversations/${id}/close`)
      .type("form")
      .send({ _csrf: anna.csrf, reason_id: await closeReasonId(app) });
    expect([again.status, again.headers.location]).toEqual([303, `/bo/conversations/${id}`]);
    expect(await trayOf(anna, "Quatre clôtures")).toBe("clos");
    expect(await app.db("audit_events").where({ action: "conversation.closed", object_id: id })).toHaveLength(1);
    const countsAfter = await app.db("tray_counts").where({ elsm_id: countsBefore[0]!.elsm_id });
    const n = (rows: { state: string; n: number }[], state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    expect(n(countsAfter, "a_traiter")).toBe(n(countsBefore, "a_traiter") - 1);
    expect(n(countsAfter, "clos")).toBe(n(countsBefore, "clos") + 1);
  });

  it("keeps one message when the same reply is posted twice (double click)", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const id = await psSend(gene, "Double clic", "Bonjour");
    const form = await anna.agent.get(`/bo/conversations/${id}/reply`);
    const fields = { ...hiddenFields(form.text), body: "Une seule fois", action: "send" };
    const [a, b] = await Promise.all([anna.agent.post(`/bo/conversations/${id}/messages`).field(fields), anna.agent.post(`/bo/conversations/${id}/messages`).field(fields)]);
    expect([a.status, b.status]).toEqual([303, 303]);
    const rows = await app.db("messages").where({ conversation_id: id, side: "elsm" });
    expect(rows).toHaveLength(1);
  });

  it("keeps both replies, in order, when two agents answer the same thread at once", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const marc = await signInAgent(app, marcDubois);
    const id = await psSend(gene, "Deux agents", "Bonjour");
    const [fa, fm] = [await anna.agent.get(`/bo/conversations/${id}/reply`), await marc.agent.get(`/bo/conversations/${id}/reply`)];
    const [ra, rm] = await Promise.all([
      anna.agent.post(`/bo/conversations/${id}/messages`).field({ ...hiddenFields(fa.text), body: "Réponse d'Anna", action: "send" }),
      marc.agent.post(`/bo/conversations/${id}/messages`).field({ ...hiddenFields(fm.text), body: "Réponse de Marc", action: "send" }),
    ]);
    expect([ra.status, rm.status]).toEqual([303, 303]);
    const rows = await app.db("messages").where({ conversation_id: id, side: "elsm" }).orderBy(["sent_at", "id"]);
    expect(rows.map((r) => r.body).sort()).toEqual(["Réponse d'Anna", "Réponse de Marc"]);
    const page = await anna.agent.get(`/bo/conversations/${id}`);
    expect($(page.text)(".message-elsm").length).toBe(2);
    expect(await trayOf(anna, "Deux agents")).toBe("en-cours");
  });

  it("a thread the doctor deleted stays in the back office, and an ELSM message brings it back to the doctor", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const id = await psSend(gene, "Relance après suppression", "Bonjour");
    await gene.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: gene.csrf });
    expect((await gene.agent.get(`/ps/conversations/${id}`)).status).toBe(404);
    expect((await anna.agent.get(`/bo/conversations/${id}`)).status).toBe(200);
    expect((await reply(anna, "/bo", id, "Relance de l'échelon")).status).toBe(303);
    const back = await gene.agent.get(`/ps/conversations/${id}`);
    expect(back.status).toBe(200);
    expect(text(back.text, ".messages")).toContain("Relance de l'échelon");
  });

  it("shows a structure's thread with its raison sociale, FINESS and address", async () => {
    const roux = await signInPs(app, drRoux);
    const list = await roux.agent.get("/ps/messages");
    expect(list.status).toBe(200);
    const rhone = await signInAgent(app, { lastName: "RHONE" });
    const item = (await trayItems(rhone, "en-cours")).find((i) => i.subject === "Suivi ALD diabète")!;
    expect(item.text).toContain("CENTRE DE SANTE LES TILLEULS");
    expect(item.text).toContain("FINESS : 010012345 - 12 rue des Tilleuls 01000 BOURG EN BRESSE");
    // A thread about a patient carries the code of the échelon it is addressed to (manual §6).
    expect(item.text).toContain("MSA 069");
  });
});

describe("access history", () => {
  it("lists who opened the thread, never what it says", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const id = await psSend(gene, "Historique", "Contenu confidentiel");
    await gene.agent.get(`/ps/conversations/${id}`);
    const page = await anna.agent.get(`/bo/conversations/${id}`);
    const rows = $(page.text)(".history-table tbody tr")
      .map((_, tr) => $(page.text)(tr).text().replace(/\s+/g, " "))
      .get();
    expect(rows.some((r) => r.includes("Anna AIN") && r.includes("ELSM de l'AIN"))).toBe(true);
    expect(rows.some((r) => r.includes("Dr Alain GENE") && r.includes("Médecin libéral"))).toBe(true);
    const audit = await app.db("audit_events").where({ object_type: "conversation", object_id: id });
    expect(JSON.stringify(audit)).not.toContain("Contenu confidentiel");
    expect(JSON.stringify(audit)).not.toContain("Historique");
  });
});

describe("derived counters", () => {
  it("tray sizes, their unread and patient threads, and unread counts kept by the operations equal a full recount", async () => {
    const { recountDerived } = await import("../../src/domain/conversations/counters.js");
    const snapshot = async () => ({
      trays: (await app.db("tray_counts").orderBy(["elsm_id", "state"]).select("elsm_id", "state", "n", "unread", "patient", "patient_unread"))
        .map((r) => ({ ...r, n: Number(r.n), unread: Number(r.unread), patient: Number(r.patient), patient_unread: Number(r.patient_unread) }))
        .filter((r) => r.n > 0),
      unread: await app.db("conversations").orderBy("id").select("id", "ps_unread", "elsm_unread"),
    });
    const kept = await snapshot();
    await recountDerived(app.db);
    expect(kept).toEqual(await snapshot());
    expect(kept.trays.length).toBeGreaterThan(3);
  });
});
