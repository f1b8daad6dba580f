import type { Logger } from "@aws-lambda-powertools/logger";
import type { Log } from "../../core/log.ts";

/** The gateway's logging port over Powertools Logger: structured JSON with the Lambda request id. */
export function powertoolsLog(logger: Logger): Log {
  return {
    info: (message, fields) => logger.info(message, { ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fields }),
    error: (message, fields) => logger.error(message, { ...fields }),
  };
}
