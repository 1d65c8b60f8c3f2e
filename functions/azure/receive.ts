// The Azure Functions entry point (v4 programming model). The API server cannot send function keys (no custom
// headers, query string dropped), so the trigger is anonymous and the pipeline's own bearer/basic auth guards it.
import functions from '@azure/functions';
import { createReceiveHandler } from './handler.ts';

/** The handler this app registers, exported so a bundle can be exercised outside the Functions host. */
export const receiveAuditEvents = createReceiveHandler();

// With host.json's empty routePrefix, the webhook URL is https://<app>.azurewebsites.net/audit (any path works) and
// /healthz answers GET for probes.
functions.app.http('receive', {
  methods: ['POST', 'GET', 'HEAD'],
  authLevel: 'anonymous',
  route: '{*path}',
  handler: receiveAuditEvents,
});
