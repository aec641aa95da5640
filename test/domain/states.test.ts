import { describe, expect, it } from "vitest";
import { CLOSED_FOR_ELSM, TRAYS, TRAY_LABELS, canWrite, isClosed, otherSide, sideOf, stateAfterMessage, trayBySlug } from "../../src/domain/conversations/states.js";

describe("the life of a conversation", () => {
  it("a doctor's message puts the thread in A TRAITER, an échelon's message in EN COURS", () => {
    expect(stateAfterMessage("ps")).toBe("a_traiter");
    expect(stateAfterMessage("elsm")).toBe("en_cours");
  });

  it("the échelon can no longer write in a closed thread, but can in an open one", () => {
    expect(canWrite("elsm", "clos")).toBe(false);
    expect(canWrite("elsm", "a_traiter")).toBe(true);
    expect(canWrite("elsm", "en_cours")).toBe(true);
    expect(CLOSED_FOR_ELSM).toMatch(/close/);
  });

  it("the doctor's side can always write, even in a closed thread", () => {
    expect(canWrite("ps", "clos")).toBe(true);
    expect(canWrite("ps", "a_traiter")).toBe(true);
    expect(canWrite("ps", "en_cours")).toBe(true);
  });

  it("only CLOS is closed", () => {
    expect(isClosed("clos")).toBe(true);
    expect(isClosed("a_traiter")).toBe(false);
    expect(isClosed("en_cours")).toBe(false);
  });

  it("a doctor writes from the PS side, an agent from the ELSM side", () => {
    expect(sideOf({ kind: "ps", practitionerId: 1, structureId: null, displayName: "Dr A" })).toBe("ps");
    expect(sideOf({ kind: "agent", agentId: 1, elsmId: 1, displayName: "A" })).toBe("elsm");
    expect(otherSide("ps")).toBe("elsm");
    expect(otherSide("elsm")).toBe("ps");
  });

  it("the three trays are A TRAITER, EN COURS and CLOS, in that order", () => {
    expect(TRAYS.map((t) => t.label)).toEqual(["A TRAITER", "EN COURS", "CLOS"]);
    expect(TRAY_LABELS).toEqual({ a_traiter: "A TRAITER", en_cours: "EN COURS", clos: "CLOS" });
  });

  it("a tray is found by its URL slug", () => {
    expect(trayBySlug("a-traiter")?.key).toBe("a_traiter");
    expect(trayBySlug("en-cours")?.key).toBe("en_cours");
    expect(trayBySlug("clos")?.key).toBe("clos");
  });

  it("anything but an exact slug is no tray (a 404)", () => {
    for (const slug of ["a_traiter", "A-TRAITER", "", " clos", "clos/", "constructor", "toString"]) expect(trayBySlug(slug)).toBeNull();
  });
});
