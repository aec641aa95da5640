import { loadConfig } from "../../../src/config.js";
import { connect } from "../../../src/db/connection.js";
import { localStorage } from "../../../src/domain/attachments/storage.js";
import { purgePass } from "../../../src/domain/conversations/retention.js";

/**
 * The child the SIGKILL test kills mid-purge (test/scale/retention-crash.test.ts): a purge by batches of 3 threads, its
 * file removals slowed down (15 ms each) so that the kill lands while batches commit and their files go.
 */
const config = loadConfig();
const db = connect(config);
const real = localStorage(config.storageDir);
const storage = {
  ...real,
  async remove(key: string) {
    await new Promise((resolve) => setTimeout(resolve, 15));
    await real.remove(key);
  },
};
process.stdout.write("started\n");
const result = await purgePass({ db, storage }, new Date(), { batch: 3 });
process.stdout.write(`${JSON.stringify(result)}\n`);
await db.destroy();
