import { describe, expect, it } from "vitest";
import { acrSufficient, rppsOf } from "../../src/domain/auth/psc.js";

describe("Pro Santé Connect's authentication level (acr) is compared by rank", () => {
  it("eidas1, eidas2 and eidas3 are enough; below, absent or unknown is not", () => {
    expect(["eidas1", "eidas2", "eidas3"].map(acrSufficient)).toEqual([true, true, true]);
    expect(["eidas0", "", "EIDAS3", "eidas10", undefined, 3].map(acrSufficient)).toEqual([false, false, false, false, false, false]);
  });
});

describe("the RPPS of a PSC userinfo", () => {
  it("is SubjectNameID without its leading 8 (the IDNPS of an RPPS professional)", () => {
    expect(rppsOf({ SubjectNameID: "810000000011" })).toBe("10000000011");
  });

  it("is not found in a 0 + ADELI IDNPS, nor in a malformed one", () => {
    expect(rppsOf({ SubjectNameID: "0019999999" })).toBeNull();
    expect(rppsOf({ SubjectNameID: "81000000001" })).toBeNull();
    expect(rppsOf({ SubjectNameID: "8100000000111" })).toBeNull();
    expect(rppsOf({})).toBeNull();
  });

  it("falls back on otherIds: a bare RPPS, an IDNPS, or an object naming it", () => {
    expect(rppsOf({ SubjectNameID: "0381234567", otherIds: ["10000000029"] })).toBe("10000000029");
    expect(rppsOf({ SubjectNameID: "0381234567", otherIds: ["810000000029"] })).toBe("10000000029");
    expect(rppsOf({ SubjectNameID: "0381234567", otherIds: [{ identifiant: "10000000029", origine: "RPPS" }] })).toBe("10000000029");
    expect(rppsOf({ SubjectNameID: "0381234567", otherIds: [{ identifiant: "0381234567" }, null, 42] })).toBeNull();
  });
});
