// Which method a request names besides its Body: every one must be the
// Body's, and a session call is recognised in its canonical spelling only.
import t from 'tap'
import { checkDispatch } from '../../src/soap/dispatch.js'
import { ProxyFault } from '../../src/soap/faults.js'
import { locate } from '../fixtures/soap-locate.js'
import { soapEnvelope } from '../fixtures/soap.js'

const getOption = locate(soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'x']] }))

function outcome (named: { soapAction?: string | string[], contentType?: string, query?: string }, location = getOption): string {
  try {
    checkDispatch(location, { soapAction: named.soapAction, contentType: named.contentType, query: named.query ?? '' })
    return 'ok'
  } catch (err) {
    if (!(err instanceof ProxyFault)) throw err
    return err.fault
  }
}

t.test('actions named outside the Body', async t => {
  t.equal(outcome({}), 'ok', 'none named')
  t.equal(outcome({ soapAction: ' "xtk:session#GetOption" ' }), 'ok', 'quoted, with spaces')
  t.equal(outcome({ soapAction: 'URN:xtk:session#GetOption' }), 'ok', 'a urn: prefix in any case')
  t.equal(outcome({ soapAction: ['xtk:session#GetOption', '""'] }), 'ok', 'repeated, one empty')
  t.equal(outcome({ soapAction: ['xtk:session#GetOption', 'xtk:session#Logon'] }), 'actionMismatch', 'repeated, one naming another method')
  t.equal(outcome({ contentType: 'application/soap+xml; charset=utf-8' }), 'ok', 'a media type without action')
  t.equal(outcome({ contentType: 'application/soap+xml;action=xtk:session#GetOption;charset=utf-8' }), 'ok', 'an unquoted action parameter')
  t.equal(outcome({ contentType: 'application/soap+xml; ACTION="xtk:session#Logon"' }), 'actionMismatch', 'a quoted action naming another method')
  t.equal(outcome({ query: 'a=1&SOAPACTION=xtk%3Asession%23GetOption' }), 'ok', 'the query parameter in any case')
  t.equal(outcome({ query: 'soapAction=xtk%3Asession%23GetOption&soapAction=xtk%3Asession%23Logon' }), 'actionMismatch', 'a second query parameter naming another method')
  t.equal(outcome({ query: 'schema=nms:rtEvent' }), 'ok', 'a query without soapAction')
})

t.test('session calls in their canonical spelling only', async t => {
  const call = (urn: string, method: string): ReturnType<typeof locate> =>
    locate(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:${method} xmlns:m="${urn}"><sessiontoken/></m:${method}></s:Body></s:Envelope>`)
  for (const method of ['Logon', 'Logoff', 'BearerTokenLogon']) t.equal(outcome({}, call('urn:xtk:session', method)), 'ok', `xtk:session#${method}`)
  const spellings: ReadonlyArray<readonly [string, string]> = [['urn:xtk:Session', 'Logon'], ['urn:xtk:session ', 'Logoff'], ['urn: xtk:session', 'Logon'], ['urn:xtk:session', 'LOGON'], ['urn:xtk:persist|xtk:session', 'BearerTokenLogon'], ['urn:XTK:SESSION|xtk:persist', 'logoff']]
  for (const [urn, method] of spellings) {
    t.equal(outcome({}, call(urn, method)), 'badStructure', `${urn} ${method} is refused`)
  }
  t.equal(outcome({}, call('urn:xtk:sessions', 'Logon')), 'ok', 'another schema\'s Logon is not a session call')
  t.equal(outcome({}, call('urn:xtk:Session', 'Write')), 'ok', 'another method of a differently spelt schema is Campaign\'s to refuse')
})
