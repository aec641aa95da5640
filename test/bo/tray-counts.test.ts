import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, signInAgent, startTestApp, type Session, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

/** Each heading of the list column with the rows listed under it (up to the next heading). */
type Section = { heading: string; rows: number; more: string | null };
async function sections(s: Session, url: string): Promise<Section[]> {
  const page = $((await s.agent.get(url)).text);
  return page("#list h2")
    .map((_, h) => {
      const heading = page(h).text().replace(/\s+/g, " ").trim();
      const rows = page(h).nextUntil("h2", "ul").find(".item").length;
      const more =
        page(h)
          .nextUntil("h2", ".pager")
          .find("a")
          .filter((_, a) => /plus anciens|plus anciennes/.test(page(a).text()))
          .attr("href") ?? null;
      return { heading, rows, more };
    })
    .get();
}
const countIn = (heading: string) => Number(/\((\d+)\)$/.exec(heading)?.[1]);

describe("tray counts equal what the tray shows", () => {
  it("every heading's number is the number of rows under it, on every tray (drafts counted under their own heading)", async () => {
    const anna = await signInAgent(app, annaAin);
    for (const slug of ["a-traiter", "en-cours", "clos"]) {
      const found = await sections(anna, `/bo/bannettes/${slug}`);
      for (const section of found) expect(section.rows, `${slug}: ${section.heading}`).toBe(countIn(section.heading));
    }
    const enCours = await sections(anna, "/bo/bannettes/en-cours");
    expect(enCours.map((x) => x.heading)).toEqual(["Questions en brouillon (1)", expect.stringMatching(/^EN COURS \(\d+\)$/)]);
    // The tab announces the tray itself, as its own heading does (the tab adds its unread threads, if any).
    const tab = $((await anna.agent.get("/bo/bannettes/en-cours")).text)('nav .tabs a[aria-current="page"]')
      .text()
      .replace(/\s+/g, " ")
      .trim();
    expect(/^EN COURS \((\d+)[ )]/.exec(tab)?.[1]).toBe(String(countIn(enCours[1]!.heading)));
  });

  it("past one page of drafts, the drafts' pager lists the rest: the rows across pages add up to the count", async () => {
    const anna = await signInAgent(app, annaAin);
    const elsm = await app.db("elsms").where({ code: "ELSM 011" }).first("id");
    const agent = await app.db("agents").where({ last_name: "AIN" }).first("id");
    const base = Date.parse("2026-01-01T00:00:00.000Z");
    await app.db("drafts").insert(
      Array.from({ length: 25 }, (_, i) => {
        const at = new Date(base + i * 60_000).toISOString();
        return { side: "elsm", author_agent_id: agent.id, elsm_id: elsm.id, subject: `Brouillon ${i}`, body: "", created_at: at, updated_at: at };
      }),
    );
    let url: string | null = "/bo/bannettes/en-cours";
    let listed = 0;
    let announced = 0;
    for (let pages = 0; url && pages < 5; pages++) {
      const [drafts]: Section[] = (await sections(anna, url)).filter((x) => x.heading.startsWith("Questions en brouillon"));
      announced = countIn(drafts!.heading);
      listed += drafts!.rows;
      url = drafts!.more;
    }
    expect(announced).toBe(26);
    expect(listed).toBe(26);
  });
});
