import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ConfigError } from "../../core/config/parse.ts";
import { createDynamoKeyStore } from "../../core/keys/dynamo-store.ts";
import { createDynamoRegistryStore } from "../../core/registry/dynamo-store.ts";
import { loadConfigFile } from "../shared/config-file.ts";
import { createdKeyLines, operatorKeys, seedStores } from "../shared/seed.ts";

/**
 * `npm run seed:aws -- --config gateway.json --registry-table <name> --keys-table <name> [--region r]`:
 * applies a config file to the DynamoDB registry of a deployed stage and makes sure an API key and an
 * admin key exist (printed once when generated; GATEWAY_API_KEY / GATEWAY_ADMIN_KEY are used when set).
 * Uses the caller's own AWS credentials. Run it against the primary region: the tables are global.
 */
const USAGE =
  "usage: npm run seed:aws -- --config <file> --registry-table <name> --keys-table <name> [--region <region>]";

/** Required options missing: the usage line is the whole message. */
class UsageError extends Error {}

try {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      "registry-table": { type: "string" },
      "keys-table": { type: "string" },
      region: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!values.config || !values["registry-table"] || !values["keys-table"]) throw new UsageError();
  const config = loadConfigFile(values.config);
  // Before any AWS call: a bad operator key is a configuration error, not a half-made seeding.
  operatorKeys(process.env);
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
  // parseArgs' own errors (an unknown option, a missing value) are usage errors too.
  const usage =
    err instanceof UsageError ||
    (err instanceof Error && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"));
  process.stderr.write(
    usage
      ? `${err instanceof UsageError ? "" : `${(err as Error).message}\n`}${USAGE}\n`
      : `${err instanceof ConfigError ? `Invalid configuration: ${err.message}` : String(err)}\n`,
  );
  process.exit(2);
}
