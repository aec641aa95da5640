import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, bunyel, drGene, drMezin, fixture, hiddenFields, selectPatient, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";

/**
 * Hostile inputs across the app. Each case checks the clear French answer AND that nothing typed
 * was lost (subject, body, the valid attachment sent alongside) and nothing else changed.
 */
let app: TestApp;
let gene: Session;
let tmp: string;
beforeAll(async () => {
  app = await startTestApp();
  gene = await signInPs(app, drGene);
  await selectPatient(gene, bunyel);
  tmp = fs.mkdtempSync(path.join(app.dir, "hostile-"));
});
afterAll(async () => {
  await app.close();
});

function file(name: string, content: Buffer | string): string {
  const p = path.join(tmp, name.replace(/[/\\]/g, "_").slice(0, 200) || "x");
  fs.writeFileSync(p, content);
  return p;
}

/** A zip whose single entry inflates to 200 MB of zeros ("zip bomb"), named like a Word document. */
function zipBomb(): Buffer {
  const raw = Buffer.alloc(200 * 1024 * 1024);
  const data = zlib.deflateRawSync(raw, { level: 9 });
  const name = Buffer.from("word/document.xml");
  const crc = zlib.crc32 ? zlib.crc32(raw) : 0;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc >>> 0, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(raw.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc >>> 0, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(raw.length, 24);
  central.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  const cdOffset = local.length + name.length + data.length;
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

async function composeWith(files: string[], fields: Record<string, string> = {}) {
  const form = await gene.agent.get("/ps/conversations/new");
  let req = gene.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject: "Objet saisi", body: "Message saisi", action: "send", ...fields });
  for (const f of files) req = req.attach("attachments", f);
  return req;
}

const counts = async () => ({
  conversations: (await app.db("conversations").select("id")).length,
  messages: (await app.db("messages").select("id")).length,
});

