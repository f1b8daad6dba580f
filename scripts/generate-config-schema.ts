import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { configJsonSchema } from "../core/config/json-schema.ts";

/** `npm run schema`: regenerates the JSON Schema editors use for gateway config files. */
const out = join(import.meta.dirname, "../schema/gateway-config.schema.json");
writeFileSync(out, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${out}\n`);
