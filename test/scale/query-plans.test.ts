import { afterAll, beforeAll, expect, it } from "vitest";
import { isPostgres } from "../../src/db/dialect.js";
import { deadlinePass } from "../../src/domain/conversations/deadlines.js";
import { noticeCandidates, purgeCandidates } from "../../src/domain/conversations/retention.js";
import { annaAin, bunyel, drGene, drRoux, hiddenFields, selectPatient, signInAgent, signInPs, startTestApp, type TestApp } from "../helpers/app.js";

/**
 * Every query the main pages run (lists, trays, counts, searches, opening a thread) is checked
 * against the database's own plan: no full scan of conversations or messages, whatever their size.
 * On PostgreSQL sequential scans are disabled for the EXPLAIN, so a plan still using one has no index.
 */
let app: TestApp;
const FILTERS = ["", "non_lus=1", "patient=avec", "patient=sans", "non_lus=1&patient=avec", "non_lus=1&patient=sans"];
const TRAY_VIEWS = FILTERS.flatMap((f) => [f, ["ordre=anciennes", f].filter(Boolean).join("&")]).filter(Boolean);
const captured: { sql: string; bindings: unknown[] }[] = [];
const BIG = /\b(conversations|messages)\b/i;

beforeAll(async () => {
  app = await startTestApp();
  const gene = await signInPs(app, drGene);
  const roux = await signInPs(app, drRoux);
  const anna = await signInAgent(app, annaAin);
  await selectPatient(gene, bunyel);
  const form = await gene.agent.get("/ps/conversations/new");
  const sent = await gene.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject: "Plan", body: "x", action: "send" });
  const id = sent.headers.location.split("/").pop();

  app.db.on("query", (q: { sql: string; bindings?: unknown[] }) => captured.push({ sql: q.sql, bindings: q.bindings ?? [] }));
  await gene.agent.get("/ps/messages");
  await gene.agent.get(`/ps/conversations/${id}`);
  await roux.agent.get("/ps/messages");
  await gene.agent.post("/ps/search").type("form").send({ _csrf: gene.csrf, nom: "BUNYEL", nir: "" });
  await gene.agent.get("/ps/messages");
  await gene.agent.post("/ps/search").type("form").send({ _csrf: gene.csrf, nom: "", nir: bunyel.nir });
  await gene.agent.get("/ps/messages");
  await gene.agent.post("/ps/search").type("form").send({ _csrf: gene.csrf, nom: "", nir: "", texte: "arrêt travail" });
  await gene.agent.get("/ps/messages");
  for (const tray of ["a-traiter", "en-cours", "clos"]) await anna.agent.get(`/bo/bannettes/${tray}`);
  await anna.agent.get("/bo/bannettes/a-traiter?avant=2019-04-15T13:14:00.000Z~5");
  // Each order and filter of a tray (issue 10 §19), on its first page and past it.
  for (const view of TRAY_VIEWS) {
    for (const tray of ["a-traiter", "clos"]) {
      await anna.agent.get(`/bo/bannettes/${tray}?${view}`);
      const cursor = view.includes("anciennes") ? "apres=2019-04-09T16:00:00.000Z~3" : "avant=2019-04-15T13:14:00.000Z~5";
      await anna.agent.get(`/bo/bannettes/${tray}?${view}&${cursor}`);
    }
  }
  // Issue 13 §1: each tray by holder (mine, nobody's), both orders, past the first page; the agent's threads across trays.
  await anna.agent.post(`/bo/conversations/${id}/attribution`).type("form").send({ _csrf: anna.csrf, action: "prendre", attendu: "aucun" });
  for (const view of ["attribution=moi", "attribution=aucun", "attribution=moi&ordre=anciennes", "attribution=aucun&ordre=anciennes", "attribution=moi&non_lus=1"]) {
    await anna.agent.get(`/bo/bannettes/a-traiter?${view}`);
    await anna.agent.get(`/bo/bannettes/en-cours?${view}&${view.includes("anciennes") ? "apres=2019-04-09T16:00:00.000Z~3" : "avant=2019-04-15T13:14:00.000Z~5"}`);
  }
  // Issue 14 §1: the deadline pass, then each tray's overdue view (both orders, past the first page) and the doctor's.
  await deadlinePass(app.db, new Date(Date.now() + 400 * 86_400_000));
  for (const view of ["retard=1", "retard=1&ordre=anciennes"]) {
    await anna.agent.get(`/bo/bannettes/a-traiter?${view}`);
    await anna.agent.get(`/bo/bannettes/en-cours?${view}&${view.includes("anciennes") ? "apres=2019-04-09T16:00:00.000Z~3" : "avant=2019-04-15T13:14:00.000Z~5"}`);
  }
  await gene.agent.get("/ps/messages?retard=1");
  await roux.agent.get("/ps/messages");
  await anna.agent.get("/bo/mes-echanges");
  await anna.agent.get("/bo/mes-echanges?suite=2019-04-15T13:14:00.000Z~5");
  await anna.agent.get(`/bo/conversations/${id}`);
  // Issue 13: an internal note, then the thread with its notes and the patient's other threads.
  await anna.agent.post(`/bo/conversations/${id}/notes`).type("form").send({ _csrf: anna.csrf, note: "Note du plan" });
  await anna.agent.get(`/bo/conversations/${id}`);
  for (const criteria of [
    { patient_nom: "BUNYEL" },
    { patient_prenom: "GUILLAUME" },
    { patient_nir: bunyel.nir },
    { ps_nam: "991101197" },
    { ps_nam: "010012345" },
    { ps_cp: "34170" },
    { ps_ville: "CASTELNAU" },
    { ps_nom: "GENE" },
    { agent_nom: "AIN" },
    { agent_prenom: "ANNA" },
    // Any word, several words, hyphens (the search_words ranges).
    { ps_nom: "tilleuls" },
    { ps_nom: "LES TILLEULS" },
    { ps_ville: "Castelnau-le-Lez" },
    { patient_nom: "fuentes" },
    { patient_nom: "solana y", patient_prenom: "ines" },
    { agent_nom: "ain", agent_prenom: "an" },
    // Issue 13 §6: words, alone, several, with the notes, with a name.
    { texte: "travail" },
    { texte: "arrêt travail" },
    { texte: "arrêt", notes: "1" },
    { texte: "travail", patient_nom: "BUNYEL" },
  ]) {
    await anna.agent
      .post("/bo/recherche")
      .type("form")
      .send({ _csrf: anna.csrf, ...criteria });
    await anna.agent.get("/bo/recherche");
  }
  app.db.removeAllListeners("query");
  // PostgreSQL plans from the demo data's statistics (as a running database has them), not from an empty table's guesses.
  if (isPostgres(app.db)) await app.db.raw("ANALYZE");
});
afterAll(async () => {
  await app.close();
});

