import type { APIGatewayProxyEvent } from "aws-lambda";

/**
 * The request's path below the API's stage, which is what routes match. Through a custom domain mapped
 * with a base path (`api.example.com/llm` → the stage), API Gateway puts the base path in `path`
 * (`/llm/v1/chat/completions`) but not in `resource` (`/v1/chat/completions`, `/admin/{proxy+}`). So the
 * path is taken from where the resource's literal part begins. Portable mode's resource is `/{proxy+}`,
 * whose literal part `/` every path starts with.
 */
export function stagePath(event: Pick<APIGatewayProxyEvent, "path" | "resource">): string {
  const path = event.path || "/";
  const resource = event.resource;
  if (!resource) return path;
  const brace = resource.indexOf("{");
  const literal = brace < 0 ? resource : resource.slice(0, brace);
  if (literal === "" || path.startsWith(literal)) return path;
  const at = path.indexOf(literal);
  return at > 0 ? path.slice(at) : path;
}
