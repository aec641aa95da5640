import { expect, it } from "vitest";
import { conformityState, footerLabel, RGAA_AUDIT } from "../../src/domain/site/accessibility.js";

it("without a full RGAA audit the service is « non conforme », whatever the automated tools found", () => {
  expect(RGAA_AUDIT).toBeNull();
  expect(conformityState(null)).toBe("non conforme");
  expect(footerLabel()).toBe("Accessibilité : non conforme");
});

it("an RGAA audit's rate decides: under 50 % non conforme, from 50 % partiellement, 100 % totalement", () => {
  const audit = (rate: number) => ({ date: "2027-06-01", auditor: "Auditeur", rate });
  expect(conformityState(audit(49.9))).toBe("non conforme");
  expect(conformityState(audit(50))).toBe("partiellement conforme");
  expect(conformityState(audit(99))).toBe("partiellement conforme");
  expect(conformityState(audit(100))).toBe("totalement conforme");
});
