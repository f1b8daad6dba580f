export { DETECTORS, type Detector, type Verdict } from "./detectors.ts";
export {
  isSecretKind,
  maskFor,
  PERSONAL_KINDS,
  PII_KINDS,
  type PiiCounts,
  type PiiKind,
  SECRET_KINDS,
} from "./kinds.ts";
export { containsPii, type Redaction, redactText } from "./redact-text.ts";
export { redactValue } from "./redact-value.ts";
export { redactingLog } from "./redacting-log.ts";
