// Fails (with a one-line hint) when the committed types differ from freshly generated ones.
import { readFileSync, rmSync } from "node:fs";
const [committed, fresh] = process.argv.slice(2);
const same = readFileSync(committed, "utf8") === readFileSync(fresh, "utf8");
rmSync(fresh);
if (!same) {
  console.error(`${committed} is out of date: run \`npm run generate\` in clients/typescript`);
  process.exit(1);
}
console.log(`${committed} matches openapi.json`);
