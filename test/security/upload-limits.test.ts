import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cookieOf, listenTestApp } from "../helpers/listen.js";
import { REQUEST_MAX_BYTES } from "../../src/domain/attachments/rules.js";
import {
  $,
  annaAin,
  bunyel,
  drGene,
  drMezin,
  solana,
  fixture,
  hiddenFields,
  selectPatient,
  signInAgent,
  signInPs,
  startTestApp,
  type Session,
  type TestApp,
} from "../helpers/app.js";

/**
 * Issue 11, items 4 and 7: multipart bodies are read only on the routes that take files, after the session and
 * the CSRF token; reading stops at the limits, and a refused post gets its form back with the typed text.
 * These talk to a listening server over real sockets: what matters is how much the server reads.
 */
let app: TestApp;
let listening: Awaited<ReturnType<typeof listenTestApp>>;
let port: number;
let gene: Session;

beforeAll(async () => {
  app = await startTestApp({ UPLOAD_TEMP_PER_USER_MB: "60", BODY_RATE_WINDOW_SECONDS: "1", HEADERS_TIMEOUT_SECONDS: "2" });
  listening = await listenTestApp(app);
  port = listening.port;
  gene = await signInPs(app, drGene);
  await selectPatient(gene, bunyel);
});
afterAll(async () => {
  await listening.close();
  await app.close();
});

const tmpFiles = () => fs.readdirSync(path.join(app.config.storageDir, "tmp"));
/** The temporary folder once the server has settled (files are removed asynchronously after the answer). */
async function settledTmp(): Promise<string[]> {
  for (let i = 0; i < 50 && tmpFiles().length > 0; i += 1) await new Promise((r) => setTimeout(r, 100));
  return tmpFiles();
}
beforeEach(async () => {
  // What an earlier test's stopped upload left is gone within a few seconds (its connection closed).
  expect(await settledTmp()).toEqual([]);
});
const BOUNDARY = "----emsBoundary7MA4YWxkTrZu0gW";

type Part = { name: string; value: string } | { name: string; filename: string; bytes: number; header?: string };

/**
 * Posts a multipart body over a real socket, writing file bytes as the socket drains (as a browser does), and
 * stops writing as soon as the answer arrives. `sent`: the body bytes written when the answer came.
 */
function rawPost(urlPath: string, parts: Part[], options: { cookie?: string; declaredLength?: number; chunked?: boolean } = {}) {
  const pieces: (Buffer | number)[] = [];
  for (const p of parts) {
    if ("value" in p) pieces.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`));
    else {
      pieces.push(
        Buffer.from(
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"${p.header ?? ""}\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n`,
        ),
      );
      pieces.push(p.bytes);
      pieces.push(Buffer.from("\r\n"));
    }
  }
  pieces.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  const total = pieces.reduce<number>((n, p) => n + (typeof p === "number" ? p : p.length), 0);
  return new Promise<{ status: number; location?: string; text: string; sent: number; total: number }>((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const headers: Record<string, string | number> = { "Content-Type": `multipart/form-data; boundary=${BOUNDARY}`, "Sec-Fetch-Site": "same-origin" };
    if (options.cookie) headers.Cookie = options.cookie;
    if (!options.chunked) headers["Content-Length"] = options.declaredLength ?? total;
    const req = http.request({ host: "127.0.0.1", port, path: urlPath, method: "POST", headers });
    req.on("response", (res) => {
      answered = true;
      const sentAtAnswer = sent;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        text += c;
      });
      const answer = () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, text, sent: sentAtAnswer, total });
      res.on("end", answer);
      res.on("error", answer);
    });
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let i = 0;
    let left = -1;
    const pump = () => {
      while (!answered && i < pieces.length) {
        const piece = pieces[i]!;
        if (typeof piece !== "number") {
          i += 1;
          sent += piece.length;
          if (!req.write(piece)) return void req.once("drain", pump);
          continue;
        }
        if (left < 0) left = piece;
        if (left === 0) {
          i += 1;
          left = -1;
          continue;
        }
        const n = Math.min(chunk.length, left);
        left -= n;
        sent += n;
        if (!req.write(chunk.subarray(0, n))) return void req.once("drain", pump);
      }
      if (!answered && i >= pieces.length) req.end();
    };
    pump();
  });
}

