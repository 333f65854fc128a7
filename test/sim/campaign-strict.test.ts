// The simulator's strict switch: a bearer request still carrying a legacy
// credential (what a proxy that forgot to strip one would send) is faulted,
// one location at a time.
import type { OutgoingHttpHeaders } from 'node:http'
import t from 'tap'
import { DATABASE_ID_RESPONSE, getOption, imsToken, logon, startSims, CLIENT_OPERATOR, type LoggedOn } from '../fixtures/campaign-sims.js'
import { expectedFault, MESSAGES, outputXml } from '../fixtures/soap.js'
import { call } from '../fixtures/campaign-sims.js'

interface Parts {
  readonly sessionToken?: string
  readonly headers?: OutgoingHttpHeaders
  readonly header?: readonly (readonly [string, string])[]
}

interface Location {
  readonly location: string
  readonly carrying: (session: LoggedOn) => Parts
  readonly emptied: Parts
}

const LOCATIONS: readonly Location[] = [
  {
    location: 'first SOAP parameter',
    carrying: (s) => ({ sessionToken: s.sessionToken }),
    emptied: { sessionToken: '' },
  },
  {
    location: 'X-Security-Token header',
    carrying: (s) => ({ headers: { 'x-security-token': s.securityToken } }),
    emptied: { headers: { 'x-security-token': '' } },
  },
  {
    location: 'X-Session-Token header',
    carrying: (s) => ({ headers: { 'x-session-token': s.sessionToken } }),
    emptied: { headers: { 'x-session-token': '' } },
  },
  {
    location: '__sessiontoken cookie',
    carrying: (s) => ({ headers: { cookie: `campaign_lang=en; consent; __sessiontoken=${s.sessionToken}; _ga=GA1.2.3` } }),
    emptied: { headers: { cookie: 'campaign_lang=en; consent; __sessiontoken=; _ga=GA1.2.3' } },
  },
  {
    location: 'SOAP Header Cookie',
    carrying: (s) => ({ header: [['Cookie', `__sessiontoken=${s.sessionToken}`]] }),
    emptied: { header: [['Cookie', '__sessiontoken=']] },
  },
  {
    location: 'SOAP Header X-Security-Token',
    carrying: (s) => ({ header: [['X-Security-Token', s.securityToken]] }),
    emptied: { header: [['X-Security-Token', '']] },
  },
]

for (const { location, carrying, emptied } of LOCATIONS) {
  t.test(`strict: a bearer request with a leftover credential in the ${location} is faulted`, async t => {
    const { ims, campaign } = await startSims(t, { strict: true })
    const session = await logon(campaign, 'admin', 'admin')
    const bearer = { authorization: `Bearer ${await imsToken(ims)}` }
    const leftover = carrying(session)

    const refused = await getOption(campaign, { ...leftover, headers: { ...bearer, ...leftover.headers } })
    t.equal(refused.status, 500, 'the strict fault is answered with HTTP 500')
    t.equal(refused.text, expectedFault(MESSAGES.strict(location)), `the fault names the ${location}`)

    const clean = await getOption(campaign, { ...emptied, headers: { ...bearer, ...emptied.headers } })
    t.equal(clean.status, 200, 'the same request with the credential emptied is answered 200')
    t.equal(clean.text, DATABASE_ID_RESPONSE, 'and returns the option')

    campaign.strict = false
    const ignored = await call(campaign, { schema: 'xtk:session', method: 'GetUserInfo', sessionToken: leftover.sessionToken ?? '', ...(leftover.header === undefined ? {} : { header: leftover.header }) },
      { ...bearer, ...leftover.headers })
    t.equal(ignored.status, 200, 'with strict off the request carrying the leftover succeeds')
    t.match(outputXml(ignored.text, 'pUserInfo'), new RegExp(`^<userInfo [^>]*login="${CLIENT_OPERATOR}"`), 'as the technical account: the leftover admin session is ignored')
  })
}

t.test('strict: a bearer request with every legacy location present but empty succeeds', async t => {
  const { ims, campaign } = await startSims(t, { strict: true })
  const response = await getOption(campaign, {
    sessionToken: '  ',
    headers: { authorization: `Bearer ${await imsToken(ims)}`, 'x-security-token': '', 'x-session-token': ' ', cookie: '__sessiontoken=; other=1' },
    header: [['Cookie', '__sessiontoken='], ['X-Security-Token', '']],
  })
  t.equal(response.text, DATABASE_ID_RESPONSE, 'empty and blank credentials are not leftovers')
})

t.test('strict: native session requests are not concerned', async t => {
  const { campaign } = await startSims(t, { strict: true })
  const session = await logon(campaign, 'admin', 'admin')
  const response = await getOption(campaign, {
    sessionToken: session.sessionToken,
    headers: { 'x-session-token': session.sessionToken, 'x-security-token': session.securityToken, cookie: `__sessiontoken=${session.sessionToken}` },
    header: [['Cookie', `__sessiontoken=${session.sessionToken}`], ['X-Security-Token', session.securityToken]],
  })
  t.equal(response.text, DATABASE_ID_RESPONSE, 'a session request carrying its token everywhere is served')
})
