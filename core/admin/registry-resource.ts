import type { z } from "zod";
import { badRequest } from "../api/errors.ts";
import { validate } from "../gateway/validate.ts";
import type { RegistryDocs, RegistryKind, WriteGuard } from "../registry/port.ts";
import { adminChange, recordChange, recordedWithin } from "./change.ts";
import { conflict, missing } from "./errors.ts";
import { page } from "./page.ts";
import { guarded } from "./references.ts";
import type { AdminDeps, AdminRequest, AdminResource } from "./types.ts";

/** What differs between providers, models and orgs; the CRUD around it is the same. */
export interface RegistrySpec<K extends RegistryKind> {
  kind: K;
  /** The field that holds the id in the document (and in the path). */
  idField: "id" | "alias";
  /** The config schema for this kind: admin bodies obey exactly what the config file obeys. */
  schema: z.ZodType<RegistryDocs[K]>;
  /** Cross-entry checks before a create or replace (400 on failure). */
  checkReferences?(deps: AdminDeps, doc: RegistryDocs[K]): Promise<void>;
  /** Checks before a delete that nothing still uses the entry (409 on failure). */
  checkUnused?(deps: AdminDeps, id: string): Promise<void>;
  /** What the gateway adds to a document it stores, given the entry it replaces (none on create). */
  stamp?(doc: RegistryDocs[K], previous: RegistryDocs[K] | undefined, now: string): RegistryDocs[K];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** PUT: the path names the entry. A body without the id gets it; a body with another id is refused. */
function withPathId(body: unknown, field: string, id: string): unknown {
  if (!isObject(body)) return body; // validate() answers the 400 for non-objects
  const given = body[field];
  if (given === undefined) return { ...body, [field]: id };
  if (given !== id)
    throw badRequest(
      `The body's ${field} '${String(given)}' differs from the path's '${id}'; an entry cannot be renamed.`,
      field,
      "id_mismatch",
    );
  return body;
}

/** GET/POST on the collection, GET/PUT/DELETE on an item, for one registry kind. */
export function registryResource<K extends RegistryKind>(spec: RegistrySpec<K>): AdminResource {
  const { kind, idField } = spec;
  const entryOf = (doc: RegistryDocs[K]) => (doc as Record<string, unknown>)[idField] as string;

  const referencesChecked = async (req: AdminRequest, doc: RegistryDocs[K]): Promise<RegistryDocs[K]> => {
    await spec.checkReferences?.(req.deps, doc);
    return doc;
  };

  /**
   * A write whose kind has cross-reference checks runs guarded (references.ts), so that no concurrent
   * write slips between the checks and it; one without checks needs no guard, and is never refused for
   * another admin's unrelated write.
   */
  const checkedWrite = <T>(
    req: AdminRequest,
    checked: boolean,
    write: (guard: WriteGuard | undefined) => Promise<T>,
  ): Promise<T> => (checked ? guarded(req.deps, write) : write(undefined));

  const stamped = (req: AdminRequest, doc: RegistryDocs[K], previous: RegistryDocs[K] | undefined) =>
    spec.stamp ? spec.stamp(doc, previous, new Date(req.deps.now()).toISOString()) : doc;

  return {
    collection: {
      GET: {
        body: false,
        query: true,
        async run({ deps, query }) {
          const entries = await deps.registry.list(kind);
          return {
            status: 200,
            body: page(
              entries.map((e) => e.doc),
              entryOf,
              query,
            ),
          };
        },
      },
      POST: {
        body: true,
        async run(req) {
          const valid = validate(spec.schema, req.body);
          const change = await checkedWrite(req, spec.checkReferences !== undefined, async (guard) => {
            const checked = stamped(req, await referencesChecked(req, valid), undefined);
            const id = entryOf(checked);
            // Checked up front for a precise message; the store's conditional insert settles races.
            if (await req.deps.registry.get(kind, id))
              throw conflict(`A ${kind} '${id}' already exists; use PUT to replace it.`, idField);
            const change = adminChange(req, "create", kind, id, undefined, checked);
            await req.deps.registry.create(kind, checked, guard, recordedWithin(req, change));
            return change;
          });
          await recordChange(req, change);
          return { status: 201, body: change.after };
        },
      },
    },
    item: {
      GET: {
        body: false,
        async run({ deps, id }) {
          const entry = await deps.registry.get(kind, id);
          if (!entry) throw missing(kind, id);
          return { status: 200, body: entry.doc };
        },
      },
      PUT: {
        body: true,
        async run(req) {
          const change = await checkedWrite(req, spec.checkReferences !== undefined, async (guard) => {
            const before = await req.deps.registry.get(kind, req.id);
            if (!before) throw missing(kind, req.id);
            const valid = validate(spec.schema, withPathId(req.body, idField, req.id));
            const doc = stamped(req, await referencesChecked(req, valid), before.doc);
            const change = adminChange(req, "replace", kind, req.id, before.doc, doc);
            await req.deps.registry.replace(kind, doc, guard, recordedWithin(req, change));
            return change;
          });
          await recordChange(req, change);
          return { status: 200, body: change.after };
        },
      },
      DELETE: {
        body: false,
        async run(req) {
          const change = await checkedWrite(req, spec.checkUnused !== undefined, async (guard) => {
            const before = await req.deps.registry.get(kind, req.id);
            if (!before) throw missing(kind, req.id);
            await spec.checkUnused?.(req.deps, req.id);
            const change = adminChange(req, "delete", kind, req.id, before.doc, undefined);
            if (!(await req.deps.registry.remove(kind, req.id, guard, recordedWithin(req, change))))
              throw missing(kind, req.id);
            return change;
          });
          await recordChange(req, change);
          return { status: 204 };
        },
      },
    },
  };
}
