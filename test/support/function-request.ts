// The webhook POST as the Functions front end hands it to the app: the API server's EventList of `lines`, to the URL
// the template's kubeconfig names (with the `timeout` query the API server adds).
import functions from '@azure/functions';
import { eventList } from './http-client.ts';

const { HttpRequest } = functions;

export function webhookRequest(lines: readonly string[], headers: Record<string, string> = {}): InstanceType<typeof HttpRequest> {
  return new HttpRequest({
    method: 'POST',
    url: 'https://kar-func.azurewebsites.net/audit?timeout=30s',
    headers: { 'content-type': 'application/json', ...headers },
    body: { string: eventList(lines) },
  });
}