describe("hostile uploads: refused by content, with the typed text and the valid file kept", () => {
  const refused: [string, () => string, string][] = [
    ["a Windows executable named .pdf", () => fixture("hostile", "ordonnance.pdf"), "n'est pas dans un format accepté"],
    ["a text file renamed .pdf", () => fixture("hostile", "notes.pdf"), "n'est pas dans un format accepté"],
    ["a zero-byte file", () => fixture("hostile", "vide.pdf"), "est un fichier vide"],
    ["an ordinary zip named .docx", () => fixture("hostile", "archive.docx"), "archive qui n'est pas un document Word ou Excel"],
    ["an OpenDocument named .docx", () => fixture("hostile", "compte-rendu-odt.docx"), "archive qui n'est pas un document Word ou Excel"],
    ["an Excel file named .docx", () => fixture("hostile", "releve-xlsx.docx"), "ne correspond pas au contenu réel"],
    ["an SVG with a script named .png", () => fixture("hostile", "page.png"), "n'est pas dans un format accepté"],
    ["a zip bomb named .docx", () => file("bombe.docx", zipBomb()), "archive qui n'est pas un document Word ou Excel"],
    [
      "a file of 10 MB + 1 byte",
      () =>
        file(
          "gros.pdf",
          Buffer.concat([fs.readFileSync(fixture("valid", "compte-rendu.pdf")), Buffer.alloc(10 * 1024 * 1024 + 1 - fs.statSync(fixture("valid", "compte-rendu.pdf")).size)]),
        ),
      "dépasse la taille maximale de 10 Mo",
    ],
    [
      "an OLE file that is neither Word nor Excel",
      () => file("inconnu.doc", Buffer.concat([fs.readFileSync(fixture("valid", "compte-rendu.doc")).subarray(0, 512), Buffer.alloc(4096)])),
      "n'est ni un document Word ni un classeur Excel",
    ],
  ];
  for (const [label, make, message] of refused) {
    it(`${label}`, async () => {
      const before = await counts();
      const res = await composeWith([make(), fixture("valid", "photo.jpg")]);
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page("#attachments-error").text()).toContain(message);
      expect(page(".error-summary").text()).toContain(message);
      expect(page("#subject").val()).toBe("Objet saisi");
      expect(page("#body").text()).toBe("Message saisi");
      expect(
        page(".attached li a")
          .map((_, a) => page(a).text())
          .get(),
      ).toEqual(["photo.jpg"]);
      expect(await counts()).toEqual(before);
    });
  }

  it("a 6th attachment is refused, counting those already on the draft", async () => {
    const first = await composeWith(
      [1, 2, 3].map(() => fixture("valid", "radio.png")),
      { action: "draft" },
    );
    const draftUrl = first.headers.location;
    const draft = await gene.agent.get(draftUrl);
    const res = await gene.agent
      .post(draftUrl)
      .field({ ...hiddenFields(draft.text), subject: "Objet saisi", body: "Message saisi", action: "send" })
      .attach("attachments", fixture("valid", "photo.jpg"))
      .attach("attachments", fixture("valid", "releve.xls"))
      .attach("attachments", fixture("valid", "compte-rendu.docx"));
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page("#attachments-error").text()).toContain("« compte-rendu.docx » n'a pas été joint : 5 pièces jointes au maximum");
    expect(page(".attached li")).toHaveLength(5);
  });

  const names: [string, string, (stored: string) => void][] = [
    ["a name with ../", "../../etc/passwd.pdf", (n) => expect(n).toBe("passwd.pdf")],
    ["a name with quotes and HTML", "<img src=x onerror=alert(1)>\"'.pdf", (n) => expect(n).not.toMatch(/[<>"']/)],
    [
      "a name of 300 characters",
      `${"a".repeat(296)}.pdf`,
      (n) => {
        expect(n.length).toBeLessThanOrEqual(120);
        expect(n.endsWith(".pdf")).toBe(true);
      },
    ],
    ["a name with a right-to-left override", "facture\u202Efdp.exe.pdf", (n) => expect(n).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/)],
  ];
  for (const [label, name, check] of names) {
    it(`${label} is sanitised, stored and served safely`, async () => {
      const res = await gene.agent
        .post("/ps/conversations")
        .field({ ...hiddenFields((await gene.agent.get("/ps/conversations/new")).text), subject: "Nom piégé", body: "x", action: "send" })
        .attach("attachments", fs.readFileSync(fixture("valid", "compte-rendu.pdf")), { filename: name, contentType: "application/pdf" });
      expect(res.status).toBe(303);
      const id = Number(res.headers.location.split("/").pop());
      const att = await app.db("attachments").join("messages", "messages.id", "attachments.message_id").where("messages.conversation_id", id).first("attachments.*");
      check(att.original_name);
      const download = await gene.agent.get(`/ps/attachments/${att.id}`);
      expect(download.headers["content-disposition"]).toMatch(/^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''/);
      expect(download.headers["content-disposition"]).not.toMatch(/[\r\n]/);
    });
  }

  it("a raw NUL byte in a file name is a malformed part: 400, the form back with the text, nothing created", async () => {
    const before = await counts();
    const res = await gene.agent
      .post("/ps/conversations")
      .field({ ...hiddenFields((await gene.agent.get("/ps/conversations/new")).text), subject: "NUL", body: "x", action: "send" })
      .attach("attachments", fs.readFileSync(fixture("valid", "compte-rendu.pdf")), { filename: "rapport\u0000.exe.pdf", contentType: "application/pdf" });
    expect(res.status).toBe(400);
    expect($(res.text)("#attachments-error").text()).toContain("en-tête de sa partie");
    expect($(res.text)("#subject").val()).toBe("NUL");
    expect(await counts()).toEqual(before);
  });

  it("a PDF carrying HTML (polyglot) is only ever served as a PDF download", async () => {
    const res = await composeWith([fixture("hostile", "polyglotte.pdf")]);
    expect(res.status).toBe(303);
    const id = Number(res.headers.location.split("/").pop());
    const att = await app.db("attachments").join("messages", "messages.id", "attachments.message_id").where("messages.conversation_id", id).first("attachments.id");
    const download = await gene.agent.get(`/ps/attachments/${att.id}`);
    expect(download.headers["content-type"]).toBe("application/pdf");
    expect(download.headers["content-disposition"]).toMatch(/^attachment;/);
    expect(download.headers["x-content-type-options"]).toBe("nosniff");
    expect(download.headers["content-security-policy"]).toContain("sandbox");
  });
});

