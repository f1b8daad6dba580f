import { stampBudgets } from "../budgets/counters.ts";
import { keySchema } from "../config/schema.ts";
import { validate } from "../gateway/validate.ts";
import type { ApiKeyRecord } from "../keys/port.ts";
import { generateKey, sha256Hex } from "../keys/secret.ts";
import { adminChange, recordChange, recordedWithin } from "./change.ts";
import { conflict, missing } from "./errors.ts";
import { editKey } from "./key-edit.ts";
import { page } from "./page.ts";
import { publicKey } from "./public-key.ts";
import { checkKeyModels, checkKeyOrg, guarded } from "./references.ts";
import type { AdminResource } from "./types.ts";

/**
 * A create body is the config's key entry without the hash (the gateway makes the secret) and with an
 * optional id. Derived from keySchema, so both stay one definition: `budgets` (budgetSchema, at most one
 * per period) and `rateLimits` (rateLimitSchema) are validated exactly as in the config file.
 */
export const keyCreateSchema = keySchema
  .omit({ id: true, sha256: true })
  .extend({ id: keySchema.shape.id.optional() });

/**
 * `/admin/keys`: list, create (the secret is returned once), read, edit (key-edit.ts: name, models,
 * budgets and rate limits; the secret, org and role stay) and revoke.
 */
export const keys: AdminResource = {
  collection: {
    GET: {
      body: false,
      query: true,
      async run({ deps, query }) {
        return { status: 200, body: page((await deps.keys.list()).map(publicKey), (k) => k.id, query) };
      },
    },
    POST: {
      body: true,
      async run(req) {
        const { deps } = req;
        const input = validate(keyCreateSchema, req.body);
        await checkKeyOrg(deps, input.org);
        await checkKeyModels(deps, input.models);
        const id = input.id ?? `key-${deps.newId()}`;
        if (await deps.keys.get(id)) throw conflict(`An API key '${id}' already exists.`, "id");
        const secret = generateKey();
        const record: ApiKeyRecord = {
          id,
          org: input.org,
          role: input.role,
          name: input.name,
          models: input.models,
          budgets: stampBudgets(input.budgets, undefined, new Date(deps.now()).toISOString()),
          rateLimits: input.rateLimits,
          sha256: sha256Hex(secret),
          createdAt: new Date(deps.now()).toISOString(),
        };
        const change = adminChange(req, "create", "key", id, undefined, publicKey(record));
        await deps.keys.create(record);
        try {
          // The org again, guarded, now that the key exists: an org delete whose check for keys came
          // before the key was made cannot land after this bump, and one that landed before is seen here.
          // The bump is what makes the key count (a failed one takes it back): its record commits with it.
          await guarded(deps, async (guard) => {
            await checkKeyOrg(deps, input.org);
            await deps.registry.bump(guard, recordedWithin(req, change));
          });
        } catch (err) {
          // Its secret was never shown: the key goes with the failure (a delete that fails too leaves
          // a key nobody holds, listed under its org).
          await deps.keys.remove(id).catch(() => undefined);
          throw err;
        }
        await recordChange(req, change);
        // The only time the secret leaves the gateway: only its SHA-256 was stored.
        return { status: 201, body: { ...publicKey(record), key: secret } };
      },
    },
  },
  item: {
    GET: {
      body: false,
      async run({ deps, id }) {
        const record = await deps.keys.get(id);
        if (!record) throw missing("API key", id);
        return { status: 200, body: publicKey(record) };
      },
    },
    PATCH: editKey,
    DELETE: {
      body: false,
      async run(req) {
        const { deps, id } = req;
        const record = await deps.keys.get(id);
        if (!record) throw missing("API key", id);
        // Nobody could administer the gateway again (short of a restart with GATEWAY_ADMIN_KEY).
        if (record.role === "admin" && (await deps.keys.count("admin")) <= 1)
          throw conflict(`API key '${id}' is the last admin key; create another admin key first.`, "id");
        // An admin key's removal may be taken back (below): its record follows only once it stands.
        const change = adminChange(req, "delete", "key", id, publicKey(record), undefined);
        const within = record.role === "admin" ? undefined : recordedWithin(req, change);
        if (!(await deps.keys.remove(id, within))) throw missing("API key", id);
        // Two admin keys deleted at once both passed the count above: counted again once deleted, the
        // last one comes back (of two deletes racing, at least one sees the other's).
        if (record.role === "admin" && (await deps.keys.count("admin")) === 0) {
          await deps.keys.create(record);
          throw conflict(`API key '${id}' is the last admin key; create another admin key first.`, "id");
        }
        await recordChange(req, change);
        return { status: 204 };
      },
    },
  },
};
