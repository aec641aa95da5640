import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  $,
  bunyel,
  drGene,
  drLeroy,
  drMezin,
  fixture,
  hiddenFields,
  paulHerault,
  signInAgent,
  signInPs,
  startWithGeneAndAnna,
  type Session,
  type TestApp,
} from "../helpers/app.js";
import { countRows, download, elsmWrites, freshThread, sendPsQuestion } from "../helpers/ps.js";
import { readPdf } from "../helpers/pdf.js";

/**
 * Issue 15 §3: « Télécharger en PDF » on a thread, both sides. The PDF is read back with pdf.js as a reader would
 * get it: the header, every message, the attachments with their SHA-256, French signs intact, fonts embedded,
 * tagged (structure tree, /Lang (fr), the title shown); the échelon's internal notes in neither export; in scope only
 * (404 otherwise, a thread the doctor deleted included); traced; nothing marked read.
 */
let app: TestApp;
let gene: Session;
let anna: Session;
let id = 0;
const SUBJECT = "Reprise à mi-temps thérapeutique";
const BODY = "Bilan : état général amélioré, œdème résorbé ; « reprise » envisagée, frais de 25 € – à confirmer.";
const REPLY = "Réponse de l'échelon : avis favorable.";
const NOTE = "Note interne confidentielle ZX81";

beforeAll(async () => {
  ({ app, gene, anna } = await startWithGeneAndAnna());
  id = await sendPsQuestion(gene, bunyel, SUBJECT, BODY, [{ path: fixture("valid", "compte-rendu.pdf") }]);
  await elsmWrites(app, "AIN", id, REPLY);
  const note = await anna.agent.post(`/bo/conversations/${id}/notes`).type("form").send({ _csrf: anna.csrf, note: NOTE });
  if (note.status !== 303) throw new Error(`note not added: ${note.status}`);
});
afterAll(async () => {
  await app.close();
});

const exportOf = (s: Session, side: "ps" | "bo", conversationId = id) => download(s, `/${side}/conversations/${conversationId}/pdf`);
const unreadState = async () => ({
  messages: await app.db("messages").where({ conversation_id: id }).orderBy("id").pluck("read_at"),
  counts: await app.db("conversations").where({ id }).first("ps_unread", "elsm_unread", "ps_marked_unread", "elsm_marked_unread"),
  tray: await app.db("tray_counts").orderBy(["elsm_id", "state"]).select("elsm_id", "state", "n", "unread"),
});
const exported = (actorType: string) =>
  countRows(app.db("audit_events").where({ action: "conversation.exported", object_type: "conversation", object_id: id, actor_type: actorType }));

describe("the doctor's export", () => {
  it("is offered on the thread page as a plain link, named by the thread's id only", async () => {
    const page = $((await gene.agent.get(`/ps/conversations/${id}`)).text);
    const link = page(`#thread-actions a[href="/ps/conversations/${id}/pdf"]`);
    expect(link.text().trim()).toBe("Télécharger en PDF");
    expect(link.attr("data-hx-boost")).toBe("false");
  });

  it("downloads a PDF named echange-<id>.pdf, never cached, traced, and marks nothing read", async () => {
    const before = await unreadState();
    expect(
      before.messages.some((r) => r === null),
      "the échelon's reply is unread by the doctor",
    ).toBe(true);
    const res = await exportOf(gene, "ps");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/pdf");
    expect(res.headers["content-disposition"]).toBe(`attachment; filename="echange-${id}.pdf"`);
    expect(res.headers["cache-control"]).toContain("no-store");
    expect((res.body as Buffer).subarray(0, 5).toString()).toBe("%PDF-");
    expect(await unreadState()).toEqual(before);
    expect(await exported("practitioner")).toBe(1);
    const row = await app.db("audit_events").where({ action: "conversation.exported" }).first();
    expect(row).toMatchObject({ actor_id: (await app.db("practitioners").where({ nam: drGene.nam }).first("id")).id, object_id: id });
  });

  it("holds the header, every message and the attachment's name, type, size and SHA-256, French signs intact", async () => {
    const pdf = await readPdf((await exportOf(gene, "ps")).body as Buffer);
    const text = pdf.text.replace(/\s+/g, " ");
    expect(text).toContain(SUBJECT);
    expect(text).toContain("Patient(e) : Guillaume BUNYEL");
    expect(text).toContain(`NIR : ${bunyel.nir} ${bunyel.key}`);
    expect(text).toMatch(/Professionnel de santé : Dr GENE Alain — N°AM : 991101197/);
    expect(text).toMatch(/Service médical : ELSM/);
    expect(text).toMatch(/Créée le : \w+, \d+\/\d\d\/\d{4} \d\d:\d\d/);
    expect(text).toMatch(/Dernier message le : \w+, \d+\/\d\d\/\d{4} \d\d:\d\d/);
    expect(text).toContain("État : EN COURS");
    expect(text).toContain(BODY);
    expect(text).toContain(REPLY);
    expect(text).toMatch(/Dr Alain GENE — \w+, \d+\/\d\d\/\d{4} \d\d:\d\d/);
    const file = await app
      .db("attachments as a")
      .join("messages as m", "m.id", "a.message_id")
      .where("m.conversation_id", id)
      .first("a.original_name", "a.mime_type", "a.size_bytes", "a.sha256");
    expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(text).toContain(file.original_name);
    expect(text).toContain(`Type : ${file.mime_type}`);
    expect(text).toContain(`(${Number(file.size_bytes).toLocaleString("fr-FR")} octets)`.replace(/\s/g, " "));
    expect(text).toContain(`SHA-256 : ${file.sha256}`);
    expect(text).not.toContain(NOTE);
    expect(text).not.toContain("Note interne");
  });

  it("is a tagged PDF in French with its title shown, every font embedded", async () => {
    const pdf = await readPdf((await exportOf(gene, "ps")).body as Buffer);
    expect(pdf.info.Title).toBe(`Échange n° ${id} — ${SUBJECT}`);
    expect(pdf.info.Language).toBe("fr");
    expect(pdf.raw).toContain("/Lang (fr)");
    expect(pdf.raw).toMatch(/\/DisplayDocTitle true/);
    expect(pdf.markInfo).toMatchObject({ Marked: true });
    expect(pdf.raw).toMatch(/\/Type \/StructTreeRoot/);
    for (const role of ["Document", "H1", "H2", "H3", "P", "L", "LI", "LBody"]) expect(pdf.roles, role).toContain(role);
    expect(pdf.roles.filter((r) => r === "H3")).toHaveLength(2);
    // Every font is a TrueType program carried in the file (FontFile2): none left to the reader's system.
    const descriptors = pdf.raw.match(/\/Type \/FontDescriptor[\s\S]*?>>/g) ?? [];
    expect(descriptors.length).toBeGreaterThanOrEqual(2);
    for (const d of descriptors) expect(d).toMatch(/\/FontFile2 \d+ 0 R/);
    // Each a Type0 font over its CIDFontType2 (DejaVu Sans, DejaVu Sans Bold), nothing else.
    expect(pdf.raw.match(/\/Type \/Font\b/g)?.length).toBe(2 * (pdf.raw.match(/\/Subtype \/Type0/g)?.length ?? 0));
    expect(pdf.raw.match(/\/Subtype \/CIDFontType2/g)?.length).toBe(pdf.raw.match(/\/Subtype \/Type0/g)?.length);
    expect(pdf.raw).not.toMatch(/\/BaseFont \/(Helvetica|Times|Courier)/);
  });
  it("a thread about no patient says so in its header, without a NIR", async () => {
    const other = await freshThread(app, "Question générale sans patient");
    await app.db("conversations").where({ id: other }).update({ patient_id: null });
    const res = await exportOf(gene, "ps", other);
    expect(res.status).toBe(200);
    const text = (await readPdf(res.body as Buffer)).text.replace(/\s+/g, " ");
    expect(text).toContain("Patient(e) : aucun patient désigné");
    expect(text).not.toContain("NIR :");
    expect(text).toContain("Question du médecin");
  });
});

