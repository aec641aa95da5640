import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";

type StructNode = { role?: string; children?: StructNode[] };

/**
 * A PDF as a reader gets it, through pdf.js (pdfjs-dist's legacy build, which runs on Node 20): its text page by
 * page, its metadata (title, language), whether it is marked (tagged) and the roles of its structure tree; plus the
 * raw bytes as latin1, to read the object dictionaries (pdfkit writes them uncompressed).
 */
export async function readPdf(bytes: Buffer) {
  const doc = await getDocument({ data: new Uint8Array(bytes), disableFontFace: true, useSystemFonts: false, verbosity: 0 }).promise;
  try {
    const pages: string[] = [];
    const roles: string[] = [];
    const walk = (node: StructNode | null) => {
      if (!node) return;
      if (node.role) roles.push(node.role);
      for (const child of node.children ?? []) walk(child);
    };
    for (let i = 1; i <= doc.numPages; i += 1) {
      const page = await doc.getPage(i);
      const content = await page.getTextContent();
      pages.push(content.items.map((item) => ("str" in item ? `${item.str}${item.hasEOL ? "\n" : ""}` : "")).join(""));
      walk((await page.getStructTree()) as StructNode | null);
    }
    const info = (await doc.getMetadata()).info as unknown as Record<string, unknown>;
    return { pages, text: pages.join("\n"), info, markInfo: await doc.getMarkInfo(), roles, raw: bytes.toString("latin1") };
  } finally {
    await doc.destroy();
  }
}
