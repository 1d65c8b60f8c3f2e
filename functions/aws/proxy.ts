import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { jsonAnswer } from '../../src/edge.ts';
import { RequestError } from '../../src/errors.ts';
import type { ReceiveRequest, ReceiveResult } from '../../src/pipeline.ts';

/**
 * The pipeline's request from an API Gateway REST proxy event: header names lower-cased (repeated headers joined with
 * ", " as HTTP allows), the body decoded from base64 when API Gateway encoded it. Throws a 400 RequestError for
 * anything that is not a proxy event (a test event from the console, a misconfigured integration).
 */
export function toReceiveRequest(event: APIGatewayProxyEvent): ReceiveRequest {
  if (typeof event !== 'object' || event === null || typeof event.httpMethod !== 'string' || typeof event.path !== 'string') {
    throw new RequestError(400, 'not an API Gateway proxy event; use a REST API with Lambda proxy integration');
  }
  const headers: Record<string, string> = {};
  // multiValueHeaders holds every value; headers keeps only the last of each, so it only fills gaps.
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (values && values.length > 0) headers[name.toLowerCase()] = values.join(', ');
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] ??= value;
  }
  const body = event.body ?? '';
  return {
    method: event.httpMethod,
    path: event.path,
    headers,
    body: event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
  };
}

/** The proxy response for a pipeline result: status, headers and the JSON body with the message and counts. */
export function toProxyResult(result: Pick<ReceiveResult, 'status' | 'headers' | 'body'>): APIGatewayProxyResult {
  return { statusCode: result.status, headers: { ...result.headers }, body: result.body, isBase64Encoded: false };
}

/** A response for something that went wrong before the pipeline ran (a bad event, a configuration error). */
export function errorResult(status: number, message: string, headers: Readonly<Record<string, string>> = {}): APIGatewayProxyResult {
  return toProxyResult(jsonAnswer(status, message, headers));
}
