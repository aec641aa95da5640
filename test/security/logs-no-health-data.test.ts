import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bunyel, captureLog, drGene, fixture, marcDubois, signInAgent, signInPs, solana, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { download, openCompose, postForm } from "../helpers/ps.js";

/**
 * Issue 11, item 1: no log line, at any level, carries a NIR, a name, a subject, a body or any value a
 * query bound. A scripted run (logins, patient look-ups, searches by name and NIR, sends refused and
 * sent, a database refusal, 404s on URLs that contain names, a missing stored file) is logged at the
 * most verbose level, then the whole log is searched for the demo patients and the typed markers.
 */
let app: TestApp;
const log = captureLog();
let ps: Session;
let bo: Session;
let patients: { last_name: string; first_name: string; nir: string }[];

const SUBJECT = "ObjetMARQUEUR9Z";
const BODY = "CorpsMARQUEUR9Z sciatique droite";

beforeAll(async () => {
  app = await startTestApp({ LOG_LEVEL: "trace" }, { log: log.stream });
  patients = await app.db("patients").select("last_name", "first_name", "nir");
  ps = await signInPs(app, drGene);
  bo = await signInAgent(app, marcDubois);

  // A refused send (no subject), a draft, a sent question with a file, then its re-post after deletion.
  const { hidden } = await openCompose(ps, bunyel);
  await postForm(ps, "/ps/conversations", { ...hidden, subject: "", body: `${BODY} refusé`, action: "send" });
  const fresh = (await openCompose(ps, bunyel)).hidden;
  const sent = await postForm(ps, "/ps/conversations", { ...fresh, subject: SUBJECT, body: BODY, action: "send" }, [
    { path: fixture("valid", "compte-rendu.pdf"), name: "BUNYEL Guillaume.pdf" },
  ]);
  const id = sent.headers.location!.split("/").pop();
  const thread = await ps.agent.get(`/ps/conversations/${id}`);
  const href = /href="(\/ps\/attachments\/\d+)"/.exec(thread.text)![1]!;
  // The stored file goes missing: its download fails.
  const row = await app
    .db("attachments")
    .where({ id: Number(href.split("/").pop()) })
    .first("storage_key");
  await app.storage.remove(row.storage_key);
  await download(ps, href);
  await ps.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: ps.csrf });
  await postForm(ps, "/ps/conversations", { ...fresh, subject: SUBJECT, body: BODY, action: "send" });
  // An over-long body refused on its field.
  await postForm(ps, "/ps/conversations", { ...(await openCompose(ps, solana)).hidden, subject: SUBJECT, body: `${BODY}${"x".repeat(20_001)}`, action: "send" });

  // Searches by name and by NIR, both sides.
  await ps.agent.post("/ps/search").type("form").send({ _csrf: ps.csrf, nom: "BUNYEL", nir: "" });
  await ps.agent.post("/ps/search").type("form").send({ _csrf: ps.csrf, nom: "", nir: solana.nir });
  await bo.agent.post("/bo/recherche").type("form").send({ _csrf: bo.csrf, patient_nom: "SOLANA", patient_prenom: "Inès" });
  await bo.agent.get("/bo/recherche?patient_nom=FERRAND&patient_prenom=Freddy");

  // URLs no route matches, with names and NIRs in them, signed in or not, and a malformed id.
  await ps.agent.get("/ps/dossier/BUNYEL-Guillaume-1700469387111");
  await ps.agent.get(`/ps/patients/${encodeURIComponent("SOLANA Y FUENTES Inès")}?nir=2851175123045`);
  await bo.agent.get("/bo/patients/MOREAU-Jeanne/1620369387222");
  await request(app.app).get("/dossier/CASANOVA-Marie-Ange");
  await ps.agent.get("/ps/conversations/ARNAUD-Paul");
  await ps.agent.get("/ps/attachments/PETIT-Lucas.pdf");
});
afterAll(async () => {
  await app.close();
});

describe("a full test run's logs", () => {
  it("were written (the run above is logged)", () => {
    expect(log.lines.length).toBeGreaterThan(20);
  });

  it("carry no NIR, no patient name, no subject and no body", () => {
    const all = log.lines.join("\n");
    for (const p of patients) {
      expect(all).not.toContain(p.nir);
      for (const word of `${p.last_name} ${p.first_name}`.split(/[\s-]+/).filter((w) => w.length > 1 && w !== "Y")) {
        expect(all.toUpperCase()).not.toContain(word.toUpperCase());
      }
    }
    expect(all).not.toContain("MARQUEUR9Z");
    expect(all).not.toContain("sciatique");
  });

  it("carry no bound value and no database message: an error is logged by its class and code", () => {
    const errors = log.entries().filter((e) => e.err);
    for (const e of errors) expect(JSON.stringify(e.err)).not.toMatch(/insert into|values \(|select |SQLITE_CONSTRAINT: |duplicate key/i);
  });

  it("name a URL no route matches as unmatched, and a matched one by its route pattern", () => {
    const requests = log.entries().filter((e) => e.msg === "request");
    const routes = new Set(requests.map((e) => String(e.route)));
    expect(routes).toContain("unmatched");
    expect(routes).toContain("/ps/conversations/:conversationId");
    for (const route of routes) expect(route === "unmatched" || route.startsWith("/")).toBe(true);
  });
});
