import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recountDerived } from "../../src/domain/conversations/counters.js";
import { $, annaAin, bunyel, drGene, hiddenFields, selectPatient, signInAgent, signInPs, startTestApp, type Session, type TestApp, closeReasonId } from "../helpers/app.js";

/** Issue 10 §19: unread counts on the tray tabs, order and filters in the URL, paging that keeps them. */
let app: TestApp;
let elsmId: number;
beforeAll(async () => {
  app = await startTestApp();
  elsmId = (await app.db("elsms").where({ code: "ELSM 011" }).first("id")).id;
});
afterAll(async () => {
  await app.close();
});

const STATES = ["a_traiter", "en_cours", "clos"] as const;
const SLUGS = { a_traiter: "a-traiter", en_cours: "en-cours", clos: "clos" } as const;
const squash = (s: string) => s.replace(/\s+/g, " ").trim();

/** The counts kept by the operations, and the same counted from the conversations (what they must always equal). */
async function keptAndCounted() {
  const kept = await app.db("tray_counts").where({ elsm_id: elsmId }).select("state", "n", "unread", "patient", "patient_unread");
  const counted = await app
    .db("conversations")
    .where({ elsm_id: elsmId })
    .groupBy("state")
    .select(
      "state",
      app.db.raw("COUNT(*) AS n"),
      app.db.raw("SUM(CASE WHEN elsm_unread > 0 THEN 1 ELSE 0 END) AS unread"),
      app.db.raw("SUM(CASE WHEN patient_id IS NOT NULL THEN 1 ELSE 0 END) AS patient"),
      app.db.raw("SUM(CASE WHEN elsm_unread > 0 AND patient_id IS NOT NULL THEN 1 ELSE 0 END) AS patient_unread"),
    );
  const byState = (rows: Record<string, unknown>[]) =>
    Object.fromEntries(
      STATES.map((state) => {
        const r = rows.find((x) => x.state === state);
        return [state, ["n", "unread", "patient", "patient_unread"].map((k) => Number(r?.[k] ?? 0))];
      }),
    );
  return { kept: byState(kept), counted: byState(counted) };
}

/** The tabs as seen, and as a screen reader reads them. */
async function tabs(s: Session) {
  const page = $((await s.agent.get("/bo/bannettes/a-traiter")).text);
  return page("nav .tabs a")
    .map((_, a) => ({
      seen: squash(page(a).clone().find(".visually-hidden").remove().end().text()),
      heard: squash(page(a).clone().find("[aria-hidden=true]").remove().end().text()),
      href: page(a).attr("href") ?? "",
    }))
    .get();
}

async function psSend(s: Session, subject: string) {
  await selectPatient(s, bunyel);
  const form = await s.agent.get("/ps/conversations/new");
  const res = await s.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject, body: "Bonjour", action: "send" });
  expect(res.status).toBe(303);
  return Number(res.headers.location.split("/").pop());
}

async function reply(s: Session, base: "/ps" | "/bo", id: number) {
  const form = await s.agent.get(`${base}/conversations/${id}/reply`);
  const res = await s.agent.post(`${base}/conversations/${id}/messages`).field({ ...hiddenFields(form.text), body: "Réponse", action: "send" });
  expect(res.status).toBe(303);
}

