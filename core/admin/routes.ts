import { badRequest, GatewayError } from "../api/errors.ts";
import { audit } from "./audit.ts";
import { keys } from "./keys.ts";
import { models } from "./models.ts";
import { orgs } from "./orgs.ts";
import { providers } from "./providers.ts";
import { spend } from "./spend.ts";
import type { AdminHandler, AdminMethod, AdminResource } from "./types.ts";

/**
 * The route table: `/admin/{resource}` (collection) and `/admin/{resource}/{id}` (item). API Gateway
 * sends every `ANY /admin/{proxy+}` here, so unknown paths and methods are answered here too.
 */
export const ADMIN_RESOURCES: Record<string, AdminResource> = { providers, models, orgs, keys, spend, audit };

export interface MatchedRoute {
  handler: AdminHandler;
  /** The decoded `{id}` segment; empty on collection routes. */
  id: string;
}

const unknownUrl = (method: string, path: string) =>
  new GatewayError(404, "invalid_request_error", `Invalid URL (${method} ${path})`, { code: "unknown_url" });

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`The path segment '${segment}' is not valid percent-encoding.`, null, "invalid_path");
  }
}

export function matchRoute(method: string, rawPath: string): MatchedRoute {
  // REST APIs may be called with a trailing slash; routes are matched without it.
  const path = rawPath.length > 1 && rawPath.endsWith("/") ? rawPath.slice(0, -1) : rawPath;
  const parts = path.split("/").slice(1);
  const resource = parts[0] === "admin" && parts[1] ? ADMIN_RESOURCES[parts[1]] : undefined;
  if (!resource || !Object.hasOwn(ADMIN_RESOURCES, parts[1] ?? "") || parts.length > 3)
    throw unknownUrl(method, path);
  const methods = parts.length === 3 ? resource.item : resource.collection;
  // A resource without items (the spend report) has no path below it at all.
  if (Object.keys(methods).length === 0) throw unknownUrl(method, path);
  const handler = Object.hasOwn(methods, method) ? methods[method as AdminMethod] : undefined;
  if (!handler) {
    const allowed = Object.keys(methods).join(", ");
    throw new GatewayError(
      405,
      "invalid_request_error",
      `Method ${method} is not allowed on ${path}; use ${allowed}.`,
      {
        code: "method_not_allowed",
        headers: { allow: allowed },
      },
    );
  }
  return { handler, id: parts.length === 3 ? decodeSegment(parts[2]!) : "" };
}
