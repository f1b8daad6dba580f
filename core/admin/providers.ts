import { providerSchema } from "../config/schema.ts";
import { checkProviderUnused } from "./references.ts";
import { registryResource } from "./registry-resource.ts";

/** `/admin/providers`: kind, base URL, the env var naming its key (never the key), region, timeouts. */
export const providers = registryResource({
  kind: "provider",
  idField: "id",
  schema: providerSchema,
  checkUnused: checkProviderUnused,
});
