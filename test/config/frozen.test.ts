// The loaded configuration is deep-frozen: any mutation throws (modules run in strict mode).
import t from 'tap'
import { FrozenMap, deepFreeze } from '../../src/config/freeze.js'
import type { TechnicalAccountConfig } from '../../src/config/types.js'
import { MINIMAL, parse } from '../fixtures/config.js'

t.test('every level of the configuration is frozen', async t => {
  const config = parse(`${MINIMAL}technicalAccounts:
  main: { clientId: id, clientSecret: s, scopes: [openid] }
integrations:
  - { name: web, networks: [10.0.0.0/8], technicalAccount: main }
`)
  t.throws(() => { (config as { unknownCallers: string }).unknownCallers = 'reject' }, TypeError, 'a top-level value cannot be replaced')
  t.throws(() => { (config.listen as { port: number }).port = 1 }, TypeError, 'a nested value cannot be replaced')
  t.throws(() => { (config.ims.backoff as { maxSeconds: number }).maxSeconds = 1 }, TypeError, 'nor two levels down')
  t.throws(() => { (config.integrations as unknown[]).push({}) }, TypeError, 'the integration list cannot grow')
  t.throws(() => { (config.integrations[0]?.networks as string[]).push('0.0.0.0/0') }, TypeError, "an integration's networks cannot grow")
  const account = config.technicalAccounts.get('main') as TechnicalAccountConfig
  t.throws(() => { (account as { clientId: string }).clientId = 'other' }, TypeError, 'an account entry is frozen')
  t.throws(() => { (account.scopes as string[]).push('x') }, TypeError, "an account's scopes are frozen")
  t.throws(() => { (account.clientSecret as { value: string }).value = 'x' }, TypeError, "an account's secret source is frozen")
})

t.test('technicalAccounts: set, delete and clear throw', async t => {
  const accounts = parse(`${MINIMAL}technicalAccounts:\n  main: { clientId: id, clientSecret: s, scopes: [openid] }\n`).technicalAccounts as Map<string, unknown>
  const error = { name: 'TypeError', message: 'cannot modify a frozen configuration map' }
  t.throws(() => accounts.set('other', {}), error, 'no account can be added')
  t.throws(() => accounts.delete('main'), error, 'none removed')
  t.throws(() => accounts.clear(), error, 'nor all at once')
  t.same([...accounts.keys()], ['main'], 'the map is unchanged')
  t.ok(Object.isFrozen(accounts), 'and frozen as an object')
})

t.test('FrozenMap and deepFreeze on their own', async t => {
  const map = new FrozenMap([['a', 1], ['b', 2]])
  t.same([...map], [['a', 1], ['b', 2]], 'entries given at construction are kept, in order')
  t.equal(map.get('b'), 2, 'reads work as on a Map')
  t.ok(map instanceof Map, 'it is a Map for every consumer')
  const value = { a: { b: [{ c: 1 }] }, d: null, e: undefined, f: 'text' }
  t.equal(deepFreeze(value), value, 'deepFreeze returns its argument')
  t.ok(Object.isFrozen(value.a.b[0]), 'objects inside arrays inside objects are frozen')
})