describe("the back office's export", () => {
  it("is offered on the thread page, downloads the same thread with the agent's name, traced, marks nothing read", async () => {
    const page = $((await anna.agent.get(`/bo/conversations/${id}`)).text);
    expect(page(`#thread-actions a[href="/bo/conversations/${id}/pdf"]`).text().trim()).toBe("Télécharger en PDF");
    // Opening the page read the doctor's message: a new one, unread by the échelon, must stay so.
    await gene.agent
      .post(`/ps/conversations/${id}/messages`)
      .type("form")
      .send({ ...hiddenFields((await gene.agent.get(`/ps/conversations/${id}/reply`)).text), body: "Complément du médecin.", action: "send" });
    const before = await unreadState();
    expect(Number(before.counts.elsm_unread)).toBeGreaterThan(0);
    const res = await exportOf(anna, "bo");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/pdf");
    expect(res.headers["content-disposition"]).toBe(`attachment; filename="echange-${id}.pdf"`);
    expect(await unreadState()).toEqual(before);
    expect(await exported("agent")).toBe(1);
    const text = (await readPdf(res.body as Buffer)).text.replace(/\s+/g, " ");
    expect(text).toContain(BODY);
    expect(text).toContain("Complément du médecin.");
    expect(text).toMatch(/Anna AIN — ELSM/);
    // The internal notes stay on the back office's page: not in its export either.
    expect(text).not.toContain(NOTE);
  });
});

describe("out of scope: 404, nothing traced", () => {
  it("another doctor, a doctor of another structure, an agent of another ELSM, the wrong side", async () => {
    const before = await countRows(app.db("audit_events").where({ action: "conversation.exported" }));
    const outsiders: [string, Session, "ps" | "bo"][] = [
      ["another liberal doctor", await signInPs(app, drMezin), "ps"],
      ["a salaried doctor of another structure", await signInPs(app, drLeroy), "ps"],
      ["an agent of another ELSM", await signInAgent(app, paulHerault), "bo"],
      ["the agent on the doctor's side", anna, "ps"],
      ["the doctor on the back office's side", gene, "bo"],
    ];
    for (const [who, s, side] of outsiders) {
      const res = await exportOf(s, side);
      expect(res.status, who).toBe(404);
      expect(res.headers["content-type"], who).not.toContain("pdf");
    }
    expect((await exportOf(gene, "ps", 999_999)).status).toBe(404);
    expect(await countRows(app.db("audit_events").where({ action: "conversation.exported" }))).toBe(before);
  });

  it("a thread the doctor deleted: 404 on the doctor's side, still exported by the échelon (which sees the deletion)", async () => {
    const confirm = await gene.agent.get(`/ps/conversations/${id}/delete`);
    const deleted = await gene.agent
      .post(`/ps/conversations/${id}/delete`)
      .type("form")
      .send({ _csrf: $(confirm.text)('input[name="_csrf"]').first().val() });
    expect(deleted.status).toBe(303);
    expect((await exportOf(gene, "ps")).status).toBe(404);
    const res = await exportOf(anna, "bo");
    expect(res.status).toBe(200);
    expect((await readPdf(res.body as Buffer)).text.replace(/\s+/g, " ")).toMatch(/Suppression : Supprimée par le professionnel de santé le/);
  });
});
