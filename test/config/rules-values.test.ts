// Listeners, ports, durations, ratios, backoff, callers policy and log level.
import t from 'tap'
import { MINIMAL, parse, problemsOf } from '../fixtures/config.js'

t.test('listen and admin must not share a host:port', async t => {
  t.same(problemsOf(`${MINIMAL}listen: { port: 9000 }\nadmin: { port: 9000 }\n`),
    ['admin.port: the admin listener 0.0.0.0:9000 overlaps the proxy listener 0.0.0.0:9000 (listen): give it another port'], 'same default host, same port')
  t.same(problemsOf(`${MINIMAL}listen: { host: "::", port: 9000 }\nadmin: { host: 127.0.0.1, port: 9000 }\n`),
    ['admin.port: the admin listener 127.0.0.1:9000 overlaps the proxy listener [::]:9000 (listen): give it another port'], 'a wildcard host overlaps any host; IPv6 hosts are bracketed')
  t.same(problemsOf(`${MINIMAL}listen: { host: 127.0.0.1, port: 9000 }\nadmin: { host: 0.0.0.0, port: 9000 }\n`),
    ['admin.port: the admin listener 0.0.0.0:9000 overlaps the proxy listener 127.0.0.1:9000 (listen): give it another port'], 'the admin wildcard overlaps too')
  t.same(problemsOf(`${MINIMAL}listen: { host: LocalHost, port: 9000 }\nadmin: { host: localhost, port: 9000 }\n`).length, 1, 'host names compare without case')
  const apart = parse(`${MINIMAL}listen: { host: 127.0.0.1, port: 9000 }\nadmin: { host: 127.0.0.2, port: 9000 }\n`)
  t.same([apart.listen, apart.admin], [{ host: '127.0.0.1', port: 9000 }, { host: '127.0.0.2', port: 9000 }], 'distinct specific hosts may share a port')
  const random = parse(`${MINIMAL}listen: { port: 0 }\nadmin: { port: 0 }\n`)
  t.same([random.listen.port, random.admin.port], [0, 0], 'port 0 (any free port) twice is fine')
})

t.test('numbers out of range', async t => {
  t.same(problemsOf(`${MINIMAL}listen: { port: 65536 }
admin: { port: -1 }
ims:
  timeoutSeconds: 0
  refreshRatio: 0
  expirySkewSeconds: -1
  backoff: { initialSeconds: 0 }
sessions: { ttlSeconds: 0.5 }
`), [
    'listen.port: must be <= 65535',
    'admin.port: must be >= 0',
    'ims.timeoutSeconds: must be > 0',
    'ims.refreshRatio: must be > 0',
    'ims.expirySkewSeconds: must be >= 0',
    'ims.backoff.initialSeconds: must be > 0',
    'sessions.ttlSeconds: must be an integer',
  ], 'each bound is reported at its key')
  t.same(problemsOf(`${MINIMAL}ims: { refreshRatio: 1 }\n`), ['ims.refreshRatio: must be < 1'], 'a refresh ratio of 1 would refresh at expiry')
  t.same(problemsOf(`${MINIMAL}ims:\n  backoff: { initialSeconds: 10, maxSeconds: 5 }\n`),
    ['ims.backoff.maxSeconds: must be at least ims.backoff.initialSeconds (10)'], 'the backoff cap cannot be below its start')
  t.same(problemsOf(`${MINIMAL}ims:\n  backoff: { initialSeconds: 90 }\n`),
    ['ims.backoff.maxSeconds: must be at least ims.backoff.initialSeconds (90)'], 'the default cap counts too')
})

t.test('every value can be set', async t => {
  const config = parse(`campaign:
  url: https://acme.campaign.adobe.com
  timeoutSeconds: 300
  connectTimeoutSeconds: 5
  maxConnections: 8
ims:
  tokenUrl: https://ims-na1-stg1.adobelogin.com/ims/token/v3
  timeoutSeconds: 3
  refreshRatio: 0.5
  expirySkewSeconds: 0
  backoff: { initialSeconds: 0.5, maxSeconds: 30 }
sessions: { ttlSeconds: 3600 }
unknownCallers: reject
logging: { level: debug }
`)
  t.same([config.campaign, config.ims, config.sessions, config.unknownCallers, config.logging], [
    { url: 'https://acme.campaign.adobe.com', timeoutSeconds: 300, connectTimeoutSeconds: 5, caFile: undefined, maxConnections: 8 },
    {
      tokenUrl: 'https://ims-na1-stg1.adobelogin.com/ims/token/v3',
      timeoutSeconds: 3,
      refreshRatio: 0.5,
      expirySkewSeconds: 0,
      backoff: { initialSeconds: 0.5, maxSeconds: 30 },
      caFile: undefined,
    },
    { secret: undefined, ttlSeconds: 3600 },
    'reject',
    { level: 'debug' },
  ], 'the given values replace the defaults')
  t.same(problemsOf(`${MINIMAL}unknownCallers: deny\nlogging: { level: verbose }\n`), [
    'unknownCallers: must be one of: passthrough, reject',
    'logging.level: must be one of: fatal, error, warn, info, debug, trace, silent',
  ], 'enumerations list their values')
})
