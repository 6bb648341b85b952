/**
 * Every failure leaves the API as JSON `{ error: CODE, message, field? }`: a
 * schema violation is a 400 naming the field, a DsoError keeps its code with
 * the status that fits it, fastify's own refusals (415, 413, 404) keep
 * theirs.
 */
import type { FastifyError, FastifyInstance } from 'fastify';

import { DsoError } from '../../core/errors.js';

const STATUS_OF: Partial<Record<string, number>> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  BACKEND_UNAVAILABLE: 503,
  MODEL_ERROR: 502,
  MODEL_TIMEOUT: 504,
  MODEL_BAD_RESPONSE: 502,
  CHAIN_ERROR: 502,
  IO_ERROR: 502,
  DATABASE_ERROR: 500,
  LIBRARY_CLOSED: 503,
};

/** "experiences.0.confidence must be number" from ajv's first complaint. */
function describeValidation(err: FastifyError): { field?: string; message: string } {
  const v = err.validation?.[0];
  const params = v?.params as { missingProperty?: string; additionalProperty?: string } | undefined;
  const at = v?.instancePath?.replace(/^\//u, '').replace(/\//gu, '.');
  if (params?.missingProperty) {
    const field = [at, params.missingProperty].filter(Boolean).join('.');
    return { field, message: `${field} is required` };
  }
  if (params?.additionalProperty) {
    const field = [at, params.additionalProperty].filter(Boolean).join('.');
    return { field, message: `${field} is not a known field` };
  }
  return { field: at || undefined, message: `${at || err.validationContext || 'body'} ${v?.message ?? 'is invalid'}` };
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | DsoError, _req, reply) => {
    if ((err as FastifyError).validation) {
      const { field, message } = describeValidation(err);
      return reply.code(400).send({ error: 'INVALID_ARGUMENT', field, message });
    }
    if (err instanceof DsoError) {
      return reply.code(STATUS_OF[err.code] ?? 400).send({ error: err.code, message: err.message });
    }
    const status = err.statusCode ?? 500;
    const code =
      status === 500 ? 'INTERNAL' : status === 413 ? 'TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_ARGUMENT';
    return reply.code(status).send({ error: code, message: status === 500 ? 'internal error' : err.message });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no endpoint ${req.method} ${req.url}; GET / lists them` }),
  );
}
