import { STATUS_CODES } from 'node:http';
import { ComfyVastError } from '@comfy-vast/core';
import { toErrorBody } from './error-body.js';

/**
 * The raw HTTP answer to a request Node could not parse (bad request line, oversized headers, a timeout):
 * no route or hook sees it, but it still gets the standard error body.
 */
export function clientErrorResponse(error: NodeJS.ErrnoException, now: Date): string {
  const [status, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'The request took too long to arrive']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'The request headers are too large']
        : [400, 'The request is not valid HTTP'];
  const { body } = toErrorBody(new ComfyVastError('VALIDATION_ERROR', message, { details: { reason: error.code ?? 'unknown' } }), now);
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`;
}
