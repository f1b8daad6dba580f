import { modelSchema } from "../config/schema.ts";
import { checkModelTargets } from "./references.ts";
import { registryResource } from "./registry-resource.ts";

/** `/admin/models`: aliases and their ordered targets; every target must name a known provider. */
export const models = registryResource({
  kind: "model",
  idField: "alias",
  schema: modelSchema,
  checkReferences: checkModelTargets,
});
