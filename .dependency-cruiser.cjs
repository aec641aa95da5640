// dependency-cruiser 17.x configuration.
// .cjs on purpose: package.json has "type": "module", so a plain .js file would
// be loaded as ESM; dependency-cruiser auto-detects .dependency-cruiser.cjs.
//
// Parsing: TypeScript 7 has no compiler API (dependency-cruiser 17 accepts
// typescript >=2 <7 only), so the project's .ts files are parsed with
// @swc/core 1.x (`parser: "swc"`). Without a usable parser dependency-cruiser
// cruises 0 modules and reports no errors, which is why scripts/check-deps.mjs
// also checks that at least N modules were cruised.

/** Packages that tie code to HTTP/Express. Matched both as resolved paths under
 *  node_modules (including @types/… and subpaths) and as bare names, in case one
 *  does not resolve. */
const HTTP_PACKAGES = "(express|express-serve-static-core|express-session|multer|helmet)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "This module is part of an import cycle under src/. Cycles make load order fragile " +
        "(ESM live bindings can be undefined at import time) and tangle the layers. " +
        "Type-only imports (`import type`) count too: break the cycle by moving the shared " +
        "type (e.g. AppDeps) into a module of its own that both sides import.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "domain-stays-plain",
      severity: "error",
      comment:
        "src/domain/ holds plain business logic: it must not depend on the web framework " +
        "(express, express-session, multer, helmet — including their @types, subpaths and express-serve-static-core) " +
        "nor on anything under src/web/. Pass plain data in; let src/web/ adapt HTTP to it.",
      from: { path: "^src/domain/" },
      to: {
        path: [
          `(^|/)node_modules/(@types/)?${HTTP_PACKAGES}(/|$)`,
          `^(@types/)?${HTTP_PACKAGES}(/|$)`,
          "^src/web/",
        ],
      },
    },
    {
      name: "routes-without-knex",
      severity: "error",
      comment:
        "Route tables and handlers (everything under src/web/ but its middleware) must not talk to the database " +
        "directly: no knex and nothing under src/db/. Call a domain function instead. Only middleware that stores " +
        "sessions and rate-limit counters reaches the database.",
      from: { path: "^src/web/", pathNot: "^src/web/middleware/" },
      to: {
        path: ["(^|/)node_modules/(@types/)?knex(/|$)", "^knex(/|$)", "^src/db/"],
      },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment:
        "This module imports something that cannot be resolved to a file on disk — a typo " +
        "in a relative path, a missing .js→.ts counterpart, or a package that is not installed.",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Node core modules (node:fs …) are reported, never followed; packages are not followed.
    doNotFollow: { path: ["node_modules"] },
    // NB: do not put node_modules in `exclude` — excluded modules vanish from the graph,
    // and the express/knex rules would then never see those imports.
    exclude: { path: ["^dist/", "^data/"] },

    // TypeScript 7 has no compiler API: parse with swc (devDependency @swc/core 1.x).
    parser: "swc",
    // swc reads the source as written, so `import type { X }` is a plain import and
    // counts for no-circular. `true` also keeps type-only imports should a
    // typescript <7 ever be picked up instead (then the tsc parser would be used).
    tsPreCompilationDeps: true,

    // ESM + NodeNext: `import x from "./a.js"` must resolve to ./a.ts. dependency-cruiser
    // does this itself: when a relative ./x.js does not exist it retries ./x.ts/.tsx/.d.ts
    // (and .mjs→.mts, .cjs→.cts). enhanced-resolve's `extensionAlias` is NOT accepted here
    // (the CLI rejects it: "enhancedResolveOptions must NOT have additional properties").
    // NB: options.tsConfig is NOT used either: dependency-cruiser reads tsconfig through the
    // typescript compiler API, which TypeScript 7 lacks, so it would be silently ignored.
    enhancedResolveOptions: {
      extensions: [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json", ".d.ts"],
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      // "types"/"typings" as fallbacks so type-only packages still resolve.
      mainFields: ["main", "types", "typings"],
    },
    moduleSystems: ["es6", "cjs"],
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
