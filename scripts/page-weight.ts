/**
 * Bytes on the wire (gzip, as the app's compression sends them) of a signed-in doctor's first load of
 * /ps/messages: the HTML plus every stylesheet and script it references (htmx included).
 * Usage: npx tsx scripts/page-weight.ts
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { loadConfig } from "../src/config.js";
import { buildRuntime, prepareDatabase } from "../src/runtime.js";

type Fetched = { status: number; headers: http.IncomingHttpHeaders; wire: number; body: string };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-weight-"));
const runtime = buildRuntime(loadConfig({ NODE_ENV: "test", DATA_DIR: dir, SESSION_SECRET: "page-weight-secret-0123456789" }));
await prepareDatabase(runtime.db);
const server = runtime.app.listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const { port } = server.address() as AddressInfo;
let cookie = "";

function get(url: string, init: { method?: string; body?: string } = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: url,
        method: init.method ?? "GET",
        headers: {
          "accept-encoding": "gzip",
          accept: "text/html,*/*",
          ...(cookie ? { cookie } : {}),
          ...(init.body ? { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(init.body) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const raw = Buffer.concat(chunks);
          const setCookie = res.headers["set-cookie"]?.[0];
          if (setCookie) cookie = setCookie.split(";")[0]!;
          const body = res.headers["content-encoding"] === "gzip" ? zlib.gunzipSync(raw) : raw;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, wire: raw.length, body: body.toString("utf8") });
        });
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

try {
  const login = await get("/ps/login");
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)?.[1] ?? "";
  const card = /<option value="(\d+)"[^>]*>Dr Alain GENE /.exec(login.body)?.[1] ?? "";
  const signedIn = await get("/ps/login", { method: "POST", body: new URLSearchParams({ _csrf: csrf, card, pin: "1234" }).toString() });
  if (signedIn.status !== 303) throw new Error(`login failed: ${signedIn.status}`);

  const page = await get("/ps/messages");
  const rows: Array<[string, number, number, string]> = [["/ps/messages", page.wire, Buffer.byteLength(page.body), String(page.headers["content-encoding"] ?? "identity")]];
  const assets = [...page.body.matchAll(/<(?:link rel="stylesheet" href|script src)="([^"]+)"/g)].map((m) => m[1]!);
  for (const url of assets) {
    const res = await get(url);
    rows.push([url, res.wire, Buffer.byteLength(res.body), String(res.headers["content-encoding"] ?? "identity")]);
  }
  for (const [url, wire, plain, enc] of rows) console.log(`${url.padEnd(36)} ${String(wire).padStart(7)} B ${enc.padEnd(8)} (${plain} B uncompressed)`);
  console.log(`${"total first load".padEnd(36)} ${String(rows.reduce((n, r) => n + r[1], 0)).padStart(7)} B (${rows.reduce((n, r) => n + r[2], 0)} B uncompressed)`);
} finally {
  server.close();
  await runtime.db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
}