const DIRECTORY = ["search_words", "structures", "practitioners", "patients", "agents"];

async function fullScans(sql: string, bindings: unknown[], tables = ["conversations", "messages"]): Promise<string[]> {
  const names = tables.join("|");
  if (isPostgres(app.db)) {
    return app.db.transaction(async (trx) => {
      await trx.raw("SET LOCAL enable_seqscan = off");
      const rows = await trx.raw(`EXPLAIN ${sql.replace(/\$\d+/g, "?")}`, bindings as never);
      const lines = (rows.rows as { "QUERY PLAN": string }[]).map((r) => r["QUERY PLAN"]);
      const scans = lines.filter((line) => new RegExp(`Seq Scan on (${names})\\b`).test(line));
      // A directory table (or search_words) read through a whole index — no Index Cond, only a Filter — is a scan too.
      // (A bitmap heap scan's condition is on its child, the Bitmap Index Scan node.)
      const detailsOf = (i: number) => {
        const details: string[] = [];
        for (let j = i + 1; j < lines.length && !lines[j]!.includes("->"); j += 1) details.push(lines[j]!);
        return details;
      };
      lines.forEach((line, i) => {
        const m = /(?:^|\s)(?:Index (?:Only )?Scan (?:Backward )?using \w+|Bitmap Heap Scan) on (\w+)/.exec(line);
        const table = m?.[1];
        if (!table || !DIRECTORY.includes(table) || !tables.includes(table)) return;
        const node = line.includes("Bitmap Heap Scan") ? i + 1 + detailsOf(i).length : i;
        if (!detailsOf(node).some((d) => d.includes("Index Cond"))) scans.push(line);
      });
      return scans;
    });
  }
  const plan = (await app.db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as never)) as { detail: string }[];
  const aliases = new Set(tables);
  for (const m of sql.matchAll(new RegExp(`\`?(${names})\`?\\s+as\\s+\`?(\\w+)\`?`, "gi"))) aliases.add(m[2]!);
  return plan
    .map((p) => p.detail)
    .filter((d) => {
      const scanned = /^SCAN (\w+)/.exec(d)?.[1];
      return scanned !== undefined && aliases.has(scanned);
    });
}

