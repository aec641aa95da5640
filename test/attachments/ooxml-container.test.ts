import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectKind } from "../../src/domain/attachments/filetype.js";
import { $, bunyel, drGene, fixture, signInPs, startTestApp, type TestApp } from "../helpers/app.js";
import { openCompose, postForm, textOf } from "../helpers/ps.js";

/**
 * Issue 11 §13: a Word or Excel file is a zip; one that is a bomb (an entry of a gibibyte, ten thousand entries, a
 * part compressed a thousand times) is refused by reading its central directory, never by inflating it.
 */
type Part = { name: string; data: Buffer; deflate?: boolean; declaredSize?: number };

/** A zip written entry by entry: local headers, data, central directory, end record (sizes as declared). */
function zip(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const name = Buffer.from(part.name);
    const data = part.deflate ? zlib.deflateRawSync(part.data) : part.data;
    const size = part.declaredSize ?? part.data.length;
    const crc = zlib.crc32(part.data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(part.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(part.deflate ? 8 : 0, 10);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(size, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    chunks.push(local, name, data);
    central.push(entry, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, directory, end]);
}

const contentTypes = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
);
const documentXml = Buffer.from('<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>');
const docx = (...more: Part[]) => zip([{ name: "[Content_Types].xml", data: contentTypes }, { name: "word/document.xml", data: documentXml, deflate: true }, ...more]);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ooxml-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
const onDisk = (name: string, bytes: Buffer) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
};
const detect = async (name: string, bytes: Buffer) => detectKind(onDisk(name, bytes), bytes.length, name);

describe("the container of a Word or Excel file", () => {
  it("a small well-formed document built the same way is a docx (the bombs below differ only by their parts)", async () => {
    expect(await detect("simple.docx", docx())).toEqual({ ok: true, kind: "docx" });
  });

  it("the demo's real Word and Excel files pass", async () => {
    for (const name of ["compte-rendu.docx", "releve.xlsx"]) {
      const file = fixture("valid", name);
      expect((await detectKind(file, fs.statSync(file).size, name)).ok, name).toBe(true);
    }
  });

  it("an entry declared at 1 GiB is refused", async () => {
    expect(await detect("gros.docx", docx({ name: "word/media/image1.png", data: Buffer.alloc(1024), deflate: true, declaredSize: 1024 ** 3 }))).toEqual({
      ok: false,
      reason: "bomb",
    });
  });

  it("ten thousand entries are refused", async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({ name: `word/p${i}.xml`, data: Buffer.from("x") }));
    expect(await detect("parties.docx", docx(...many))).toEqual({ ok: false, reason: "bomb" });
  });

  it("a part compressed a thousand times (50 MB of zeros in a few kilobytes) is refused", async () => {
    expect(await detect("zeros.docx", docx({ name: "word/media/zeros.bin", data: Buffer.alloc(50 * 1024 * 1024), deflate: true }))).toEqual({ ok: false, reason: "bomb" });
  });
});

describe("sending one", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it("is refused with a French message, the text and the other file kept", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const bomb = { path: onDisk("bombe.docx", docx({ name: "word/media/zeros.bin", data: Buffer.alloc(50 * 1024 * 1024), deflate: true })) };
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Compte rendu piégé", body: "Texte gardé", action: "send" }, [
      bomb,
      { path: fixture("valid", "compte-rendu.pdf") },
    ]);
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(textOf(page, "#detail")).toContain("« bombe.docx » a la structure d'une archive piégée");
    expect(page("#subject").val()).toBe("Compte rendu piégé");
    expect(page("#body").text()).toBe("Texte gardé");
    expect(textOf(page, "#detail")).toContain("compte-rendu.pdf");
    expect(await app.db("conversations").where({ subject: "Compte rendu piégé" }).first()).toBeUndefined();
  });
});
