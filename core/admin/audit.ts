import { z } from "zod";
import { GatewayError } from "../api/errors.ts";
import { validate } from "../gateway/validate.ts";
import { exportPage } from "./audit-page.ts";
import { MAX_PAGE_SIZE, page, wholeNumberParam } from "./page.ts";
import type { AdminRequest, AdminResource } from "./types.ts";

/**
 * `GET /admin/audit` lists the chains; `GET /admin/audit/{chain}` exports one chain (entries,
 * checkpoints, the signer's key id and public key) in the format `npm run audit:verify` checks offline,
 * a page at a time: `?fromSeq=` (default 1) and `?limit=` entries (default and most MAX_PAGE_SIZE).
 * The embedded public key is a convenience: a verifier should use a key it obtained independently.
 */
const exportQuery = z
  .object({
    fromSeq: wholeNumberParam.pipe(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)).default(1),
    limit: wholeNumberParam.pipe(z.number().int().min(1).max(MAX_PAGE_SIZE)).default(MAX_PAGE_SIZE),
  })
  .strict();

function auditDeps(req: AdminRequest) {
  if (!req.deps.audit)
    throw new GatewayError(501, "server_error", "The audit trail is not wired here.", {
      code: "not_implemented",
    });
  return req.deps.audit;
}

export const audit: AdminResource = {
  collection: {
    GET: {
      body: false,
      query: true,
      async run(req) {
        const chains = await auditDeps(req).store.chains();
        // A page like every admin list: one chain per org, so thousands of orgs are thousands of chains.
        return {
          status: 200,
          body: page(
            chains.map((chain) => ({ chain })),
            (c) => c.chain,
            req.query,
          ),
        };
      },
    },
  },
  item: {
    GET: {
      body: false,
      query: true,
      async run(req) {
        const deps = auditDeps(req);
        const query = validate(exportQuery, req.query);
        return { status: 200, body: await exportPage(deps.store, req.id, deps.signer, query) };
      },
    },
  },
};
