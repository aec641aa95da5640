import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

/** The Nu HTML Checker (vnu-jar, the W3C validator run offline with the system's Java) over many documents at once. */
const jar = path.join(path.dirname(createRequire(import.meta.url).resolve("vnu-jar/package.json")), "build", "dist", "vnu.jar");

export type HtmlDocument = { name: string; html: string };
export type HtmlError = { document: string; line?: number; message: string; extract?: string };

/** Validates every document in one Java run; returns the errors (warnings and info messages are not errors). */
export async function validateHtml(documents: HtmlDocument[]): Promise<HtmlError[]> {
  if (documents.length === 0) return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnu-"));
  try {
    const files = documents.map((d, i) => {
      const file = path.join(dir, `${String(i).padStart(4, "0")}.html`);
      fs.writeFileSync(file, d.html);
      return file;
    });
    const output = await new Promise<string>((resolve, reject) => {
      // Exit status 1 when a document has an error: the JSON on stderr says which.
      execFile("java", ["-jar", jar, "--format", "json", "--errors-only", ...files], { maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
        if (err && !stderr.trim().startsWith("{")) reject(err);
        else resolve(stderr);
      });
    });
    const { messages } = JSON.parse(output) as { messages: { type: string; url?: string; lastLine?: number; message: string; extract?: string }[] };
    return messages
      .filter((m) => m.type === "error" || m.type === "non-document-error")
      .map((m) => {
        const index = files.findIndex((f) => m.url?.endsWith(path.basename(f)));
        return { document: documents[index]?.name ?? m.url ?? "?", line: m.lastLine, message: m.message, extract: m.extract };
      });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
