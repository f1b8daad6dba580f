import { orgSchema } from "../config/schema.ts";
import { checkOrgUnused } from "./references.ts";
import { registryResource } from "./registry-resource.ts";

/** `/admin/orgs`: orgs and their allowed regions; an org with keys cannot be deleted. */
export const orgs = registryResource({
  kind: "org",
  idField: "id",
  schema: orgSchema,
  checkUnused: checkOrgUnused,
});
