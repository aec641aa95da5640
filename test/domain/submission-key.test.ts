import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { agentActor, conversationById, count, ctx, form, nam, newKey, nir, patient, psActor, seededDomain, type DomainFixture } from "./helpers.js";

/** Issue 11 §8: a submission key is unique per author, not across the database; the migration rolls back. */
let f: DomainFixture;
beforeAll(async () => {
  f = await seededDomain();
});
afterAll(async () => {
  await f?.close();
});

const MIGRATION = "20261202020000_submission_key_per_author";

async function thread(patientNir: string, subject: string) {
  const gene = await psActor(f.db, nam.gene);
  const o = await submitCompose(f.deps, ctx(gene), { kind: "ps-new", patient: await patient(f.db, patientNir) }, form({ subject, body: "Question" }));
  if (o.status !== "sent") throw new Error("not sent");
  return conversationById(f.db, o.conversationId);
}

describe("the submission key of a message", () => {
  it("may be held by two authors; the migration's rollback keeps it on the oldest message only, and up again scopes it per author", async () => {
    const anna = await agentActor(f.db, "AIN");
    const paul = await agentActor(f.db, "HERAULT");
    const key = newKey();
    const ain = await thread(nir.bunyel.nir, "Clé partagée, Ain");
    const herault = await thread(nir.arnaud.nir, "Clé partagée, Hérault");
    expect((await submitCompose(f.deps, ctx(anna), { kind: "reply", conversation: ain }, form({ body: "Ain", submissionKey: key }))).status).toBe("sent");
    expect((await submitCompose(f.deps, ctx(paul), { kind: "reply", conversation: herault }, form({ body: "Hérault", submissionKey: key }))).status).toBe("sent");
    expect(await count(f.db, "messages", { submission_key: key })).toBe(2);

    await f.db.migrate.down({ name: MIGRATION });
    expect(await f.db("messages").where({ submission_key: key }).pluck("body")).toEqual(["Ain"]);
    expect(await count(f.db, "messages", { conversation_id: herault.id, side: "elsm" })).toBe(1);
    await f.db.migrate.up({ name: MIGRATION });

    // Per author: the same agent cannot hold one key twice (a double post delivers once).
    const row = await f.db("messages").where({ submission_key: key }).first();
    const { id: _id, ...copy } = row;
    await expect(f.db("messages").insert(copy)).rejects.toThrow();
    await expect(f.db("messages").insert({ ...copy, author_agent_id: paul.agentId })).resolves.toBeDefined();
  });
});
