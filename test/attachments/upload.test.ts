import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, drGene, fixture, hiddenFields, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { download, openCompose, postForm, rawMultipart, textOf, type Upload } from "../helpers/ps.js";

let app: TestApp;
let s: Session;
beforeAll(async () => {
  app = await startTestApp();
  s = await signInPs(app, drGene);
});
afterAll(async () => {
  await app.close();
});

const MB10 = 10 * 1024 * 1024;

const VALID: [string, string][] = [
  ["compte-rendu.pdf", "application/pdf"],
  ["compte-rendu.doc", "application/msword"],
  ["compte-rendu.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  ["releve.xls", "application/vnd.ms-excel"],
  ["releve.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
  ["radio.png", "image/png"],
  ["photo.jpg", "image/jpeg"],
];

const HOSTILE: [string, string][] = [
  ["ordonnance.pdf", "n'est pas dans un format accepté"],
  ["notes.pdf", "n'est pas dans un format accepté"],
  ["vide.pdf", "est un fichier vide"],
  ["archive.docx", "n'est pas un document Word ou Excel"],
  ["compte-rendu-odt.docx", "n'est pas un document Word ou Excel"],
  ["releve-xlsx.docx", "l'extension du nom ne correspond pas au contenu réel"],
  ["page.png", "n'est pas dans un format accepté"],
];

const valid = (name: string): Upload => ({ path: fixture("valid", name) });
const hostile = (name: string): Upload => ({ path: fixture("hostile", name) });

/** A PDF header padded with spaces to the exact size wanted. */
function pdfOfSize(size: number): Buffer {
  const b = Buffer.alloc(size, 0x20);
  b.write("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n", 0, "latin1");
  return b;
}

async function newForm() {
  return (await openCompose(s, bunyel)).hidden;
}

/** Saves a new draft with these files; returns the draft page after the redirect (or the 422 form). */
async function draftWith(subject: string, files: Upload[], body = "Corps") {
  const res = await postForm(s, "/ps/conversations", { ...(await newForm()), subject, body, action: "draft" }, files);
  const html = res.status === 303 ? (await s.agent.get(res.headers.location)).text : res.text;
  return { res, html, page: $(html) };
}

async function draftBySubject(subject: string) {
  const draft = await app.db("drafts").where({ subject }).first();
  const files = draft ? await app.db("attachments").where({ draft_id: draft.id }).orderBy("id") : [];
  return { draft, files };
}

describe("each accepted format", () => {
  it.each(VALID)("%s is accepted and downloaded byte for byte, as an attachment of its true type, not sniffed", async (name, mime) => {
    const { res, page } = await draftWith(`PJ ${name}`, [valid(name)]);
    expect(res.status).toBe(303);
    const link = page(".attached a").filter((_, a) => page(a).text() === name);
    expect(link.length).toBe(1);

    const file = await download(s, link.attr("href")!);
    expect(file.status).toBe(200);
    expect(Buffer.compare(file.body as Buffer, fs.readFileSync(fixture("valid", name)))).toBe(0);
    expect(file.headers["content-type"]).toBe(mime);
    expect(file.headers["content-disposition"]).toMatch(/^attachment;/);
    expect(file.headers["content-disposition"]).toContain(`filename="${name}"`);
    expect(file.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("two files sent with a question travel with the message and download from the thread", async () => {
    const res = await postForm(s, "/ps/conversations", { ...(await newForm()), subject: "Deux PJ envoyées", body: "Ci-joint", action: "send" }, [
      valid("compte-rendu.pdf"),
      valid("radio.png"),
    ]);
    expect(res.status).toBe(303);
    const thread = $((await s.agent.get(res.headers.location)).text);
    const links = thread(".message .attachments a");
    expect(links.toArray().map((a) => thread(a).text())).toEqual(["compte-rendu.pdf", "radio.png"]);
    for (const a of links.toArray()) {
      const file = await download(s, thread(a).attr("href")!);
      expect(Buffer.compare(file.body as Buffer, fs.readFileSync(fixture("valid", thread(a).text())))).toBe(0);
      expect(file.headers["content-disposition"]).toMatch(/^attachment;/);
    }
    const c = await app.db("conversations").where({ subject: "Deux PJ envoyées" }).first();
    const m = await app.db("messages").where({ conversation_id: c.id }).first();
    expect(await app.db("attachments").where({ message_id: m.id })).toHaveLength(2);
    expect(await app.db("attachments").where({ message_id: m.id }).whereNotNull("draft_id")).toHaveLength(0);
  });
});

describe("each hostile file", () => {
  it.each(HOSTILE)("%s is refused with its French message; the typed text and the valid file sent with it are kept on a draft", async (name, message) => {
    const subject = `Objet gardé ${name}`;
    const res = await postForm(s, "/ps/conversations", { ...(await newForm()), subject, body: "Texte gardé", action: "send" }, [hostile(name), valid("compte-rendu.pdf")]);
    expect(res.status).toBe(422);
    const page = $(res.text);
    const errors = page("#attachments-error li")
      .toArray()
      .map((li) => page(li).text());
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`« ${name} »`);
    expect(errors[0]).toContain(message);
    expect(page("input#attachments").attr("aria-invalid")).toBe("true");
    expect(page(".error-summary").text()).toContain(errors[0]);

    expect(page("input#subject").val()).toBe(subject);
    expect(page("textarea#body").text()).toBe("Texte gardé");
    expect(
      page(".attached a")
        .toArray()
        .map((a) => page(a).text()),
    ).toEqual(["compte-rendu.pdf"]);

    const { draft, files } = await draftBySubject(subject);
    expect(draft.body).toBe("Texte gardé");
    expect(files.map((f) => f.original_name)).toEqual(["compte-rendu.pdf"]);
    expect(await app.db("conversations").where({ subject })).toHaveLength(0);
  });

  it("the polyglot (PDF carrying HTML and a script) is either refused or only ever served as a PDF download", async () => {
    const { page } = await draftWith("Polyglotte", [hostile("polyglotte.pdf")]);
    const { files } = await draftBySubject("Polyglotte");
    if (files.length === 0) {
      expect(page("#attachments-error").text()).toContain("« polyglotte.pdf »");
      return;
    }
    const link = page(".attached a").filter((_, a) => page(a).text() === "polyglotte.pdf");
    const file = await download(s, link.attr("href")!);
    expect(file.headers["content-type"]).toBe("application/pdf");
    expect(file.headers["content-disposition"]).toMatch(/^attachment;/);
    expect(file.headers["x-content-type-options"]).toBe("nosniff");
    expect(file.headers["content-security-policy"]).toContain("sandbox");
    expect(Buffer.compare(file.body as Buffer, fs.readFileSync(fixture("hostile", "polyglotte.pdf")))).toBe(0);
  });
});

describe("size and count limits", () => {
  it("a file of 10 MB + 1 byte is refused, the rest of the form kept", async () => {
    const res = await postForm(s, "/ps/conversations", { ...(await newForm()), subject: "Trop gros", body: "Texte", action: "send" }, [
      { buffer: pdfOfSize(MB10 + 1), name: "scanner.pdf" },
      valid("photo.jpg"),
    ]);
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(textOf(page, "#attachments-error")).toContain("« scanner.pdf » dépasse la taille maximale de 10 Mo");
    expect(page("input#subject").val()).toBe("Trop gros");
    const { files } = await draftBySubject("Trop gros");
    expect(files.map((f) => f.original_name)).toEqual(["photo.jpg"]);
  });

  it("a refused file is spoken of in the masculine: « il n'a pas été joint », never « jointe »", async () => {
    const big = await postForm(s, "/ps/conversations", { ...(await newForm()), subject: "Accord trop gros", body: "Texte", action: "send" }, [
      { buffer: pdfOfSize(MB10 + 1), name: "scanner.pdf" },
    ]);
    expect(textOf($(big.text), "#attachments-error")).toContain("« scanner.pdf » dépasse la taille maximale de 10 Mo : il n'a pas été joint.");
    const six = ["compte-rendu.pdf", "radio.png", "photo.jpg", "compte-rendu.doc", "releve.xls", "releve.xlsx"].map(valid);
    const { page } = await draftWith("Accord six", six);
    expect(textOf(page, "#attachments-error")).toContain("« releve.xlsx » n'a pas été joint : 5 pièces jointes au maximum");
    expect(textOf(page, "#attachments-error")).not.toContain("jointe :");
  });

  it("a file of exactly 10 MB is accepted", async () => {
    const { res } = await draftWith("Dix Mo pile", [{ buffer: pdfOfSize(MB10), name: "dix.pdf" }]);
    expect(res.status).toBe(303);
    const { files } = await draftBySubject("Dix Mo pile");
    expect(files.map((f) => [f.original_name, f.size_bytes])).toEqual([["dix.pdf", MB10]]);
  });

  it("a zero-byte file is refused", async () => {
    const { res, page } = await draftWith("Fichier vide", [{ buffer: Buffer.alloc(0), name: "radio-vide.png" }]);
    expect(res.status).toBe(422);
    expect(textOf(page, "#attachments-error")).toContain("« radio-vide.png » est un fichier vide (0 octet)");
  });

  it("a 6th file in one request is refused, the first five kept", async () => {
    const six = ["compte-rendu.pdf", "radio.png", "photo.jpg", "compte-rendu.doc", "releve.xls", "releve.xlsx"].map(valid);
    const { res, page } = await draftWith("Six d'un coup", six);
    expect(res.status).toBe(422);
    const errors = page("#attachments-error li")
      .toArray()
      .map((li) => page(li).text());
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("« releve.xlsx »");
    expect(errors[0]).toContain("5 pièces jointes au maximum");
    expect((await draftBySubject("Six d'un coup")).files).toHaveLength(5);
  });

  it("the limit counts the files already on the draft: 3 saved + 3 more → the 6th refused", async () => {
    const first = await draftWith("Trois puis trois", ["compte-rendu.pdf", "radio.png", "photo.jpg"].map(valid));
    expect(first.res.status).toBe(303);
    const action = first.page("form.compose").attr("action")!;
    expect(action).toMatch(/^\/ps\/drafts\/\d+$/);

    const second = await postForm(
      s,
      action,
      { ...hiddenFields(first.html), subject: "Trois puis trois", body: "Corps", action: "draft" },
      ["compte-rendu.doc", "releve.xls", "releve.xlsx"].map(valid),
    );
    expect(second.status).toBe(422);
    const page = $(second.text);
    const errors = page("#attachments-error li")
      .toArray()
      .map((li) => page(li).text());
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("« releve.xlsx »");
    expect(page(".attached li")).toHaveLength(5);
    expect(page("input#attachments").attr("disabled")).toBeDefined();
    expect((await draftBySubject("Trois puis trois")).files).toHaveLength(5);

    // Once full, any further file is refused, even when sending.
    const third = await postForm(s, action, { ...hiddenFields(second.text), subject: "Trois puis trois", body: "Corps", action: "send" }, [valid("compte-rendu.docx")]);
    expect(third.status).toBe(422);
    expect(textOf($(third.text), "#attachments-error")).toContain("« compte-rendu.docx »");
    expect((await draftBySubject("Trois puis trois")).files).toHaveLength(5);
    expect(await app.db("conversations").where({ subject: "Trois puis trois" })).toHaveLength(0);
  });

  it("removing a file from a full draft frees a place", async () => {
    const first = await draftWith("Retrait", ["compte-rendu.pdf", "radio.png", "photo.jpg", "compte-rendu.doc", "releve.xls"].map(valid));
    const page = first.page;
    const removeId = String(page("input[name=remove_attachment]").first().val());
    const res = await postForm(
      s,
      page("form.compose").attr("action")!,
      { ...hiddenFields(first.html), subject: "Retrait", body: "Corps", action: "draft", remove_attachment: removeId },
      [valid("releve.xlsx")],
    );
    expect(res.status).toBe(303);
    const { files } = await draftBySubject("Retrait");
    expect(files.map((f) => f.original_name).sort()).toEqual(["compte-rendu.doc", "photo.jpg", "radio.png", "releve.xls", "releve.xlsx"]);
  });
});

describe("file names", () => {
  it("an accented name is kept and served under its exact UTF-8 name", async () => {
    const { page } = await draftWith("Nom accentué", [{ path: fixture("valid", "compte-rendu.pdf"), name: "Compte rendu été – Hélène.pdf" }]);
    const link = page(".attached a");
    expect(link.text()).toBe("Compte rendu été – Hélène.pdf");
    const file = await download(s, link.attr("href")!);
    const encoded = /filename\*=UTF-8''(.*)$/.exec(file.headers["content-disposition"])![1]!;
    expect(decodeURIComponent(encoded)).toBe("Compte rendu été – Hélène.pdf");
  });

  async function sendRaw(subject: string, rawFilename: string) {
    const hidden = await newForm();
    const { body, contentType } = rawMultipart({ ...hidden, subject, body: "Corps", action: "draft" }, [
      { rawFilename, content: fs.readFileSync(fixture("valid", "compte-rendu.pdf")) },
    ]);
    const res = await s.agent.post("/ps/conversations").set("Content-Type", contentType).send(body);
    const { files } = await draftBySubject(subject);
    return { res, files };
  }

  it.each([
    ["a path climbing out with ../", "../../../etc/compte-rendu.pdf"],
    ["a Windows path with ..\\", "..\\\\..\\\\windows\\\\compte-rendu.pdf"],
    ["quotes", 'rapport \\"final\\" l\'avis.pdf'],
    ["HTML", "<img src=x onerror=alert(1)>rapport<b>.pdf"],
    ["HTML split by a slash", "<script>alert(2)</script>.pdf"],
    ["leading dots", "...pdf.pdf"],
  ])("a name with %s is stored, listed and served as plain, safe text", async (_what, rawFilename) => {
    const subject = `Nom ${rawFilename}`.slice(0, 150);
    const { res, files } = await sendRaw(subject, rawFilename);
    expect(res.status).toBe(303);
    expect(files).toHaveLength(1);
    const name: string = files[0].original_name;
    expect(name).not.toMatch(/[\\/<>"'`]/);
    expect(name).not.toContain("..");
    expect(name.startsWith(".")).toBe(false);
    expect(name.endsWith(".pdf")).toBe(true);

    const page = $((await s.agent.get(res.headers.location)).text);
    expect(page(".attached img, .attached script").length).toBe(0);
    const link = page(".attached a");
    expect(link.text()).toBe(name);
    const file = await download(s, link.attr("href")!);
    expect(file.status).toBe(200);
    // One quoted ASCII name and one encoded UTF-8 name, nothing that could break out of the header.
    expect(file.headers["content-disposition"]).toMatch(/^attachment; filename="[^"\\\r\n]*"; filename\*=UTF-8''[A-Za-z0-9%._~!$&+-]*$/);
  });
});
