import automatedAudit from "./accessibility-audit.json" with { type: "json" };

/** What one state of the sweep measured, with JavaScript or without: the axe-core rules violated, the sweep's other failed checks. */
export type StateResult = { axe: string[]; problems: number };

/**
 * The record of the automated audit (test/browser/a11y-sweep.test.ts): written by the sweep when A11Y_AUDIT_WRITE=1,
 * and otherwise compared with what the sweep measured (the sweep fails on any difference), so the statement's
 * figures are the code's.
 */
export type AutomatedAudit = {
  date: string;
  tools: { axeCore: string; axeTags: string[]; browser: string; playwrightCore: string };
  /** The Nu HTML Checker (vnu-jar) over every state of the run: documents checked, errors found. */
  html: { checker: string; documents: number; errors: number };
  pages: { page: string; paths: string[]; states: { state: string; js: StateResult | null; noJs: StateResult | null }[] }[];
};

/** A full RGAA audit: every criterion checked on a sample of pages by an auditor. None has been made yet. */
export type RgaaAudit = { date: string; auditor: string; rate: number };
export const RGAA_AUDIT: RgaaAudit | null = null;

export type ConformityState = "totalement conforme" | "partiellement conforme" | "non conforme";

/**
 * The state a statement may claim (RGAA 4.1, obligations): only a full RGAA audit gives a rate; without one the
 * service is « non conforme », whatever automated tools found. 100 % → totalement, at least 50 % → partiellement.
 */
export function conformityState(audit: RgaaAudit | null): ConformityState {
  if (!audit) return "non conforme";
  if (audit.rate >= 100) return "totalement conforme";
  if (audit.rate >= 50) return "partiellement conforme";
  return "non conforme";
}

/** The footer's words: « Accessibilité : non conforme ». */
export function footerLabel(audit: RgaaAudit | null = RGAA_AUDIT): string {
  return `Accessibilité : ${conformityState(audit)}`;
}

/** Non-conformities known without an audit, with the RGAA 4.1 criteria they fail (an item leaves the list when it is fixed). */
export const KNOWN_NON_CONFORMITIES: { criteria: string[]; text: string }[] = [
  {
    criteria: ["10.1"],
    text: "Les noms des bannettes (A TRAITER, EN COURS, CLOS) et le nom du service dans le bandeau sont écrits en majuscules dans le code, et non par la feuille de styles : certains lecteurs d'écran peuvent les épeler.",
  },
];

/** The figures of the automated audit, as the statement shows them. */
export function automatedFigures(audit: AutomatedAudit) {
  const states = audit.pages.flatMap((p) => p.states);
  const runs = states.flatMap((s) => [s.js, s.noJs]).filter((r): r is StateResult => r !== null);
  const clean = runs.filter((r) => r.axe.length === 0 && r.problems === 0).length;
  const rules = [...new Set(runs.flatMap((r) => r.axe))].sort();
  return {
    date: audit.date,
    dateLabel: new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeZone: "UTC" }).format(new Date(`${audit.date}T00:00:00Z`)),
    tools: audit.tools,
    html: audit.html,
    pageCount: audit.pages.length,
    stateCount: states.length,
    withJs: states.filter((s) => s.js).length,
    withoutJs: states.filter((s) => s.noJs).length,
    runCount: runs.length,
    cleanRuns: clean,
    /** Share of the analysed states (each with and without JavaScript) where no automated check failed. */
    cleanRate: runs.length ? Math.floor((clean / runs.length) * 100) : 0,
    violationCount: runs.reduce((n, r) => n + r.axe.length, 0),
    problemCount: runs.reduce((n, r) => n + r.problems, 0),
    rules,
    pages: audit.pages.map((p) => ({ page: p.page, paths: p.paths, stateCount: p.states.length })),
  };
}

export const AUTOMATED_AUDIT = automatedAudit as AutomatedAudit;

/** Everything the statement page shows: the state from the RGAA audit (none), the figures from the automated one. */
export function accessibilityStatement(automated: AutomatedAudit = AUTOMATED_AUDIT, rgaa: RgaaAudit | null = RGAA_AUDIT) {
  return {
    state: conformityState(rgaa),
    rgaa,
    automated: automatedFigures(automated),
    knownNonConformities: KNOWN_NON_CONFORMITIES,
    contactEmail: ACCESSIBILITY_EMAIL,
  };
}

export const ACCESSIBILITY_EMAIL = "accessibilite@echanges.example";
