import { stampBudgets } from "../budgets/counters.ts";
import { orgSchema } from "../config/schema.ts";
import { checkOrgUnused } from "./references.ts";
import { registryResource } from "./registry-resource.ts";

/** `/admin/orgs`: orgs and their allowed regions; an org with keys cannot be deleted. */
export const orgs = registryResource({
  kind: "org",
  idField: "id",
  schema: orgSchema,
  checkUnused: checkOrgUnused,
  // Each budget remembers when it was added, so one removed and added again gets a counter of its own.
  stamp: (doc, previous, now) => {
    const budgets = stampBudgets(doc.budgets, previous?.budgets, now);
    return budgets ? { ...doc, budgets } : doc;
  },
});