async function formFields(s: Session) {
  return hiddenFields((await s.agent.get("/ps/conversations/new")).text);
}

function fieldParts(fields: Record<string, string>): Part[] {
  return Object.entries(fields).map(([name, value]) => ({ name, value }));
}

const MB = 1024 * 1024;

describe("who may make the server read a file (item 4)", () => {
  it("an anonymous upload to the login page is refused without being read or written", async () => {
    const res = await rawPost("/ps/login", [
      { name: "card", value: "1" },
      { name: "attachments", filename: "a.pdf", bytes: 40 * MB },
    ]);
    expect(res.status).toBe(403);
    expect(res.sent).toBeLessThan(10 * MB);
    expect(tmpFiles()).toEqual([]);
  });

  it("an anonymous upload to a compose route is sent to log in, its files neither read to the end nor written", async () => {
    const res = await rawPost("/ps/conversations", [
      { name: "subject", value: "x" },
      { name: "attachments", filename: "a.pdf", bytes: 40 * MB },
    ]);
    expect(res.status).toBe(303);
    expect(res.location).toBe("/ps/login");
    expect(res.sent).toBeLessThan(10 * MB);
    expect(tmpFiles()).toEqual([]);
  });

  it("a signed-in upload without the form's CSRF token is refused at its first file part, nothing written", async () => {
    const res = await rawPost(
      "/ps/conversations",
      [
        { name: "_csrf", value: "forged" },
        { name: "attachments", filename: "a.pdf", bytes: 40 * MB },
      ],
      { cookie: cookieOf(gene) },
    );
    expect(res.status).toBe(403);
    expect(res.sent).toBeLessThan(10 * MB);
    expect(tmpFiles()).toEqual([]);
  });

  it("a 300 MB part is not read past its first 10 MB: the form comes back with the text, the limit said", async () => {
    const fields = await formFields(gene);
    const before = await app.db("drafts").count<{ n: number }[]>({ n: "*" });
    const res = await rawPost(
      "/ps/conversations",
      [...fieldParts({ ...fields, subject: "Objet gardé", body: "Texte gardé" }), { name: "attachments", filename: "enorme.pdf", bytes: 300 * MB }],
      { cookie: cookieOf(gene) },
    );
    expect(res.status).toBe(413);
    expect(res.sent).toBeLessThan(20 * MB);
    const page = $(res.text);
    expect(page("#subject").val()).toBe("Objet gardé");
    expect(page("#body").text()).toBe("Texte gardé");
    expect(page("#attachments-error").text()).toContain("L'envoi dépasse 51 Mo au total");
    expect(await app.db("drafts").count<{ n: number }[]>({ n: "*" })).toEqual(before);
  });

  it("a request of unknown length is not read past 5 × 10 MB + the form", async () => {
    const fields = await formFields(gene);
    const files: Part[] = Array.from({ length: 7 }, (_, i) => ({ name: "attachments", filename: `f${i}.pdf`, bytes: 9 * MB }));
    const res = await rawPost("/ps/conversations", [...fieldParts({ ...fields, subject: "Sept fichiers", body: "b" }), ...files], { cookie: cookieOf(gene), chunked: true });
    expect(res.status).toBe(413);
    expect(res.sent).toBeLessThan(REQUEST_MAX_BYTES + 8 * MB);
    expect(res.sent).toBeLessThan(res.total);
    expect($(res.text)("#subject").val()).toBe("Sept fichiers");
  });

  it("one user's uploads in progress share a capped temporary space; another user is not held up", async () => {
    // UPLOAD_TEMP_PER_USER_MB=60 here: an upload of 4 × 9 MB kept open, then a second of 3 × 9 MB from the same doctor.
    const fields = await formFields(gene);
    const cookie = cookieOf(gene);
    const held = http.request({
      host: "127.0.0.1",
      port,
      path: "/ps/conversations",
      method: "POST",
      headers: { "Content-Type": `multipart/form-data; boundary=${BOUNDARY}`, "Content-Length": 50 * MB, Cookie: cookie },
    });
    held.on("error", () => undefined);
    held.write(
      Buffer.from(
        fieldParts(fields)
          .map((p) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n${(p as { value: string }).value}\r\n`)
          .join(""),
      ),
    );
    for (let i = 0; i < 4; i += 1) {
      held.write(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="lent${i}.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n`));
      held.write(Buffer.alloc(9 * MB, 0x41));
      held.write("\r\n");
    }
    for (let i = 0; i < 50 && tmpFiles().length < 4; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(tmpFiles().length).toBe(4);
    const second = await rawPost(
      "/ps/conversations",
      [...fieldParts({ ...fields, subject: "Deuxième envoi", body: "b" }), ...[0, 1, 2].map((i): Part => ({ name: "attachments", filename: `b${i}.pdf`, bytes: 9 * MB }))],
      { cookie },
    );
    expect(second.status).toBe(429);
    expect($(second.text)("#attachments-error").text()).toContain("Vos autres envois en cours");
    expect($(second.text)("#subject").val()).toBe("Deuxième envoi");
    // Another doctor at the same time is not concerned.
    const mezin = await signInPs(app, drMezin);
    await selectPatient(mezin, solana);
    const other = await rawPost(
      "/ps/conversations",
      [
        ...fieldParts({ ...(await formFields(mezin)), subject: "Autre", body: "b", action: "draft" }),
        ...[0, 1, 2].map((i): Part => ({ name: "attachments", filename: `c${i}.pdf`, bytes: 9 * MB })),
      ],
      { cookie: cookieOf(mezin) },
    );
    expect(other.status).toBe(303);
    const draft = await app.db("drafts").where({ subject: "Autre" }).first("id");
    expect(await app.db("attachments").where({ draft_id: draft.id }).pluck("original_name")).toEqual(["c0.pdf", "c1.pdf", "c2.pdf"]);
    held.destroy();
  });
});

describe("slow clients (item 4)", () => {
  it("a body trickling one byte at a time is cut after the rate window", async () => {
    const started = Date.now();
    const closed = await new Promise<number>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.write(`POST /ps/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n`);
        const t = setInterval(() => socket.write("a"), 300);
        socket.on("close", () => {
          clearInterval(t);
          resolve(Date.now() - started);
        });
      });
      socket.on("error", () => undefined);
    });
    expect(closed).toBeLessThan(6000);
  });

  it("headers trickling in are answered 408 and closed after HEADERS_TIMEOUT_SECONDS", async () => {
    const started = Date.now();
    const { text, ms } = await new Promise<{ text: string; ms: number }>((resolve) => {
      let text = "";
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.write("GET / HTTP/1.1\r\nHost: x\r\n");
        const t = setInterval(() => socket.write("X-Slow: a\r\n"), 500);
        socket.on("data", (d) => {
          text += d;
        });
        socket.on("close", () => {
          clearInterval(t);
          resolve({ text, ms: Date.now() - started });
        });
      });
      socket.on("error", () => undefined);
    });
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeLessThan(8000);
  });
});

