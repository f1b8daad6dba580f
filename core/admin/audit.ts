import { GatewayError } from "../api/errors.ts";
import { exportChain } from "../audit/export.ts";
import { page } from "./page.ts";
import type { AdminRequest, AdminResource } from "./types.ts";

/**
 * `GET /admin/audit` lists the chains; `GET /admin/audit/{chain}` exports one chain (entries,
 * checkpoints, the signer's key id and public key) in the format `npm run audit:verify` checks offline.
 * The embedded public key is a convenience: a verifier should use a key it obtained independently.
 */
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
      async run(req) {
        const deps = auditDeps(req);
        if (!(await deps.store.head(req.id))) {
          throw new GatewayError(404, "invalid_request_error", `No audit chain '${req.id}'.`, {
            code: "not_found",
            param: "chain",
          });
        }
        return { status: 200, body: await exportChain(deps.store, req.id, deps.signer) };
      },
    },
  },
};
