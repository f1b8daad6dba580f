/** Settings every gateway function shares (DESIGN §1: Node.js 24 on arm64). */

/** EventBridge `source` of every gateway event (DESIGN §6). */
export const EVENT_SOURCE = "llm-gateway";

/**
 * Trust only the Lambda service. SST 4.17.1's Function picks its trust policy with `!dev` where `dev` is
 * an Output (always truthy), so every role it creates also trusts the account root (meant for `sst dev`
 * only); any principal in the account with sts:AssumeRole could then act as the function.
 */
function lambdaOnlyTrust(args: aws.iam.RoleArgs): undefined {
  args.assumeRolePolicy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ],
  });
  return undefined;
}

export const LAMBDA_DEFAULTS = {
  runtime: "nodejs24.x",
  architecture: "arm64",
  transform: { role: lambdaOnlyTrust },
} as const;
