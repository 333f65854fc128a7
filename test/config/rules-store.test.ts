// store.redis: a redis:// or rediss:// URL, one password, a CA only for TLS; absent, nothing shared.
import t from 'tap'
import { MINIMAL, parse, problemsOf } from '../fixtures/config.js'

t.test('store.redis loads with its defaults; without it nothing is shared', async t => {
  t.same(parse(MINIMAL).store, { redis: undefined }, 'no store by default')
  t.same(parse(`${MINIMAL}store: {}\n`).store, { redis: undefined }, 'an empty store section shares nothing')
  t.same(parse(`${MINIMAL}store:\n  redis: { url: 'redis://redis:6379/0' }\n`).store.redis, {
    url: 'redis://redis:6379/0', username: undefined, password: undefined, caFile: undefined, keyPrefix: 'campaign-ims-proxy:', timeoutSeconds: 0.5, inventoryFlushSeconds: 1,
  }, 'the documented defaults')
  t.match(parse(`${MINIMAL}store:\n  redis: { url: 'rediss://redis:6380', username: proxy, password: s3cret, keyPrefix: 'crm-proxy:', timeoutSeconds: 2, inventoryFlushSeconds: 5 }\n`).store.redis, {
    url: 'rediss://redis:6380', username: 'proxy', password: { kind: 'value', value: 's3cret' }, keyPrefix: 'crm-proxy:', timeoutSeconds: 2, inventoryFlushSeconds: 5,
  }, 'every key given')
})

t.test('store.redis problems are named by key', async t => {
  const problems = (redis: string): readonly string[] => problemsOf(`${MINIMAL}store:\n  redis: ${redis}\n`)
  t.same(problems('{ url: http://redis:6379 }'), ['store.redis.url: must be a redis:// or rediss:// (TLS) URL such as redis://redis:6379/0'], 'another scheme')
  t.same(problems('{ url: not-a-url }'), ['store.redis.url: must be a redis:// or rediss:// (TLS) URL such as redis://redis:6379/0'], 'not a URL')
  t.same(problems('{ url: "redis://:pw@redis:6379", password: pw }'), ['store.redis.password: is given twice: in store.redis.url and here; keep one (a secret file is safer than the URL)'], 'a password twice')
  t.same(problems('{ url: "redis://redis:6379/cache/x" }'), ['store.redis.url: may only name a database number after the host (redis://host:6379/0)'], 'a path that is not a database number')
  t.same(problems('{ url: "redis://redis:6379/0?tls=1" }'), ['store.redis.url: must not carry a query or a fragment'], 'a query')
  t.same(problems('{ url: "redis://redis:6379", caFile: /etc/hostname }'), ['store.redis.caFile: is only used with a rediss:// (TLS) URL'], 'a CA without TLS')
  t.match(problems('{ keyPrefix: "has space" }'), [/store\.redis/, /store\.redis\.keyPrefix/], 'no URL, and a prefix with a space')
})
