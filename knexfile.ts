import { loadConfig } from "./src/config.js";
import { knexConfig } from "./src/db/connection.js";

/** One knex configuration for the app, the tests and the knex CLI (NODE_OPTIONS="--import tsx" npx knex …). */
export default knexConfig(loadConfig());
