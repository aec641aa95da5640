import fs from "node:fs/promises";
import CFB from "cfb";
import { fileTypeFromFile } from "file-type";
import { ooxmlContainerProblem } from "./container.js";
import { KINDS, type Kind } from "./rules.js";

export type Detection = { ok: true; kind: Kind } | { ok: false; reason: "empty" | "format" | "zip" | "ole" | "mismatch" | "bomb" };

/** An OLE compound file is a Word 97 document if it holds a WordDocument stream, an Excel 97 workbook if Workbook/Book. */
async function oleKind(filePath: string): Promise<Kind | null> {
  try {
    const container = CFB.read(await fs.readFile(filePath), { type: "buffer" });
    const names = new Set(container.FileIndex.map((entry) => entry.name));
    if (names.has("WordDocument")) return "doc";
    if (names.has("Workbook") || names.has("Book")) return "xls";
  } catch {
    // not a readable compound file
  }
  return null;
}

/** Decides the file's kind from its bytes, then checks that its name claims the same kind. */
export async function detectKind(filePath: string, size: number, originalName: string): Promise<Detection> {
  if (size === 0) return { ok: false, reason: "empty" };
  const found = await fileTypeFromFile(filePath);
  let kind: Kind | null = null;
  if (found?.ext === "cfb") {
    kind = await oleKind(filePath);
    if (!kind) return { ok: false, reason: "ole" };
  } else if (found && found.ext in KINDS) {
    kind = found.ext as Kind;
  } else if (found?.ext === "zip" || found?.mime.startsWith("application/vnd.oasis") || found?.ext === "pptx") {
    return { ok: false, reason: "zip" };
  }
  if (!kind) return { ok: false, reason: "format" };
  // A Word / Excel zip: its directory must be a document's, not a bomb's (read, never inflated).
  if ((kind === "docx" || kind === "xlsx") && (await ooxmlContainerProblem(filePath))) return { ok: false, reason: "bomb" };
  const extension = originalName.toLowerCase().split(".").pop() ?? "";
  if (!(KINDS[kind].extensions as readonly string[]).includes(extension)) return { ok: false, reason: "mismatch" };
  return { ok: true, kind };
}
