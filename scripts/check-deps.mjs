#!/usr/bin/env node
// Checks the import graph of src/ against .dependency-cruiser.cjs.
//
// Usage: node scripts/check-deps.mjs [minModules] [dir ...]
//   minModules  fail if fewer source modules were cruised (default 40; also env DEPCRUISE_MIN_MODULES)
//   dir         what to cruise (default: src)
//
// Exit codes: 0 = clean, 1 = rule violations or too few modules cruised, 2 = crash.
// The module-count floor is there because dependency-cruiser silently cruises
// 0 modules when no TypeScript parser is usable (e.g. @swc/core missing).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { cruise } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";

const DEFAULT_MIN_MODULES = 40;
const CONFIG_FILE = ".dependency-cruiser.cjs";

const args = process.argv.slice(2);
let minModules = Number(process.env.DEPCRUISE_MIN_MODULES ?? DEFAULT_MIN_MODULES);
if (args.length > 0 && /^\d+$/.test(args[0])) minModules = Number(args.shift());
const targets = args.length > 0 ? args : ["src"];

async function main() {
  const configPath = resolve(CONFIG_FILE);
  if (!existsSync(configPath)) {
    console.error(`check-deps: ${CONFIG_FILE} not found in ${process.cwd()} (run from the repo root)`);
    return 2;
  }
  const options = await extractDepcruiseOptions(configPath);
  // outputType "json" => result.output is the serialised cruise result.
  const { output } = await cruise(targets, { ...options, outputType: "json" });
  const result = typeof output === "string" ? JSON.parse(output) : output;

  // Our own files inside the cruised targets (src/ imports a few db/ files too; they don't count).
  const prefixes = targets.map((t) => `${t.replace(/^\.\//, "").replace(/\/+$/, "")}/`);
  const sourceModules = result.modules.filter((m) => !m.coreModule && !m.couldNotResolve && prefixes.some((p) => m.source.startsWith(p) || m.source === p.slice(0, -1)));
  const violations = result.summary.violations ?? [];
  let failed = false;

  if (violations.length > 0) {
    failed = true;
    const byRule = new Map();
    for (const v of violations) {
      if (!byRule.has(v.rule.name)) byRule.set(v.rule.name, []);
      byRule.get(v.rule.name).push(v);
    }
    const rules = new Map((options.ruleSet?.forbidden ?? []).map((r) => [r.name, r]));
    console.error(`check-deps: ${violations.length} dependency rule violation(s)\n`);
    for (const [name, list] of byRule) {
      console.error(`✖ ${name} (${list.length})`);
      const comment = rules.get(name)?.comment;
      if (comment) console.error(`  ${comment}`);
      for (const v of list) {
        if (v.cycle?.length) {
          const chain = [v.from, ...v.cycle.map((c) => (typeof c === "string" ? c : c.name))];
          console.error(`  - ${chain.join(" → ")}`);
        } else {
          console.error(`  - ${v.from} → ${v.to}`);
        }
      }
      console.error("");
    }
  }

  if (sourceModules.length < minModules) {
    failed = true;
    console.error(
      `check-deps: only ${sourceModules.length} source module(s) cruised in ${targets.join(", ")} (expected at least ${minModules}).\n` +
        '  Is the TypeScript parser available? dependency-cruiser needs @swc/core 1.x (options.parser: "swc");\n' +
        "  it cannot use TypeScript 7 and then silently cruises nothing.",
    );
  }

  const s = result.summary;
  const line = `${sourceModules.length} modules in ${targets.join(", ")} (${s.totalCruised} incl. db/, packages, node core), ${s.totalDependenciesCruised} dependencies`;
  if (failed) {
    console.error(`check-deps: FAILED — ${line}`);
    return 1;
  }
  console.log(`check-deps: OK — ${line}, no violations`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error("check-deps: crashed:", err?.stack ?? err);
    process.exit(2);
  },
);