it("captured the queries of the main pages", () => {
  expect(captured.filter((q) => /^\s*select/i.test(q.sql) && BIG.test(q.sql)).length).toBeGreaterThan(30);
});

it("the check itself flags a full scan", async () => {
  expect(await fullScans("SELECT id FROM conversations AS c WHERE c.subject = ?", ["x"])).not.toEqual([]);
  expect(await fullScans("SELECT id FROM messages WHERE body = ?", ["x"])).not.toEqual([]);
});

it("no list, count, search or thread query scans the conversations or messages tables", async () => {
  const offenders: string[] = [];
  for (const q of captured) {
    if (!BIG.test(q.sql) || !/^\s*(select|update|delete)/i.test(q.sql)) continue;
    const scans = await fullScans(q.sql, q.bindings);
    if (scans.length) offenders.push(`${scans.join("; ")}  ←  ${q.sql.slice(0, 160)}`);
  }
  expect([...new Set(offenders)]).toEqual([]);
});

/** The index a filtered tray page must be picked from: the partial index of exactly its filters (migration 20261202010000). */
function filterIndexOf(sql: string): string | null {
  if (/assignee_agent_id/i.test(sql)) return null; // a view by holder: its own indexes (below)
  const unread = /elsm_unread["`]? > 0/i.test(sql);
  const patient = /patient_id["`]? is not null/i.test(sql) ? "with_patient" : /patient_id["`]? is null/i.test(sql) ? "without_patient" : null;
  if (!unread && !patient) return null;
  return ["conversations_tray", unread ? "unread" : null, patient].filter(Boolean).join("_");
}

async function indexesUsed(sql: string, bindings: unknown[]): Promise<string> {
  if (isPostgres(app.db)) {
    return app.db.transaction(async (trx) => {
      await trx.raw("SET LOCAL enable_seqscan = off");
      const rows = await trx.raw(`EXPLAIN ${sql.replace(/\$\d+/g, "?")}`, bindings as never);
      return (rows.rows as { "QUERY PLAN": string }[]).map((r) => r["QUERY PLAN"]).join("\n");
    });
  }
  return ((await app.db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as never)) as { detail: string }[]).map((p) => p.detail).join("\n");
}

it("a filtered tray's page, newest or oldest first, is picked from the index of its filters, in index order", async () => {
  const picks = captured.filter((q) => /order by/i.test(q.sql) && /last_message_at/i.test(q.sql) && /["`]?c["`]?\.["`]?state["`]?\s*=/i.test(q.sql) && filterIndexOf(q.sql));
  const kinds = new Set(picks.map((q) => `${filterIndexOf(q.sql)} ${/ asc/i.test(q.sql) ? "asc" : "desc"}`));
  expect(kinds.size).toBe(10); // 5 filters × 2 orders
  for (const q of picks) {
    const plan = await indexesUsed(q.sql, q.bindings);
    const index = filterIndexOf(q.sql)!;
    expect(plan, q.sql).toMatch(new RegExp(`\\b${index}\\b`));
    // The index gives the order: no sort step.
    expect(plan, q.sql).not.toMatch(/USE TEMP B-TREE FOR ORDER BY|^\s*(->\s*)?Sort\b/m);
  }
});

it("the check itself flags a full scan of the directory", async () => {
  expect(await fullScans("SELECT id FROM structures WHERE address = ?", ["x"], DIRECTORY)).not.toEqual([]);
  expect(await fullScans("SELECT entity_id FROM search_words WHERE entity_id + 0 = ?", [1], DIRECTORY)).not.toEqual([]);
});

