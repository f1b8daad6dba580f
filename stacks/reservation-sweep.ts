import { dynamoLookup, putEvents, sendMessages } from "./access.ts";
import type { Audit } from "./audit.ts";
import type { Events } from "./events.ts";
import { LAMBDA_DEFAULTS } from "./lambda.ts";
import type { Storage } from "./storage.ts";

/**
 * Charges reservations that router invocations which died left open (functions/reservation-sweeper.ts):
 * it reads the budgets table's open-reservations index, enqueues the audit records of a sensitive org's
 * requests among them (the org read from the registry), and puts their usage events onto the bus.
 */
export function createReservationSweep(storage: Storage, events: Events, audit: Audit): void {
  new sst.aws.Cron("ReservationSweep", {
    schedule: "rate(5 minutes)",
    function: {
      ...LAMBDA_DEFAULTS,
      handler: "functions/reservation-sweeper.handler",
      timeout: "1 minute",
      link: [storage.budgets, storage.registry, events.bus, audit.queue],
      permissions: [
        dynamoLookup(storage.budgets),
        dynamoLookup(storage.registry),
        putEvents(events.bus),
        sendMessages(audit.queue),
      ],
    },
  });
}
