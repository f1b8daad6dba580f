/**
 * Pulumi mocks standing in for the AWS provider: every resource registration and provider function call
 * is recorded, and each resource gets the computed outputs (ARNs, URLs, ids) the SST components read.
 */
import type {
  MockCallArgs,
  MockCallResult,
  MockResourceArgs,
  MockResourceResult,
  Mocks,
} from "../../.sst/platform/node_modules/@pulumi/pulumi/runtime/index.js";

export const ACCOUNT = "123456789012";

export type Props = Record<string, unknown>;

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Props;
  /** Outputs as the mock returned them (inputs plus computed values). */
  readonly state: Props;
  /** True for `Resource.get` reads of existing resources (the secondary's replicated tables). */
  readonly read: boolean;
  readonly id: string;
}

export interface RecordedCall {
  readonly token: string;
  readonly inputs: Props;
}

export interface Recorder extends Mocks {
  readonly resources: RecordedResource[];
  readonly calls: RecordedCall[];
}

const str = (value: unknown): string => (typeof value === "string" ? value : "");

// Pulumi's wire marker for a secret value ({ [SECRET_SIG]: SECRET_VALUE, value }); outputs derived from
// secrets (the provider keys) arrive wrapped. Tests look at the plain values.
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  const record = value as Props;
  if (record[SECRET_SIG] === SECRET_VALUE) return unwrapSecrets(record.value);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

function computed(type: string, name: string, id: string, inputs: Props, region: string): Props {
  const physical = str(inputs.name) || (inputs.fifoQueue ? `${name}.fifo` : name);
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
  switch (type) {
    case "aws:lambda/function:Function": {
      const fnArn = arn("lambda", `function:${physical}`);
      const path = `arn:aws:apigateway:${region}:lambda:path`;
      return {
        arn: fnArn,
        qualifiedArn: `${fnArn}:$LATEST`,
        invokeArn: `${path}/2015-03-31/functions/${fnArn}/invocations`,
        qualifiedInvokeArn: `${path}/2015-03-31/functions/${fnArn}:$LATEST/invocations`,
        responseStreamingInvokeArn: `${path}/2021-11-15/functions/${fnArn}/response-streaming-invocations`,
        version: "$LATEST",
      };
    }
    case "aws:dynamodb/table:Table":
      return { name: physical, arn: arn("dynamodb", `table/${physical}`) };
    case "aws:sqs/queue:Queue":
      return { arn: arn("sqs", physical), url: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${physical}` };
    case "aws:cloudwatch/eventBus:EventBus":
      return { arn: arn("events", `event-bus/${physical}`) };
    case "aws:cloudwatch/eventRule:EventRule":
      return { name: physical, arn: arn("events", `rule/${str(inputs.eventBusName)}/${physical}`) };
    case "aws:sns/topic:Topic":
      return { arn: arn("sns", physical) };
    case "aws:kms/key:Key":
    case "aws:kms/replicaKey:ReplicaKey":
      return { keyId: "mrk-0123456789abcdef0123456789abcdef", arn: arn("kms", `key/mrk-0123456789abcdef`) };
    case "aws:apigateway/restApi:RestApi":
      return { rootResourceId: "rootid", executionArn: arn("execute-api", id) };
    case "aws:apigateway/stage:Stage":
      return { invokeUrl: `https://${id}.execute-api.${region}.amazonaws.com/${str(inputs.stageName)}` };
    case "random:index/randomBytes:RandomBytes":
      return { base64: Buffer.alloc(32, 1).toString("base64"), hex: "01".repeat(32) };
    default:
      return { name: physical, arn: arn("mock", `${type}/${physical}`) };
  }
}

interface PolicyStatementInput {
  effect?: string;
  actions?: string[];
  resources?: string[];
  principals?: { type: string; identifiers: string[] }[];
  conditions?: { test: string; variable: string; values: string[] }[];
}

/** What `aws.iam.getPolicyDocument` returns: the IAM JSON policy for the statements it is given. */
export function policyJson(inputs: Props): string {
  const statements = (inputs.statements ?? []) as PolicyStatementInput[];
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      Effect: s.effect ?? "Allow",
      Action: s.actions,
      Resource: s.resources,
      ...(s.principals && {
        Principal: Object.fromEntries(s.principals.map((p) => [p.type, p.identifiers])),
      }),
      ...(s.conditions && {
        Condition: Object.fromEntries(s.conditions.map((c) => [c.test, { [c.variable]: c.values }])),
      }),
    })),
  });
}

export function createRecorder(region: string): Recorder {
  const resources: RecordedResource[] = [];
  const calls: RecordedCall[] = [];
  return {
    resources,
    calls,
    newResource(args: MockResourceArgs): MockResourceResult {
      const inputs = unwrapSecrets(args.inputs) as Props;
      const id = args.id || `${args.name}-id`;
      const read = args.id !== undefined && args.id !== "";
      // A read of an existing table is looked up by its physical name (the id).
      const named = read && !inputs.name ? { ...inputs, name: id } : inputs;
      const state = { ...named, ...computed(args.type, args.name, id, named, str(inputs.region) || region) };
      resources.push({ type: args.type, name: args.name, inputs, state, read, id });
      return { id, state };
    },
    call(args: MockCallArgs): MockCallResult {
      const inputs = unwrapSecrets(args.inputs) as Props;
      calls.push({ token: args.token, inputs });
      const callRegion = str(inputs.region) || region;
      switch (args.token) {
        case "aws:index/getRegion:getRegion":
          return { id: callRegion, name: callRegion, region: callRegion };
        case "aws:index/getPartition:getPartition":
          return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com" };
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return {
            id: ACCOUNT,
            accountId: ACCOUNT,
            arn: `arn:aws:iam::${ACCOUNT}:user/test`,
            userId: "test",
          };
        case "aws:iam/getPolicyDocument:getPolicyDocument":
          return { ...inputs, id: "policy", json: policyJson(inputs) };
        case "aws:kms/getAlias:getAlias": {
          const keyArn = `arn:aws:kms:${callRegion}:${ACCOUNT}:key/mrk-0123456789abcdef`;
          return { id: str(inputs.name), name: str(inputs.name), targetKeyArn: keyArn, targetKeyId: "mrk-0" };
        }
        default:
          throw new Error(`unmocked provider function ${args.token}`);
      }
    },
  };
}