describe("refusals keep the text (item 7)", () => {
  it("21 files: the text and the first 5 valid files kept in a draft, the others refused by name with the limit", async () => {
    const form = await gene.agent.get("/ps/conversations/new");
    let req = gene.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject: "Vingt et un fichiers", body: "Texte des 21", action: "send" });
    for (let i = 0; i < 21; i += 1) req = req.attach("attachments", fs.readFileSync(fixture("valid", "radio.png")), { filename: `image-${i + 1}.png` });
    const res = await req;
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page("#subject").val()).toBe("Vingt et un fichiers");
    expect(page("#body").text()).toBe("Texte des 21");
    const refused = page("#attachments-error li")
      .map((_, li) => page(li).text())
      .get();
    expect(refused).toHaveLength(16);
    expect(refused.every((t) => t.includes("5 pièces jointes au maximum par message"))).toBe(true);
    expect(refused[15]).toContain("image-21.png");
    const draft = await app.db("drafts").where({ subject: "Vingt et un fichiers" }).first("id");
    expect(await app.db("attachments").where({ draft_id: draft.id }).pluck("id")).toHaveLength(5);
    expect(await settledTmp()).toEqual([]);
  });

  it("a message field over 256 KB: 413, the form back with what was received of it and the limits", async () => {
    const form = await gene.agent.get("/ps/conversations/new");
    const before = await app.db("drafts").count<{ n: number }[]>({ n: "*" });
    const body = "é".repeat(200_000);
    const res = await gene.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject: "Champ énorme", body, action: "send" });
    expect(res.status).toBe(413);
    const page = $(res.text);
    expect(page("#subject").val()).toBe("Champ énorme");
    const kept = page("#body").text();
    expect(kept.length).toBeGreaterThan(100_000);
    expect(body.startsWith(kept)).toBe(true);
    expect(page("#body-error").text()).toContain("dépasse 256 Ko");
    expect(page("#body-error").text()).toContain("20000 caractères au plus");
    expect(await app.db("drafts").count<{ n: number }[]>({ n: "*" })).toEqual(before);
  });

  it("the échelon's reply and question alike: a field over 256 KB comes back with what was received, nothing written", async () => {
    const anna = await signInAgent(app, annaAin);
    const { elsm_id } = await app.db("agents").where({ last_name: "AIN" }).first("elsm_id");
    const thread = await app.db("conversations").where({ elsm_id }).whereNot({ state: "clos" }).first("id");
    const before = await app.db("messages").count<{ n: number }[]>({ n: "*" });
    const replyForm = await anna.agent.get(`/bo/conversations/${thread.id}/reply`);
    const reply = await anna.agent.post(`/bo/conversations/${thread.id}/messages`).field({ ...hiddenFields(replyForm.text), body: "r".repeat(300_000), action: "send" });
    expect(reply.status).toBe(413);
    expect($(reply.text)("#body").text().length).toBeGreaterThan(200_000);
    expect($(reply.text)("#body-error").text()).toContain("dépasse 256 Ko");
    const questionForm = await anna.agent.get("/bo/conversations/new");
    const question = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(questionForm.text), destinataire: "991101197", subject: "q".repeat(300_000), body: "Corps", action: "send" });
    expect(question.status).toBe(413);
    expect($(question.text)("#destinataire").val()).toBe("991101197");
    expect($(question.text)("#subject-error").text()).toContain("L'objet envoyé dépasse 256 Ko");
    expect(await app.db("messages").count<{ n: number }[]>({ n: "*" })).toEqual(before);
  });

  it("a 100 KB part header: 400, the form back with the text, the limit said", async () => {
    const fields = await formFields(gene);
    const res = await rawPost(
      "/ps/conversations",
      [
        ...fieldParts({ ...fields, subject: "En-tête énorme", body: "Texte avant" }),
        { name: "attachments", filename: "a.pdf", bytes: 10, header: `; x="${"h".repeat(100 * 1024)}"` },
      ],
      { cookie: cookieOf(gene) },
    );
    expect(res.status).toBe(400);
    const page = $(res.text);
    expect(page("#subject").val()).toBe("En-tête énorme");
    expect(page("#body").text()).toBe("Texte avant");
    expect(page("#attachments-error").text()).toContain("dépasse 16 Ko");
  });

  it("a draft over 20,000 characters is never cut: nothing saved, the whole text and the valid file back", async () => {
    const form = await gene.agent.get("/ps/conversations/new");
    const body = "m".repeat(25_000);
    const res = await gene.agent
      .post("/ps/conversations")
      .field({ ...hiddenFields(form.text), subject: "Brouillon trop long", body, action: "draft" })
      .attach("attachments", fixture("valid", "radio.png"));
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page("#body").text()).toBe(body);
    expect(page("#body-error").text()).toContain("ne peut pas dépasser 20000 caractères (25000 saisis)");
    expect(page(".notice, [role=status], .flash").text() + res.text).toContain("Rien n'a été enregistré");
    expect(await app.db("drafts").where({ subject: "Brouillon trop long" }).first()).toBeUndefined();
    // The valid file is held by the form: the next post, shortened, keeps it.
    const again = await gene.agent.post("/ps/conversations").field({ ...hiddenFields(res.text), subject: "Brouillon trop long", body: body.slice(0, 20_000), action: "draft" });
    expect(again.status).toBe(303);
    const draft = await app.db("drafts").where({ subject: "Brouillon trop long" }).first("id", "body");
    expect(draft.body).toHaveLength(20_000);
    expect(await app.db("attachments").where({ draft_id: draft.id }).pluck("original_name")).toEqual(["radio.png"]);
  });
});