describe("unread threads on the tray tabs", () => {
  it("each tab shows its size and its unread threads, read out as a sentence", async () => {
    const anna = await signInAgent(app, annaAin);
    const { counted } = await keptAndCounted();
    const found = await tabs(anna);
    const [n, unread] = counted.a_traiter!;
    expect(unread).toBeGreaterThan(0);
    expect(found[0]!.seen).toBe(`A TRAITER (${n} · ${unread} ${unread! > 1 ? "non lus" : "non lu"})`);
    expect(found[0]!.heard).toBe(`A TRAITER : ${n} ${n! > 1 ? "échanges" : "échange"}, dont ${unread} ${unread! > 1 ? "non lus" : "non lu"}`);
    // A tray whose threads are all read shows its size alone.
    expect(found[2]!.seen).toBe(`CLOS (${counted.clos![0]})`);
  });

  it("the kept counts equal a COUNT of the conversations through send, open, reply, close, reopen and delete", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const check = async (step: string) => {
      const { kept, counted } = await keptAndCounted();
      expect(kept, step).toEqual(counted);
      // And the tabs show them.
      const seen = (await tabs(anna)).map((t) => t.seen);
      for (const [i, state] of STATES.entries()) {
        const [n, unread] = counted[state]!;
        expect(seen[i], `${step}: ${state}`).toContain(unread ? `(${n} · ${unread} non lu` : `(${n})`);
      }
    };
    await check("seeded");
    const id = await psSend(gene, "Compteurs");
    await check("the doctor sends");
    await anna.agent.get(`/bo/conversations/${id}`);
    await check("the ELSM opens");
    await anna.agent.get(`/bo/conversations/${id}`);
    await check("the ELSM opens again");
    await reply(anna, "/bo", id);
    await check("the ELSM replies");
    await gene.agent.get(`/ps/conversations/${id}`);
    await check("the doctor opens");
    await reply(gene, "/ps", id);
    await check("the doctor replies");
    expect(
      (
        await anna.agent
          .post(`/bo/conversations/${id}/close`)
          .type("form")
          .send({ _csrf: anna.csrf, reason_id: await closeReasonId(app) })
      ).status,
    ).toBe(303);
    await check("the ELSM closes an unread thread");
    await reply(gene, "/ps", id);
    await check("the doctor writes in the closed thread");
    const withoutPatient = (await app.db("conversations").where({ elsm_id: elsmId, subject: "Durée arrêt de travail Lombalgie" }).first("id")).id;
    await reply(gene, "/ps", withoutPatient);
    await check("the doctor answers a question without a patient");
    await anna.agent.get(`/bo/conversations/${withoutPatient}`);
    await check("the ELSM opens it");
    expect(
      (
        await anna.agent
          .post(`/bo/conversations/${withoutPatient}/close`)
          .type("form")
          .send({ _csrf: anna.csrf, reason_id: await closeReasonId(app) })
      ).status,
    ).toBe(303);
    await check("the ELSM closes a read thread without a patient");
    expect((await gene.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: gene.csrf })).status).toBe(303);
    await check("the doctor deletes");
    await reply(anna, "/bo", id);
    await check("the ELSM relaunches the deleted thread");
    const { kept } = await keptAndCounted();
    expect(kept.clos![0]).toBeGreaterThan(1);
  });
});

