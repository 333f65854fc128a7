// The one map from errors to answers: every error class the request path
// can meet, and anything else, as the fault, Retry-After and log level it gets.
import t from 'tap'
import { ImsConfigurationError, TokenUnavailableError } from '../../src/ims/errors.js'
import { answerFor, BodyTooLargeError, UpstreamError } from '../../src/proxy/errors.js'
import { ProxyFault } from '../../src/soap/faults.js'

t.test('each error, its answer', async t => {
  const rows: ReadonlyArray<readonly [string, unknown, Record<string, unknown>]> = [
    ['a refusal', new ProxyFault('overloaded', { detail: 'busy', retryAfterSeconds: 1 }), { fault: 'overloaded', detail: 'busy', retryAfterSeconds: 1, level: 'info' }],
    ['no IMS token', new TokenUnavailableError('marketing', 0.2, 'IMS down'), { fault: 'imsUnavailable', detail: undefined, retryAfterSeconds: 1, level: 'debug' }],
    ['an IMS credential refused', new ImsConfigurationError({ account: 'marketing', imsError: 'invalid_client', detail: 'HTTP 401', retryAfterSeconds: 30.5 }), { fault: 'imsUnavailable', detail: undefined, retryAfterSeconds: 31, level: 'debug' }],
    ['a streamed body over the limit', new BodyTooLargeError('big'), { fault: 'tooLarge', detail: undefined, retryAfterSeconds: undefined, level: 'info' }],
    ['Campaign too slow', new UpstreamError(Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' })), { fault: 'upstreamTimeout', detail: undefined, retryAfterSeconds: undefined, level: 'debug' }],
    ['Campaign unreachable', new UpstreamError(Object.assign(new Error('r'), { code: 'ECONNREFUSED' })), { fault: 'upstreamUnavailable', detail: undefined, retryAfterSeconds: undefined, level: 'debug' }],
    ['an invalid Content-Type', Object.assign(new Error('m'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }), { fault: 'invalidMediaType', detail: undefined, retryAfterSeconds: undefined, level: 'info' }],
    ['another client error of Fastify', Object.assign(new Error('u'), { code: 'FST_ERR_BAD_URL', statusCode: 400 }), { fault: 'badRequest', detail: undefined, retryAfterSeconds: undefined, level: 'info' }],
    ['a server error of a dependency', Object.assign(new Error('s'), { statusCode: 503 }), { fault: 'internal', detail: undefined, retryAfterSeconds: undefined, level: 'error' }],
    ['a status below 400', Object.assign(new Error('s'), { statusCode: 302 }), { fault: 'internal', detail: undefined, retryAfterSeconds: undefined, level: 'error' }],
    ['a bug', new TypeError('x is undefined'), { fault: 'internal', detail: undefined, retryAfterSeconds: undefined, level: 'error' }],
    ['something thrown that is not an error', null, { fault: 'internal', detail: undefined, retryAfterSeconds: undefined, level: 'error' }],
  ]
  for (const [name, err, expected] of rows) {
    const { message: _message, ...answer } = answerFor(err)
    t.strictSame(answer, expected, name)
  }
})
