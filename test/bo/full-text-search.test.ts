import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPostgres } from "../../src/db/dialect.js";
import { $, annaAin, bunyel, drGene, drMezin, hiddenFields, paulHerault, selectPatient, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { elsmWrites, listRows, textOf } from "../helpers/ps.js";

/** Issue 13 §6: words of the subjects and messages (and notes, when asked), in each searcher's scope, French-aware. */
let app: TestApp;
let anna: Session;
let gene: Session;
let threadId: number;
const SUBJECT = "Demande d'avis cardiologie";
const squash = (s: string) => s.replace(/\s+/g, " ").trim();

beforeAll(async () => {
  app = await startTestApp();
  gene = await signInPs(app, drGene);
  anna = await signInAgent(app, annaAin);
  await selectPatient(gene, bunyel);
  const form = await gene.agent.get("/ps/conversations/new");
  const sent = await gene.agent.post("/ps/conversations").field({
    ...hiddenFields(form.text),
    subject: SUBJECT,
    body: "Bonjour, le patient a été hospitalisé à l'Hôpital de Bourg pour des examens cardiologiques.",
    action: "send",
  });
  expect(sent.status).toBe(303);
  threadId = Number(sent.headers.location.split("/").pop());
  const note = await anna.agent.post(`/bo/conversations/${threadId}/notes`).type("form").send({ _csrf: anna.csrf, note: "Vérifier la pneumopathie signalée l'an dernier." });
  expect(note.status).toBe(303);
});
afterAll(async () => {
  await app.close();
});

const EMPTY = { texte: "", patient_nom: "", patient_prenom: "", patient_nir: "", ps_nam: "", ps_cp: "", ps_ville: "", ps_nom: "", agent_nom: "", agent_prenom: "" };

async function boSearch(s: Session, fields: Record<string, string>) {
  const res = await s.agent
    .post("/bo/recherche")
    .type("form")
    .send({ _csrf: s.csrf, ...EMPTY, ...fields });
  if (res.status !== 303) return { res, subjects: null };
  const page = $((await s.agent.get("/bo/recherche")).text);
  return {
    res,
    subjects: page("#detail .results .item-subject")
      .map((_, el) => squash(page(el).text()))
      .get(),
  };
}

async function psSearch(s: Session, texte: string) {
  const res = await s.agent.post("/ps/search").type("form").send({ _csrf: s.csrf, nom: "", nir: "", texte });
  return { res, subjects: res.status === 303 ? listRows((await s.agent.get("/ps/messages")).text).map((r) => r.subject) : null };
}

describe("the back office's search by words", () => {
  it("finds a subject's word and a message's words, whatever the case and the accents, all words required", async () => {
    for (const texte of ["cardiologie", "CARDIOLOGIE", "hopital", "Hôpital bourg", "examen", "cardiologie hôpital"]) {
      expect((await boSearch(anna, { texte })).subjects, texte).toEqual([SUBJECT]);
    }
    // (A stemmer also finds « hospitalisation » of another demo thread: this one is among the results.)
    expect((await boSearch(anna, { texte: "hospitalise" })).subjects).toContain(SUBJECT);
    expect((await boSearch(anna, { texte: "hôpital zèbre" })).subjects).toEqual([]);
  });

  it("a plural typed finds the singular written, and the other way (PostgreSQL's french stemmer; a plural's s on SQLite)", async () => {
    expect((await boSearch(anna, { texte: "examens" })).subjects).toEqual([SUBJECT]);
    expect((await boSearch(anna, { texte: "hospitalisés" })).subjects).toContain(SUBJECT);
    if (isPostgres(app.db)) expect((await boSearch(anna, { texte: "cardiologique" })).subjects).toEqual([SUBJECT]);
  });

  it("combines with the other criteria: the patient's name narrows it, another patient's name finds nothing", async () => {
    expect((await boSearch(anna, { texte: "cardiologie", patient_nom: "BUNYEL" })).subjects).toEqual([SUBJECT]);
    expect((await boSearch(anna, { texte: "cardiologie", patient_nom: "SOLANA" })).subjects).toEqual([]);
  });

  it("the internal notes only when « Inclure les notes internes » is ticked, and said in the criteria above the results", async () => {
    expect((await boSearch(anna, { texte: "pneumopathie" })).subjects).toEqual([]);
    expect((await boSearch(anna, { texte: "pneumopathie", notes: "1" })).subjects).toEqual([SUBJECT]);
    const page = $((await anna.agent.get("/bo/recherche")).text);
    expect(squash(page("#search-criteria").text())).toBe("Recherche : Mots pneumopathie (objets, messages et notes internes)");
    expect(page("#s-notes").attr("checked")).toBeDefined();
  });

  it("another échelon's threads are never found, its own are", async () => {
    const herault = await app.db("conversations as c").join("elsms as e", "e.id", "c.elsm_id").where("e.code", "ELSM 341").whereNot("c.state", "clos").first("c.id", "c.subject");
    await elsmWrites(app, "HERAULT", herault.id, "Résultat de l'échocardiographie transmis.", true);
    expect((await boSearch(anna, { texte: "échocardiographie" })).subjects).toEqual([]);
    const paul = await signInAgent(app, paulHerault);
    expect((await boSearch(paul, { texte: "echocardiographie" })).subjects).toEqual([herault.subject]);
    expect((await boSearch(paul, { texte: "cardiologie" })).subjects).toEqual([]);
  });

  it("a message written after the search was made is found when the results are shown again (the index is kept in step)", async () => {
    expect((await boSearch(anna, { texte: "zygomatique" })).subjects).toEqual([]);
    await elsmWrites(app, "AIN", threadId, "Une fracture zygomatique a-t-elle été constatée ?");
    const page = $((await anna.agent.get("/bo/recherche")).text);
    expect(page("#detail .results .item-subject").text()).toBe(SUBJECT);
  });

  it("operators, quotes and query syntax are words or nothing: a plain search or a French error on the field, never a 500", async () => {
    for (const texte of ['"', "*", "-", "((", '"" ** --', "^", ":"]) {
      const { res } = await boSearch(anna, { texte });
      expect(res.status, texte).toBe(422);
      const page = $(res.text);
      expect(textOf(page, "#s-texte-error"), texte).toBe("Saisissez au moins un mot à rechercher (des lettres ou des chiffres) : les guillemets, * et autres signes sont ignorés.");
      expect(page("#s-texte").val()).toBe(texte);
    }
    for (const texte of [
      "NEAR",
      "NEAR(cardiologie hopital)",
      '"cardiologie" OR hopital*',
      "-cardiologie",
      "text:cardiologie",
      "kind:note pneumopathie",
      "'); DROP TABLE messages; --",
      "cardiologie AND NOT hôpital",
      "{cardiologie}",
    ]) {
      const { res, subjects } = await boSearch(anna, { texte });
      expect(res.status, texte).toBe(303);
      expect(subjects, texte).not.toBeNull();
      // Never a note's thread through a column filter, never another échelon's.
      if (texte.startsWith("kind:")) expect(subjects).toEqual([]);
    }
    // The words of a syntax are searched as words: NEAR(cardiologie hopital) needs the word "near" too.
    expect((await boSearch(anna, { texte: "NEAR(cardiologie hopital)" })).subjects).toEqual([]);
    expect((await boSearch(anna, { texte: '"cardiologie" hopital*' })).subjects).toEqual([SUBJECT]);
    expect(await app.db("messages").count({ n: "*" })).not.toEqual([{ n: 0 }]);
  });

  it("unicode oddities: full-width or mathematical letters, a ligature, an invisible character inside a word are read as the word shown; an emoji or a NUL alone is a French error", async () => {
    for (const texte of [
      "ＣＡＲＤＩＯＬＯＧＩＥ",
      "𝐜𝐚𝐫𝐝𝐢𝐨𝐥𝐨𝐠𝐢𝐞",
      "cardiolo\u00ADgie",
      "cardio\u200Blogie",
      "\u202Ecardiologie\u202C",
      "\uFEFFcardiologie",
      "cardiologie\u0000",
      "ho\u0302pital",
    ]) {
      expect((await boSearch(anna, { texte })).subjects, JSON.stringify(texte)).toEqual([SUBJECT]);
    }
    // The ligature ﬁ is the letters f and i (« confirmé » in the demo threads as in any other).
    expect((await boSearch(anna, { texte: "conﬁrme" })).subjects).toEqual((await boSearch(anna, { texte: "confirme" })).subjects);
    for (const texte of ["😀", "\u200B\u200D", "\uD800", "🩺 — ✓"]) {
      const { res } = await boSearch(anna, { texte });
      expect(res.status, JSON.stringify(texte)).toBe(422);
      expect(textOf($(res.text), "#s-texte-error")).toContain("Saisissez au moins un mot à rechercher");
    }
    // A NUL alone is nothing typed: the search is the empty one (the whole list), never a 500.
    expect((await boSearch(anna, { texte: "\u0000" })).res.status).toBe(303);
  });

  it("a very long query (10,000 characters, 500 words): at most 200 characters kept, cut at a space (never half a word), searched as words, never a 500", async () => {
    for (const texte of [`cardiologie ${"x".repeat(10_000)}`, `${"cardiologie ".repeat(500)}`, `cardiologie hopital ${"mot ".repeat(500)}`]) {
      const { res, subjects } = await boSearch(anna, { texte });
      expect(res.status).toBe(303);
      expect(subjects).not.toBeNull();
      const page = $((await anna.agent.get("/bo/recherche")).text);
      const kept = String(page("#s-texte").val());
      expect(kept.length).toBeLessThanOrEqual(200);
      // Cut at a space: never half a word searched.
      expect(texte.startsWith(`${kept} `) || texte.startsWith(`${kept}x`)).toBe(true);
    }
    expect((await boSearch(anna, { texte: "cardiologie ".repeat(500) })).subjects).toEqual([SUBJECT]);
    // A word longer than any written finds nothing.
    expect((await boSearch(anna, { texte: "x".repeat(10_000) })).subjects).toEqual([]);
  });

  it("words the engine does not index (PostgreSQL's french stop words « le », « de la »): a French error, never the whole list; beside a real word, that word is searched", async () => {
    expect((await boSearch(anna, { texte: "le cardiologie" })).subjects).toEqual([SUBJECT]);
    expect((await psSearch(gene, "de cardiologie")).subjects).toEqual([SUBJECT]);
    if (!isPostgres(app.db)) return; // FTS5 has no stop words: « le » is a word like any other there.
    for (const [texte, message] of [
      ["le", "Le mot « le » est trop courant pour être recherché : ajoutez un mot plus précis."],
      ["De LA", "Les mots « de », « la » sont trop courants pour être recherchés : ajoutez un mot plus précis."],
    ]) {
      const { res } = await boSearch(anna, { texte });
      expect(res.status, texte).toBe(422);
      expect(textOf($(res.text), "#s-texte-error")).toBe(message);
      expect($(res.text)("#s-texte").val()).toBe(texte);
      const ps = await psSearch(gene, texte);
      expect(ps.res.status, texte).toBe(422);
      expect(textOf($(ps.res.text), "#search-texte-error")).toBe(message);
    }
  });

  it("the words are never written in the audit trail nor in a URL", async () => {
    const res = await anna.agent
      .post("/bo/recherche")
      .type("form")
      .send({ _csrf: anna.csrf, ...EMPTY, texte: "cardiologie" });
    expect(res.headers.location).toBe("/bo/recherche");
    const rows = await app.db("audit_events").where({ action: "search" }).select();
    expect(JSON.stringify(rows)).not.toContain("cardiologie");
  });
});

describe("the doctor's search by words", () => {
  it("finds the doctor's own threads by their words, never the échelon's notes, never another doctor's threads", async () => {
    expect((await psSearch(gene, "cardiologie hôpital")).subjects).toEqual([SUBJECT]);
    expect((await psSearch(gene, "pneumopathie")).subjects).toEqual([]);
    const mezin = await signInPs(app, drMezin);
    expect((await psSearch(mezin, "cardiologie")).subjects).toEqual([]);
    for (const texte of ['"*"', "*", "-", "((", "^", ":", '"" ** --', "😀"]) {
      const refused = await psSearch(gene, texte);
      expect(refused.res.status, texte).toBe(422);
      expect(textOf($(refused.res.text), "#search-texte-error")).toContain("Saisissez au moins un mot à rechercher");
      expect($(refused.res.text)("#search-texte").val()).toBe(texte);
    }
    // Query syntax is words: never a 500, never another doctor's thread.
    for (const texte of [
      "NEAR(cardiologie hopital)",
      '"cardiologie" OR hopital*',
      "-cardiologie",
      "text:cardiologie",
      "cardiologie AND NOT hôpital",
      "'); DROP TABLE messages; --",
    ]) {
      const { res, subjects } = await psSearch(mezin, texte);
      expect(res.status, texte).toBe(303);
      expect(subjects, texte).toEqual([]);
    }
    expect((await psSearch(gene, '"cardiologie" hopital*')).subjects).toEqual([SUBJECT]);
  });
});

describe("a word in more than 5,000 texts (PostgreSQL: checked on the list already in its order)", () => {
  const WORD = "ubiquitaire";
  const subjects: string[] = [];

  beforeAll(async () => {
    if (!isPostgres(app.db)) return;
    for (let i = 1; i <= 22; i++) {
      const subject = `Avis ${WORD} n° ${i}`;
      const form = await gene.agent.get("/ps/conversations/new");
      const sent = await gene.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject, body: "Bonjour, merci de votre avis.", action: "send" });
      expect(sent.status).toBe(303);
      subjects.unshift(subject);
    }
    // Another échelon's thread holds the word 6,000 times: the planner's statistics then call it common.
    const herault = await app.db("conversations as c").join("elsms as e", "e.id", "c.elsm_id").where("e.code", "ELSM 341").first("c.id", "c.elsm_id");
    await app.db.raw("INSERT INTO search_text (kind, conversation_id, elsm_id, tsv) SELECT 'message', ?, ?, to_tsvector('french', ?) FROM generate_series(1, 6000)", [
      herault.id,
      herault.elsm_id,
      `Examen ${WORD}`,
    ]);
    await app.db.raw("ANALYZE search_text");
  });

  /** The SQL of the search ids while `run` runs. */
  async function sqlOf(run: () => Promise<unknown>): Promise<string[]> {
    const seen: string[] = [];
    const listen = (q: { sql: string }) => seen.push(q.sql);
    app.db.on("query", listen);
    try {
      await run();
    } finally {
      app.db.removeListener("query", listen);
    }
    return seen.filter((sql) => /search_text/.test(sql) && /\blimit\b/i.test(sql));
  }

  it("finds the échelon's threads newest first, 20 a page then the rest, never the other échelon's, with or without a name", async (ctx) => {
    if (!isPostgres(app.db)) ctx.skip();
    let first: Awaited<ReturnType<typeof boSearch>> | undefined;
    const sql = await sqlOf(async () => {
      first = await boSearch(anna, { texte: WORD });
    });
    expect(
      sql.some((s) => /OFFSET 0/.test(s)),
      "the word was taken as common",
    ).toBe(true);
    expect(first!.subjects).toEqual(subjects.slice(0, 20));
    const page = $((await anna.agent.get("/bo/recherche")).text);
    const next = page("#detail .pager a").attr("href");
    expect(next).toMatch(/^\/bo\/recherche\?avant=/);
    const rest = $((await anna.agent.get(next!)).text);
    expect(
      rest("#detail .results .item-subject")
        .map((_, el) => squash(rest(el).text()))
        .get(),
    ).toEqual(subjects.slice(20));
    expect((await boSearch(anna, { texte: `${WORD} cardiologie` })).subjects).toEqual([]);
    expect((await boSearch(anna, { texte: WORD, patient_nom: "BUNYEL" })).subjects).toEqual(subjects.slice(0, 20));
    expect((await boSearch(anna, { texte: WORD, patient_nom: "SOLANA" })).subjects).toEqual([]);
    const paul = await signInAgent(app, paulHerault);
    expect((await boSearch(paul, { texte: WORD })).subjects).toHaveLength(1);
  });

  it("the doctor finds his own threads the same way", async (ctx) => {
    if (!isPostgres(app.db)) ctx.skip();
    expect((await psSearch(gene, WORD)).subjects).toEqual(subjects.slice(0, 20));
    const mezin = await signInPs(app, drMezin);
    expect((await psSearch(mezin, WORD)).subjects).toEqual([]);
  });
});
