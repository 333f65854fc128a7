// The least-privilege decision alone, table-driven (no HTTP).
import t from 'tap'
import { leastPrivilegeRefusal } from '../../src/auth/least-privilege.js'
import { allowsMethod, allowsPath } from '../../src/config/allow-list.js'
import type { IntegrationConfig } from '../../src/config/types.js'

const ROUTER = '/nl/jsp/soaprouter.jsp'
const WSDL = '/nl/jsp/schemawsdl.jsp'

function integration (allowedMethods: readonly string[] | undefined, allowedPaths: readonly string[] | undefined): IntegrationConfig {
  return { name: 'web', mode: 'ims', login: undefined, passwordHash: undefined, networks: [], clientCertificates: [], technicalAccount: 'main', allowedMethods, allowedPaths }
}

const OPEN = integration(undefined, undefined)
const EVENTS = integration(['nms:rtEvent#PushEvent'], undefined)
const WILDCARD = integration(['nms:rtEvent#*'], ['/nl/jsp/mcPing.jsp', '/custom/*'])
const PATHS_ONLY = integration(undefined, ['/r/test'])

const CASES: ReadonlyArray<readonly [string, IntegrationConfig, string, string | undefined, 'method' | 'path' | undefined]> = [
  ['no lists: any method', OPEN, ROUTER, 'xtk:session#Write', undefined],
  ['no lists: any path', OPEN, '/xtk/anything', undefined, undefined],
  ['listed method', EVENTS, ROUTER, 'nms:rtEvent#PushEvent', undefined],
  ['method not listed', EVENTS, ROUTER, 'xtk:session#Write', 'method'],
  ['a longer name is another method', EVENTS, ROUTER, 'nms:rtEvent#PushEvents', 'method'],
  ['names compared exactly', EVENTS, ROUTER, 'nms:rtevent#PushEvent', 'method'],
  ['Logon always allowed', EVENTS, ROUTER, 'xtk:session#Logon', undefined],
  ['Logoff always allowed', EVENTS, ROUTER, 'xtk:session#Logoff', undefined],
  ['a router request without a method (GET)', EVENTS, ROUTER, undefined, undefined],
  ['the WSDL always allowed', EVENTS, WSDL, undefined, undefined],
  ['allowedMethods alone: no other path', EVENTS, '/r/test', undefined, 'path'],
  ['wildcard: any method of the schema', WILDCARD, ROUTER, 'nms:rtEvent#PushEvents', undefined],
  ['wildcard: not another schema', WILDCARD, ROUTER, 'nms:rtEventX#PushEvent', 'method'],
  ['listed path', WILDCARD, '/nl/jsp/mcPing.jsp', undefined, undefined],
  ['a folder entry covers what is under it', WILDCARD, '/custom/a/b', undefined, undefined],
  ['a folder entry is not a prefix of another name', WILDCARD, '/customer', undefined, 'path'],
  ['path not listed', WILDCARD, '/nl/jsp/ping.jsp', undefined, 'path'],
  ['allowedPaths alone: every method', PATHS_ONLY, ROUTER, 'xtk:session#Write', undefined],
  ['allowedPaths alone: listed path', PATHS_ONLY, '/r/test', undefined, undefined],
  ['allowedPaths alone: other path', PATHS_ONLY, '/nl/jsp/mcPing.jsp', undefined, 'path'],
]

t.test('each call against each kind of list', async t => {
  for (const [what, config, path, method, expected] of CASES) t.equal(leastPrivilegeRefusal(config, path, method), expected, what)
})

t.test('the matchers', async t => {
  t.ok(allowsMethod(['a:b#*'], 'a:b#C'), 'schema wildcard')
  t.notOk(allowsMethod(['a:b#*'], 'no-hash'), 'a method without # never matches a wildcard')
  t.ok(allowsPath(['/x/*'], '/x/'), 'the folder itself')
  t.notOk(allowsPath(['/x/*'], '/x'), 'not the name without its slash')
})
