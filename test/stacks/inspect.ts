/** Queries over a mocked deployment: resources by type, and the IAM statements each function gets. */
import type { Props, RecordedResource } from "./aws-mocks.ts";
import type { Synth } from "./sst-runtime.ts";

export interface Statement {
  Effect: string;
  Action: string[];
  Resource: string[];
  Principal?: Record<string, string[] | string>;
}

export const TYPES = {
  table: "aws:dynamodb/table:Table",
  queue: "aws:sqs/queue:Queue",
  esm: "aws:lambda/eventSourceMapping:EventSourceMapping",
  integration: "aws:apigateway/integration:Integration",
  restApi: "aws:apigateway/restApi:RestApi",
  fn: "aws:lambda/function:Function",
  role: "aws:iam/role:Role",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  key: "aws:kms/key:Key",
  replicaKey: "aws:kms/replicaKey:ReplicaKey",
  alias: "aws:kms/alias:Alias",
  topic: "aws:sns/topic:Topic",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
} as const;

export function ofType(synth: Synth, type: string): RecordedResource[] {
  return synth.resources.filter((r) => r.type === type);
}

export function named(synth: Synth, type: string, name: string): RecordedResource {
  const found = ofType(synth, type).find((r) => r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
}

export const text = (props: Props, key: string): string => {
  const value = props[key];
  if (typeof value !== "string") throw new Error(`${key} is not a string: ${JSON.stringify(value)}`);
  return value;
};

const list = (value: string[] | string | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function parse(policy: string): Statement[] {
  const doc = JSON.parse(policy) as { Statement: Statement[] };
  return doc.Statement.map((s) => ({ ...s, Action: list(s.Action), Resource: list(s.Resource) }));
}

/** Identity-policy statements of every IAM role, inline policy and managed policy the program created. */
export function identityStatements(synth: Synth): { owner: string; statement: Statement }[] {
  const out: { owner: string; statement: Statement }[] = [];
  for (const r of synth.resources) {
    const docs: string[] = [];
    if (r.type === TYPES.role) {
      const inline = (r.inputs.inlinePolicies ?? []) as { policy: string }[];
      docs.push(...inline.map((p) => p.policy));
    }
    if (r.type === "aws:iam/policy:Policy" || r.type === "aws:iam/rolePolicy:RolePolicy") {
      docs.push(text(r.inputs, "policy"));
    }
    for (const doc of docs) for (const statement of parse(doc)) out.push({ owner: r.name, statement });
  }
  return out;
}

export function functionByHandler(synth: Synth, handler: string): RecordedResource {
  const found = ofType(synth, TYPES.fn).filter((f) => f.inputs.handler === handler);
  if (found.length !== 1)
    throw new Error(`expected one function with handler ${handler}, got ${found.length}`);
  return found[0]!;
}

export function roleOf(synth: Synth, fn: RecordedResource): RecordedResource {
  const role = ofType(synth, TYPES.role).find((r) => r.state.arn === fn.inputs.role);
  if (!role) throw new Error(`no role for ${fn.name}`);
  return role;
}

/** `service:Action` -> resources granted to the function with `handler`. */
export function grants(synth: Synth, handler: string): Map<string, Set<string>> {
  const role = roleOf(synth, functionByHandler(synth, handler));
  const byAction = new Map<string, Set<string>>();
  for (const { owner, statement } of identityStatements(synth)) {
    if (owner !== role.name || statement.Effect !== "Allow") continue;
    for (const action of statement.Action) {
      const set = byAction.get(action) ?? new Set<string>();
      for (const resource of statement.Resource) set.add(resource);
      byAction.set(action, set);
    }
  }
  return byAction;
}

/** Resources a function may touch through actions of one service (e.g. "dynamodb"). */
export function resourcesFor(access: Map<string, Set<string>>, service: string): string[] {
  const all = new Set<string>();
  for (const [action, resources] of access)
    if (action.startsWith(`${service}:`)) for (const r of resources) all.add(r);
  return [...all].sort();
}

export function actionsFor(access: Map<string, Set<string>>, service: string): string[] {
  return [...access.keys()].filter((a) => a.startsWith(`${service}:`)).sort();
}
