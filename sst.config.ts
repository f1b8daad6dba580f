/// <reference path="./.sst/platform/config.d.ts" />
/**
 * App and stage/region wiring only; resources live in stacks/. The stage name picks the region and role
 * (stacks/regions.ts): `<env>` deploys to us-east-1 (primary), `<env>-eu` to eu-west-1 (secondary).
 * Optional: GATEWAY_ALERT_EMAIL subscribes an address to budget alerts.
 * SST forbids top-level imports here (the CLI evaluates this file before the platform exists), hence the
 * dynamic imports.
 */
export default $config({
  async app(input) {
    const { deploymentFor } = await import("./stacks/regions.ts");
    const deployment = deploymentFor(input.stage);
    return {
      name: "llm-gateway",
      home: "aws",
      // Retain tables (and other stateful resources) of protected environments on `sst remove`.
      removal: deployment.protected ? "retain" : "remove",
      // Pinned: the version `sst install` resolved for SST 4.17.1 (.sst/provider-lock.json).
      providers: { aws: { region: deployment.region, version: "7.20.0" } },
    };
  },
  async run() {
    const { deploymentFor } = await import("./stacks/regions.ts");
    const deployment = deploymentFor($app.stage);
    const { restrictLinks } = await import("./stacks/access.ts");
    const { createStorage } = await import("./stacks/storage.ts");
    const { createEvents } = await import("./stacks/events.ts");
    const { createAudit } = await import("./stacks/audit.ts");
    const { createApi } = await import("./stacks/api.ts");
    const { createReservationSweep } = await import("./stacks/reservation-sweep.ts");

    restrictLinks();
    const storage = createStorage(deployment);
    const events = createEvents(storage, { alertEmail: process.env.GATEWAY_ALERT_EMAIL });
    const audit = createAudit(deployment, storage);
    createReservationSweep(storage, events, audit);
    const { api } = createApi(storage, events, audit);
    return {
      region: deployment.region,
      role: deployment.role,
      url: api.url,
      // For `npm run seed:aws` (docs/deploy.md).
      registryTable: storage.registry.name,
      keysTable: storage.keys.name,
      auditSigningKeyArn: audit.signingKey.properties.arn,
    };
  },
});
