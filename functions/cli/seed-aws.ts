import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ConfigError } from "../../core/config/parse.ts";
import { createDynamoKeyStore } from "../../core/keys/dynamo-store.ts";
import { createDynamoRegistryStore } from "../../core/registry/dynamo-store.ts";
import { loadConfigFile } from "../shared/config-file.ts";
import { createdKeyLines, seedStores } from "../shared/seed.ts";

/**
 * `npm run seed:aws -- --config gateway.json --registry-table <name> --keys-table <name> [--region r]`:
 * applies a config file to the DynamoDB registry of a deployed stage and makes sure an API key and an
 * admin key exist (printed once when generated; GATEWAY_API_KEY / GATEWAY_ADMIN_KEY are used when set).
 * Uses the caller's own AWS credentials. Run it against the primary region: the tables are global.
 */
const USAGE =
  "usage: npm run seed:aws -- --config <file> --registry-table <name> --keys-table <name> [--region <region>]";

try {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      "registry-table": { type: "string" },
      "keys-table": { type: "string" },
      region: { type: "string" },
    },
  });
  if (!values.config || !values["registry-table"] || !values["keys-table"]) throw new ConfigError("", USAGE);
  const config = loadConfigFile(values.config);
  const client = new DynamoDBClient(values.region ? { region: values.region } : {});
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const created = await seedStores(
    createDynamoRegistryStore(doc, values["registry-table"]),
    createDynamoKeyStore(doc, values["keys-table"]),
    config,
    process.env,
  );
  process.stdout.write(
    `${[`Seeded ${values["registry-table"]} and ${values["keys-table"]} from ${values.config}.`, ...createdKeyLines(created)].join("\n")}\n`,
  );
  client.destroy();
} catch (err) {
  process.stderr.write(
    `${err instanceof ConfigError ? `Invalid configuration: ${err.message}` : String(err)}\n`,
  );
  process.exit(2);
}