describe("order and filters of a tray", () => {
  /**
   * 47 more threads in A TRAITER (rows put in directly, then the counters recounted as after a bulk load):
   * unread or read, with or without a patient, some sharing the same minute (the keyset's tie on id).
   */
  beforeAll(async () => {
    const gene = (await app.db("practitioners").where({ nam: drGene.nam }).first("id")).id;
    const patient = await app.db("patients").where({ nir: bunyel.nir }).first("id", "last_name_key");
    const base = Date.parse("2025-06-01T08:00:00.000Z");
    for (let i = 0; i < 47; i++) {
      const at = new Date(base + Math.floor(i / 3) * 60_000).toISOString();
      const withPatient = i % 4 !== 0;
      const [row] = await app
        .db("conversations")
        .insert({
          subject: `Filtre ${String(i).padStart(2, "0")}`,
          patient_id: withPatient ? patient.id : null,
          patient_last_name_key: withPatient ? patient.last_name_key : null,
          ps_practitioner_id: gene,
          elsm_id: elsmId,
          started_by: "ps",
          started_by_practitioner_id: gene,
          state: "a_traiter",
          last_message_at: at,
          last_message_side: "ps",
          created_at: at,
        })
        .returning("id");
      const conversationId = typeof row === "object" ? row.id : row;
      await app.db("messages").insert({ conversation_id: conversationId, side: "ps", author_practitioner_id: gene, body: "x", sent_at: at, read_at: i % 3 === 0 ? at : null });
    }
    await recountDerived(app.db);
  });

  /** Every row of a tray, following its pager from the URL given; each page's heading number, and the pager links. */
  async function pageThrough(s: Session, url: string) {
    const rows: { id: number; at: string }[] = [];
    const headings = new Set<string>();
    const links: string[] = [];
    let next: string | null = url;
    for (let pages = 0; next && pages < 20; pages++) {
      const page = $((await s.agent.get(next)).text);
      headings.add(squash(page("#list-title").text()));
      const ids = page("#list-title")
        .nextAll("ul")
        .first()
        .find(".item a")
        .map((_, a) => Number(page(a).attr("href")!.split("/").pop()))
        .get();
      const dates = await app.db("conversations").whereIn("id", ids).select("id", "last_message_at");
      for (const id of ids) rows.push({ id, at: dates.find((d) => d.id === id)!.last_message_at });
      next =
        page("#list-title")
          .nextAll(".pager")
          .find("a")
          .filter((_, a) => /Conversations plus (anciennes|récentes)/.test(page(a).text()))
          .attr("href") ?? null;
      if (next) links.push(next);
    }
    return { rows, headings: [...headings], links };
  }

  const cases = [
    { query: "", where: () => true },
    { query: "non_lus=1", where: (c: Counted) => c.elsm_unread > 0 },
    { query: "patient=avec", where: (c: Counted) => c.patient_id !== null },
    { query: "patient=sans", where: (c: Counted) => c.patient_id === null },
    { query: "non_lus=1&patient=avec", where: (c: Counted) => c.elsm_unread > 0 && c.patient_id !== null },
    { query: "non_lus=1&patient=sans", where: (c: Counted) => c.elsm_unread > 0 && c.patient_id === null },
  ];
  type Counted = { id: number; elsm_unread: number; patient_id: number | null; last_message_at: string };

  for (const order of ["recentes", "anciennes"] as const) {
    for (const { query, where } of cases) {
      it(`a tray filtered by "${query || "nothing"}", ${order === "anciennes" ? "oldest" : "newest"} first, lists across its pages as many threads as its heading announces, in order, each once`, async () => {
        const anna = await signInAgent(app, annaAin);
        const params = [order === "anciennes" ? "ordre=anciennes" : "", query].filter(Boolean).join("&");
        const { rows, headings, links } = await pageThrough(anna, `/bo/bannettes/a-traiter${params ? `?${params}` : ""}`);
        expect(headings).toHaveLength(1);
        const announced = Number(/\((\d+)\)$/.exec(headings[0]!)?.[1]);
        const all: Counted[] = await app.db("conversations").where({ elsm_id: elsmId, state: "a_traiter" }).select("id", "elsm_unread", "patient_id", "last_message_at");
        const expected = all.filter((c) => where({ ...c, elsm_unread: Number(c.elsm_unread) }));
        expect(announced).toBe(expected.length);
        expect(rows.length).toBe(announced);
        expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
        expect(rows.map((r) => r.id).sort()).toEqual(expected.map((c) => c.id).sort());
        const key = (r: { id: number; at: string }) => `${r.at}~${String(r.id).padStart(10, "0")}`;
        const sorted = [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1));
        expect(rows).toEqual(order === "anciennes" ? sorted : sorted.reverse());
        // The pager keeps the order and the filters; oldest first pages on "apres", newest first on "avant".
        if (expected.length > 20) expect(links.length).toBeGreaterThan(0);
        for (const link of links) {
          const u = new URL(link, "http://x");
          expect(u.searchParams.get("ordre")).toBe(order === "anciennes" ? "anciennes" : null);
          expect(u.searchParams.has(order === "anciennes" ? "apres" : "avant")).toBe(true);
          for (const [k, v] of new URLSearchParams(query)) expect(u.searchParams.get(k)).toBe(v);
        }
      });
    }
  }

  it("the heading names the filters, and a filtered tray names what it kept when nothing matches", async () => {
    const anna = await signInAgent(app, annaAin);
    const page = $((await anna.agent.get("/bo/bannettes/clos?non_lus=1&patient=sans")).text);
    expect(squash(page("#list-title").text())).toMatch(/^CLOS — non lus, sans patient \(\d+\)$/);
    const empty = $((await anna.agent.get("/bo/bannettes/clos?non_lus=1&patient=avec")).text);
    expect(squash(empty("#list-title").text())).toBe("CLOS — non lus, avec patient (0)");
    expect(squash(empty("#list .empty").text())).toBe("Aucune conversation de cette bannette ne correspond à ces filtres.");
  });

  it("the order and filters are a GET form that shows the current choice, and the tabs keep it", async () => {
    const anna = await signInAgent(app, annaAin);
    const page = $((await anna.agent.get("/bo/bannettes/a-traiter?ordre=anciennes&non_lus=1&patient=avec")).text);
    const form = page("form.tray-view");
    expect(form.attr("method")).toBe("get");
    expect(form.attr("action")).toBe("/bo/bannettes/a-traiter");
    expect(form.find('select[name="ordre"] option[selected]').attr("value")).toBe("anciennes");
    expect(form.find('select[name="patient"] option[selected]').attr("value")).toBe("avec");
    expect(form.find('input[name="non_lus"]').is("[checked]")).toBe(true);
    expect(form.find("label[for=tray-ordre]").text()).toBe("Ordre");
    expect(
      page("nav .tabs a")
        .map((_, a) => page(a).attr("href"))
        .get(),
    ).toEqual(Object.values(SLUGS).map((slug) => `/bo/bannettes/${slug}?ordre=anciennes&non_lus=1&patient=avec`));
    expect(form.find('a[href="/bo/bannettes/a-traiter"]').text()).toBe("Effacer le tri et les filtres");
  });

  it("the list beside an opened thread keeps the tray's order and filters", async () => {
    const anna = await signInAgent(app, annaAin);
    const tray = $((await anna.agent.get("/bo/bannettes/a-traiter?ordre=anciennes&patient=sans")).text);
    const first = tray("#list .item a").first().attr("href")!;
    const thread = $((await anna.agent.get(first)).text);
    expect(squash(thread("#list-title").text())).toMatch(/^A TRAITER — sans patient \(\d+\)$/);
    expect(thread("#list .item a").first().attr("href")).toBe(first);
    // Back on the tray without parameters: the whole tray, newest first.
    const plain = $((await anna.agent.get("/bo/bannettes/a-traiter")).text);
    expect(squash(plain("#list-title").text())).toMatch(/^A TRAITER \(\d+\)$/);
  });

  it("an unknown order or filter value shows the tray as by default", async () => {
    const anna = await signInAgent(app, annaAin);
    const odd = await anna.agent.get("/bo/bannettes/a-traiter?ordre=hasard&patient=peut-etre&non_lus=oui&apres=n%27importe");
    expect(odd.status).toBe(200);
    const page = $(odd.text);
    const plain = $((await anna.agent.get("/bo/bannettes/a-traiter")).text);
    expect(squash(page("#list-title").text())).toBe(squash(plain("#list-title").text()));
    expect(
      page("#list .item a")
        .map((_, a) => page(a).attr("href"))
        .get(),
    ).toEqual(
      plain("#list .item a")
        .map((_, a) => plain(a).attr("href"))
        .get(),
    );
  });

  it("EN COURS keeps its drafts heading when only sorted, and leaves the drafts out when filtered", async () => {
    const anna = await signInAgent(app, annaAin);
    const sorted = $((await anna.agent.get("/bo/bannettes/en-cours?ordre=anciennes")).text);
    expect(sorted("#drafts-title").length).toBe(1);
    const filtered = $((await anna.agent.get("/bo/bannettes/en-cours?patient=avec")).text);
    expect(filtered("#drafts-title").length).toBe(0);
  });
});
