import v8 from "node:v8";
import vm from "node:vm";

/**
 * Keeps an upload's memory flat. Each chunk read from the socket is a fresh buffer outside V8's heap;
 * V8 frees them only at its next collection, which it starts for such memory after ~64 MB, so one
 * request of 5 × 10 MB could hold 50 MB of dead buffers. A young-generation collection (a few ms)
 * every 4 MB received frees them as the upload goes (measured by `npm run bench`: docs/PERFORMANCE.md).
 * Node.js lets `gc` be exposed at run time (the expose-gc package does the same); should a runtime
 * refuse it, uploads work as before, only with V8's own timing.
 */
function youngGenerationCollector(): (() => void) | null {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as (options: { type: "minor" }) => void;
    return typeof gc === "function" ? () => gc({ type: "minor" }) : null;
  } catch {
    return null;
  }
}

const collect = youngGenerationCollector();
const EVERY_BYTES = 4 * 1024 * 1024;
let sinceLastCollection = 0;

/** Counts bytes received into uploads, in this process, and collects the dead chunks every 4 MB. */
export function uploadedBytes(n: number): void {
  if (!collect) return;
  sinceLastCollection += n;
  if (sinceLastCollection < EVERY_BYTES) return;
  sinceLastCollection = 0;
  collect();
}
