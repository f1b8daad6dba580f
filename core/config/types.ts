export type { ProviderKind } from "../providers/types.ts";
export type {
  GatewayConfig,
  KeyConfig,
  ModelConfig,
  OrgConfig,
  ProviderConfig,
  TargetConfig,
  Timeouts,
} from "./schema.ts";
