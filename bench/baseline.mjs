// The baseline: a bare @fastify/http-proxy streaming pass-through that adds
// a header, with the same undici pool settings as the proxy and no logic.
import httpProxy from '@fastify/http-proxy'
import Fastify from 'fastify'
import { Pool } from 'undici'

const [upstream, token] = process.argv.slice(2)
const app = Fastify({ logger: false, bodyLimit: 2 * 1024 ** 3 })
const pool = new Pool(upstream, { connections: 64, keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 120_000 })
await app.register(httpProxy, {
  upstream,
  undici: pool,
  replyOptions: { rewriteRequestHeaders: (_request, headers) => ({ ...headers, authorization: `Bearer ${token}` }) },
})
await app.listen({ host: '127.0.0.1', port: 0 })
process.send?.({ port: app.server.address().port })
process.on('SIGTERM', async () => { await app.close(); process.exit(0) })