describe("injection in text and search fields", () => {
  it("SQL in the subject is stored as text and breaks nothing", async () => {
    const subject = "'; DROP TABLE messages; --";
    const res = await composeWith([], { subject });
    expect(res.status).toBe(303);
    const page = await gene.agent.get(res.headers.location);
    expect($(page.text)("h1").text()).toBe(subject);
    expect((await app.db("messages").select("id")).length).toBeGreaterThan(0);
  });

  it("<script> in subject and message is shown as text, never executed", async () => {
    const res = await composeWith([], { subject: "<script>alert(1)</script>", body: "<img src=x onerror=alert(2)>" });
    const page = await gene.agent.get(res.headers.location);
    expect(page.text).not.toContain("<script>alert(1)</script>");
    expect(page.text).not.toContain("<img src=x");
    expect($(page.text)(".message-body").text()).toBe("<img src=x onerror=alert(2)>");
  });

  it("Eta template tags typed in a field are not evaluated", async () => {
    const res = await composeWith([], { subject: "<%= it.csrf() %>", body: "<%~ include('../layouts/app') %>" });
    const page = await gene.agent.get(res.headers.location);
    expect($(page.text)("h1").text()).toBe("<%= it.csrf() %>");
    expect($(page.text)(".message-body").text()).toBe("<%~ include('../layouts/app') %>");
  });

  it("CRLF in a search field injects no header", async () => {
    const res = await gene.agent.post("/ps/search").type("form").send({ _csrf: gene.csrf, nom: "X\r\nSet-Cookie: pwned=1", nir: "" });
    expect(res.status).toBe(303);
    expect(JSON.stringify(res.headers)).not.toContain("pwned");
    await gene.agent.post("/ps/search/reset").type("form").send({ _csrf: gene.csrf });
  });

  it("SQL in the doctor's search finds nothing outside the doctor's scope", async () => {
    await gene.agent.post("/ps/search").type("form").send({ _csrf: gene.csrf, nom: "%' OR 1=1 --", nir: "" });
    const page = $((await gene.agent.get("/ps/messages")).text);
    expect(page("#list .item")).toHaveLength(0);
    await gene.agent.post("/ps/search/reset").type("form").send({ _csrf: gene.csrf });
  });

  it("SQL in the NIR field gets the NIR message", async () => {
    const res = await gene.agent.post("/ps/patient/nir").type("form").send({ _csrf: gene.csrf, nir: "1' OR '1'='1", key: "00" });
    expect(res.status).toBe(422);
    expect($(res.text)("#nir-error").text()).toMatch(/NIR/);
  });

  it("SQL in the back-office search returns nothing and no other ELSM's threads", async () => {
    const anna = await signInAgent(app, annaAin);
    await anna.agent.post("/bo/recherche").type("form").send({ _csrf: anna.csrf, ps_nom: "' UNION SELECT id, subject FROM conversations --" });
    const page = $((await anna.agent.get("/bo/recherche")).text);
    expect(page(".results .item")).toHaveLength(0);
  });

  it("HTML in the back-office recipient field comes back escaped in the error", async () => {
    const anna = await signInAgent(app, annaAin);
    const blank = await anna.agent.get("/bo/conversations/new");
    const res = await anna.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), destinataire: "<b>x</b>", subject: "s", body: "b", action: "lookup" });
    expect(res.status).toBe(422);
    expect(res.text).not.toContain("<b>x</b>");
  });
});

