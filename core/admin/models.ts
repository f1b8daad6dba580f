import { modelSchema } from "../config/schema.ts";
import { checkModelTargets, checkModelUnused } from "./references.ts";
import { registryResource } from "./registry-resource.ts";

/**
 * `/admin/models`: aliases and their ordered targets; every target must name a known provider, and an
 * alias a config-file key allows cannot be deleted.
 */
export const models = registryResource({
  kind: "model",
  idField: "alias",
  schema: modelSchema,
  checkReferences: checkModelTargets,
  checkUnused: checkModelUnused,
});
