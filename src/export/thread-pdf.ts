import fs from "node:fs";
import { createRequire } from "node:module";
import * as fontkit from "fontkit";
import PDFDocument from "pdfkit";
import type { ThreadExport } from "../domain/conversations/export.js";

/**
 * A thread's PDF for the medical record (issue 15 §3), drawn on the server with pdfkit from the domain's export view
 * model (domain/conversations/export.ts): A4, DejaVu Sans embedded (subset) so that every French sign prints as
 * typed (é, œ, « », €, –), and tagged — a structure tree (Document, H1, P, H2, H3 per message, L / LI / LBody per
 * attachment), the document language `fr` and its title shown by the reader — so that a screen reader reads it in
 * order. The page footers and the rules between messages are artifacts, outside the structure.
 */
const require = createRequire(import.meta.url);
type FontProgram = ReturnType<typeof fontkit.create>;
let fonts: { regular: FontProgram; bold: FontProgram } | null = null;
/**
 * The TTF files of the `dejavu-fonts-ttf` package (its LICENSE: Bitstream Vera / public domain), parsed once by fontkit
 * (pdfkit's own font engine) and handed to every document: each draws from the same parsed tables and embeds its own
 * subset. Parsing them again for each export would cost about as much as drawing the whole thread.
 */
function dejaVu() {
  const load = (file: string) => fontkit.create(fs.readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${file}`)));
  fonts ??= { regular: load("DejaVuSans.ttf"), bold: load("DejaVuSans-Bold.ttf") };
  return fonts;
}

const MARGIN = 56;
const GREY = "#4d4d4d";

type Struct = PDFKit.PDFStructureElement;

export async function renderThreadPdf(model: ThreadExport): Promise<Buffer> {
  const doc = new PDFDocument({
    size: "A4",
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    pdfVersion: "1.7",
    tagged: true,
    lang: "fr",
    displayTitle: true,
    bufferPages: true,
    // No default font (pdfkit would load Helvetica's metrics for nothing): DejaVu Sans is set before any text.
    font: "",
    info: { Title: model.title, Subject: "Échange sécurisé entre un professionnel de santé et le service médical", Creator: "Échanges médicaux sécurisés" },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on("end", resolve);
    doc.on("error", reject);
  });
  const { regular, bold } = dejaVu();
  // pdfkit takes a font fontkit has parsed (its typings name only files and bytes).
  doc.registerFont("regular", regular as unknown as Buffer);
  doc.registerFont("bold", bold as unknown as Buffer);
  const width = doc.page.width - 2 * MARGIN;

  const root = doc.struct("Document");
  doc.addStructure(root);
  /** One structure element drawn by `draw`, in the reading order. */
  const block = (parent: Struct, type: string, draw: () => void) => {
    const el = doc.struct(type);
    parent.add(el);
    el.add(draw);
    el.end();
    return el;
  };
  const artifact = (draw: () => void) => {
    doc.markContent("Artifact");
    draw();
    doc.endMarkedContent();
  };
  /** A heading is never left alone at the foot of a page. */
  const keepRoom = (points: number) => {
    if (doc.y + points > doc.page.height - MARGIN) doc.addPage();
  };

  block(root, "H1", () => doc.font("bold").fontSize(15).fillColor("black").text(model.subject, { width }));
  block(root, "P", () => doc.font("regular").fontSize(9).fillColor(GREY).text(`Échange n° ${model.id} — ${model.exported}`, { width }));
  doc.moveDown(0.6);
  for (const line of model.header) {
    block(root, "P", () => {
      doc.font("bold").fontSize(10).fillColor("black").text(`${line.label} : `, { width, continued: true });
      doc.font("regular").text(line.value);
    });
  }
  doc.moveDown(0.8);
  block(root, "H2", () => doc.font("bold").fontSize(12).fillColor("black").text(`Messages (${model.messages.length}), du plus ancien au plus récent`, { width }));

  for (const m of model.messages) {
    keepRoom(60);
    doc.moveDown(0.4);
    artifact(() => {
      doc
        .moveTo(MARGIN, doc.y)
        .lineTo(MARGIN + width, doc.y)
        .lineWidth(0.5)
        .strokeColor("#999999")
        .stroke();
    });
    doc.moveDown(0.4);
    block(root, "H3", () => doc.font("bold").fontSize(10.5).fillColor("black").text(`${m.author} — ${m.date}`, { width }));
    doc.moveDown(0.2);
    block(root, "P", () => doc.font("regular").fontSize(10).fillColor("black").text(m.body, { width, lineGap: 1.5 }));
    if (!m.attachments.length) continue;
    doc.moveDown(0.3);
    block(root, "P", () => doc.font("bold").fontSize(9).text(`Pièces jointes (${m.attachments.length}) :`, { width }));
    const list = doc.struct("L");
    root.add(list);
    for (const a of m.attachments) {
      const item = doc.struct("LI");
      list.add(item);
      block(item, "LBody", () => {
        doc
          .font("bold")
          .fontSize(9)
          .fillColor("black")
          .text(a.name, MARGIN + 12, doc.y, { width: width - 12 });
        doc
          .font("regular")
          .fontSize(8.5)
          .fillColor(GREY)
          .text(`Type : ${a.type} — Taille : ${a.size}`, { width: width - 12 });
        doc.text(`SHA-256 : ${a.sha256}`, { width: width - 12 });
      });
      item.end();
      doc.x = MARGIN;
    }
    list.end();
  }
  root.end();

  // Page n of N at the foot of each page, drawn once the count is known (an artifact: not read as content).
  const pages = doc.bufferedPageRange();
  for (let i = 0; i < pages.count; i += 1) {
    doc.switchToPage(pages.start + i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    artifact(() =>
      doc
        .font("regular")
        .fontSize(8)
        .fillColor(GREY)
        .text(`Échange n° ${model.id} — page ${i + 1} sur ${pages.count}`, MARGIN, doc.page.height - MARGIN / 2 - 4, { width, align: "center", lineBreak: false }),
    );
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  await done;
  return Buffer.concat(chunks);
}