it("the any-word searches (raison sociale, city, names) read the search_words index, never a scan of the directory", async () => {
  const words = captured.filter((q) => /\bsearch_words\b/.test(q.sql) && /^\s*select/i.test(q.sql));
  // One or more ranges per word criterion above: the captured searches did run through search_words.
  expect(words.length).toBeGreaterThanOrEqual(8);
  const offenders: string[] = [];
  for (const q of words) {
    const scans = await fullScans(q.sql, q.bindings, [...DIRECTORY, "conversations", "messages"]);
    if (scans.length) offenders.push(`${scans.join("; ")}  ←  ${q.sql.slice(0, 200)}`);
  }
  expect([...new Set(offenders)]).toEqual([]);
});

it("the patient's other threads (issue 13 §5) are one range of conversations_patient_elsm, newest first, without a sort", async () => {
  const history = captured.filter(
    (q) => /["`]c["`]\.["`]patient_id["`] = (\?|\$\d+)/.test(q.sql) && /["`]c["`]\.["`]elsm_id["`] = (\?|\$\d+)/.test(q.sql) && /\blimit\b/i.test(q.sql),
  );
  expect(history.length).toBeGreaterThanOrEqual(1);
  for (const q of history) {
    const plan = await indexesUsed(q.sql, q.bindings);
    expect(plan, q.sql).toMatch(/\bconversations_patient_elsm\b/);
    expect(plan, q.sql).not.toMatch(/USE TEMP B-TREE FOR ORDER BY|^\s*(->\s*)?Sort\b/m);
  }
});

it("a thread's internal notes (issue 13 §2) are one range of internal_notes_thread, never a scan", async () => {
  const notes = captured.filter((q) => /^\s*select/i.test(q.sql) && /\binternal_notes\b/.test(q.sql));
  expect(notes.length).toBeGreaterThanOrEqual(1);
  for (const q of notes) {
    expect(await fullScans(q.sql, q.bindings, ["internal_notes"]), q.sql).toEqual([]);
    expect(await indexesUsed(q.sql, q.bindings), q.sql).toMatch(/\binternal_notes_thread\b/);
  }
});

it("a tray by holder (issue 13 §1) and the agent's threads across trays are each one index range, in index order", async () => {
  const picks = captured.filter((q) => /order by/i.test(q.sql) && /last_message_at/i.test(q.sql) && /assignee_agent_id/i.test(q.sql) && /\blimit\b/i.test(q.sql));
  const indexOf = (sql: string) =>
    /assignee_agent_id["`]? is null/i.test(sql)
      ? "conversations_tray_unassigned"
      : /["`]?c["`]?\.["`]?state["`]?\s*=/i.test(sql)
        ? "conversations_tray_assignee"
        : "conversations_assignee";
  const kinds = new Set(picks.map((q) => `${indexOf(q.sql)} ${/ asc/i.test(q.sql) ? "asc" : "desc"}`));
  expect([...kinds].sort()).toEqual([
    "conversations_assignee desc",
    "conversations_tray_assignee asc",
    "conversations_tray_assignee desc",
    "conversations_tray_unassigned asc",
    "conversations_tray_unassigned desc",
  ]);
  for (const q of picks) {
    // "Mes échanges" unread only: the agent's range, its unread rows filtered out of it (no index of its own).
    if (/elsm_unread/i.test(q.sql)) continue;
    const plan = await indexesUsed(q.sql, q.bindings);
    // Nobody's threads: SQLite takes IS NULL as an equality of (…, state, assignee_agent_id, …) too; PostgreSQL needs the partial index for the order.
    const allowed = indexOf(q.sql) === "conversations_tray_unassigned" ? "conversations_tray_unassigned|conversations_tray_assignee" : indexOf(q.sql);
    expect(plan, q.sql).toMatch(new RegExp(`\\b(${allowed})\\b`));
    expect(plan, q.sql).not.toMatch(/USE TEMP B-TREE FOR ORDER BY|^\s*(->\s*)?Sort\b/m);
  }
  // The counts beside them (the heading's number, "Tous mes échanges (n)") read the same ranges: no scan (checked above too).
  const counts = captured.filter((q) => /count\(\*\)/i.test(q.sql) && /assignee_agent_id/i.test(q.sql));
  expect(counts.length).toBeGreaterThanOrEqual(3);
  for (const q of counts) expect(await fullScans(q.sql, q.bindings), q.sql).toEqual([]);
});

it("a search by words (issue 13 §6) walks the list's index in its order (SQLite) — no sort of every matching thread — and scans no table", async () => {
  const text = captured.filter((q) => /^\s*select/i.test(q.sql) && /\bsearch_text\b/.test(q.sql) && /\blimit\b/i.test(q.sql));
  expect(text.length).toBeGreaterThanOrEqual(5);
  for (const q of text) {
    expect(await fullScans(q.sql, q.bindings), q.sql).toEqual([]);
    if (isPostgres(app.db)) continue;
    // The list's own order: no sort at the top of the plan (the INTERSECT of several words sorts its own, small, inputs).
    const plan = (await app.db.raw(`EXPLAIN QUERY PLAN ${q.sql}`, q.bindings as never)) as { parent: number; detail: string }[];
    expect(
      plan.filter((p) => p.parent === 0).map((p) => p.detail),
      q.sql,
    ).not.toContain("USE TEMP B-TREE FOR ORDER BY");
  }
});

it("a tray's overdue view (issue 14 §1) is one range of conversations_tray_overdue in its order; the deadline pass reads conversations_due", async () => {
  const picks = captured.filter((q) => /order by/i.test(q.sql) && /["`]?c["`]?\.["`]?overdue["`]? = /i.test(q.sql) && /["`]?c["`]?\.["`]?state["`]?\s*=/i.test(q.sql));
  expect(new Set(picks.map((q) => (/ asc/i.test(q.sql) ? "asc" : "desc")))).toEqual(new Set(["asc", "desc"]));
  for (const q of picks) {
    const plan = await indexesUsed(q.sql, q.bindings);
    expect(plan, q.sql).toMatch(/\bconversations_tray_overdue\b/);
    expect(plan, q.sql).not.toMatch(/USE TEMP B-TREE FOR ORDER BY|^\s*(->\s*)?Sort\b/m);
  }
  const pass = captured.filter((q) => /["`]?overdue["`]? = /i.test(q.sql) && /["`]?due_at["`]? <= /i.test(q.sql));
  expect(pass.length).toBeGreaterThan(0);
  for (const q of pass) expect(await indexesUsed(q.sql, q.bindings), q.sql).toMatch(/\bconversations_due\b/);
});

it("the doctor's and the centre's « En retard (n) » (issue 14 §1) are counted from an index of their own (issue 17 §3)", async () => {
  const counts = captured.filter((q) => /count\(\*\)/i.test(q.sql) && /["`]?c["`]?\.["`]?overdue["`]? = /i.test(q.sql) && /ps_(practitioner|structure)_id/i.test(q.sql));
  const scopes = new Set(counts.map((q) => (/ps_structure_id/i.test(q.sql) ? "structure" : "practitioner")));
  expect(scopes).toEqual(new Set(["practitioner", "structure"]));
  for (const q of counts) {
    const index = /ps_structure_id/i.test(q.sql) ? "conversations_ps_structure_overdue" : "conversations_ps_practitioner_overdue";
    const plan = await indexesUsed(q.sql, q.bindings);
    expect(await fullScans(q.sql, q.bindings), q.sql).toEqual([]);
    // SQLite reads the index alone, never the rows (the count was 5.5 ms at 1,617 threads reading them). PostgreSQL's
    // planner picks by its statistics: on this small database the few overdue rows of conversations_due are cheaper.
    if (!isPostgres(app.db)) expect(plan, q.sql).toMatch(new RegExp(`COVERING INDEX ${index}\\b`));
  }
});

it("the retention passes (issue 17 §1) each read one range of their partial index, in its order, never a scan", async () => {
  const at = new Date().toISOString();
  const reads = [
    { q: noticeCandidates(app.db, 0, at).toSQL(), index: "conversations_retention_closed" },
    { q: noticeCandidates(app.db, 1, at).toSQL(), index: "conversations_retention_deleted" },
    { q: purgeCandidates(app.db, at).toSQL(), index: "conversations_purge_at" },
  ];
  for (const { q, index } of reads) {
    const plan = await indexesUsed(q.sql, [...q.bindings]);
    expect(plan, q.sql).toMatch(new RegExp(`\\b${index}\\b`));
    expect(plan, q.sql).not.toMatch(/USE TEMP B-TREE FOR ORDER BY|^\s*(->\s*)?Sort\b/m);
    expect(await fullScans(q.sql, [...q.bindings]), q.sql).toEqual([]);
  }
});