describe("oversized and malformed requests", () => {
  it("a subject over 200 characters is refused, everything kept", async () => {
    const subject = "o".repeat(260);
    const res = await composeWith([fixture("valid", "radio.png")], { subject });
    expect(res.status).toBe(422);
    expect($(res.text)("#subject-error").text()).toContain("ne peut pas dépasser 200 caractères");
    expect($(res.text)("#subject").val()).toBe(subject);
  });

  it("a message over 20 000 characters is refused, everything kept", async () => {
    const body = "m".repeat(20_050);
    const res = await composeWith([], { body });
    expect(res.status).toBe(422);
    expect($(res.text)("#body-error").text()).toContain("ne peut pas dépasser 20000 caractères");
    expect($(res.text)("#body").text()).toBe(body);
  });

  it("an oversized form body gets a French 413 page", async () => {
    const res = await gene.agent
      .post("/ps/search")
      .type("form")
      .send({ _csrf: gene.csrf, nom: "x".repeat(300_000) });
    expect(res.status).toBe(413);
    expect($(res.text)("h1").text()).toBe("Envoi trop volumineux");
  });

  it("a malformed multipart body gets 400 and the form back with what was received, and the app keeps serving", async () => {
    const res = await gene.agent
      .post("/ps/conversations")
      .set("Content-Type", "multipart/form-data; boundary=XYZ")
      .send(`--XYZ\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${gene.csrf}\r\n--XYZ\r\nContent-Disposition: form-data; name="subject"\r\n\r\nabc`);
    expect(res.status).toBe(400);
    expect($(res.text)("#attachments-error").text()).toContain("mal formé");
    expect((await gene.agent.get("/ps/messages")).status).toBe(200);
  });
});

describe("wrong methods, forged ids and tokens, double submits", () => {
  it("PUT and DELETE on a conversation are not routes (404), nothing changes", async () => {
    const before = await counts();
    expect((await gene.agent.put("/ps/conversations/1").set("X-CSRF-Token", gene.csrf)).status).toBe(404);
    expect((await gene.agent.delete("/ps/conversations/1").set("X-CSRF-Token", gene.csrf)).status).toBe(404);
    expect(await counts()).toEqual(before);
  });

  it("GET on the delete URL only asks for confirmation", async () => {
    const id = (await app.db("conversations").where({ subject: "info ALD" }).first("id")).id;
    const res = await gene.agent.get(`/ps/conversations/${id}/delete`);
    expect(res.status).toBe(200);
    expect((await app.db("conversations").where({ id }).first()).ps_deleted_at).toBeNull();
  });

  for (const forged of ["1 OR 1=1", "-1", "0", "99999999999", "abc", "1e3", "%00"]) {
    it(`a forged id (${forged}) is a 404`, async () => {
      expect((await gene.agent.get(`/ps/conversations/${encodeURIComponent(forged)}`)).status).toBe(404);
    });
  }

  it("a forged CSRF token is refused (403) and changes nothing", async () => {
    const id = (await app.db("conversations").where({ subject: "info ALD" }).first("id")).id;
    const res = await gene.agent
      .post(`/ps/conversations/${id}/delete`)
      .type("form")
      .send({ _csrf: "a".repeat(128) });
    expect(res.status).toBe(403);
    expect($(res.text)("h1").text()).toBe("Action refusée");
    expect((await app.db("conversations").where({ id }).first()).ps_deleted_at).toBeNull();
  });

  it("another session's CSRF token is refused", async () => {
    const mezin = await signInPs(app, drMezin);
    const id = (await app.db("conversations").where({ subject: "info ALD" }).first("id")).id;
    const res = await gene.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: mezin.csrf });
    expect(res.status).toBe(403);
  });

  it("a new question sent twice at once (double click) makes one conversation", async () => {
    const form = await gene.agent.get("/ps/conversations/new");
    const fields = { ...hiddenFields(form.text), subject: "Double envoi", body: "x", action: "send" };
    const [a, b] = await Promise.all([gene.agent.post("/ps/conversations").field(fields), gene.agent.post("/ps/conversations").field(fields)]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(a.headers.location).toBe(b.headers.location);
    expect(await app.db("conversations").where({ subject: "Double envoi" })).toHaveLength(1);
  });

  it("an error page never shows a stack trace outside development", async () => {
    const res = await gene.agent.get("/ps/conversations/1%");
    expect(res.status).toBe(400);
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    expect($(res.text)("p").text()).toMatch(/Référence de l'incident/);
  });
});
