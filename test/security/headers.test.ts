import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drGene, signInPs, startTestApp, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const REQUIRED_CSP = ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"];

describe("response headers", () => {
  it("every page carries the strict Content-Security-Policy and nothing looser", async () => {
    for (const url of ["/", "/ps/login", "/bo/login", "/accessibilite", "/page-inexistante"]) {
      const csp = (await request(app.app).get(url)).headers["content-security-policy"] as string;
      const directives = csp
        .split(";")
        .map((d) => d.trim())
        .filter(Boolean);
      expect(directives.sort(), url).toEqual([...REQUIRED_CSP].sort());
      expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    }
  });

  it("pages with health data are never cached; static assets are, under hashed names", async () => {
    const s = await signInPs(app, drGene);
    const list = await s.agent.get("/ps/messages");
    expect(list.headers["cache-control"]).toBe("no-store");
    expect(list.headers["x-content-type-options"]).toBe("nosniff");
    expect(list.headers["x-frame-options"]).toBe("SAMEORIGIN");
    expect(list.headers.vary).toMatch(/HX-Request/);
    const css = /href="(\/assets\/app\.[0-9a-f]{10}\.css)"/.exec(list.text)![1]!;
    const asset = await request(app.app).get(css);
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
  });

  it("responses are compressed", async () => {
    const res = await request(app.app).get("/ps/login").set("Accept-Encoding", "gzip");
    expect(res.headers["content-encoding"]).toBe("gzip");
  });

  it("the views hold no inline script, style attribute or hx-on handler", async () => {
    const fs = await import("node:fs");
    const path = await import("node:path");
    const walk = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const file of walk("views")) {
      const text = fs.readFileSync(file, "utf8");
      expect(text, file).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(text, file).not.toMatch(/\sstyle=|<style|\shx-on[:-]|\son[a-z]+=/);
    }
  });
});
