// Logons under concurrency, on the wire: 200 wrong passwords and the right
// one at once from one address have 3 evaluated and leave the login locked;
// guesses from 100 addresses have 20 evaluated and lock the login for new
// addresses but not for the one it logged on from; a locked answer is the
// wrong password's answer (body equal but for the request id); a flood of
// 300 wrong Logons leaves another integration's Logon and a network
// integration's calls fast, because scrypt runs two at a time, the logins
// in turn, each login's guesses are bounded, and the overflow is refused at
// once with 503.
import { Agent, request } from 'node:http'
import { connect } from 'node:net'
import t from 'tap'
import { hashPassword } from '../../src/auth/passwords.js'
import { PROXY_FAULTS } from '../../src/soap/faults.js'
import { send, type HttpResult } from '../fixtures/http.js'
import { startProxyStack, type ProxyStack } from '../fixtures/proxy-stack.js'
import { outputText, soapEnvelope } from '../fixtures/soap.js'

const PASSWORD = 'crm-secret-pw'
const ETL_PASSWORD = 'etl-secret-pw'

function logon (s: ProxyStack, password: string, from = '127.0.0.1', login = 'crm_operator'): Promise<HttpResult> {
  const body = soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', login], ['password', password], ['parameters', { xml: '' }]] })
  return send(s.soapRouter, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'xtk:session#Logon' }, body, localAddress: from })
}

/** `logons_total` of `integration`, by result. */
async function logons (s: ProxyStack, integration: string): Promise<Record<string, number>> {
  const text = (await send(`${s.server.adminUrl}/metrics`)).text
  const counts: Record<string, number> = {}
  for (const [, result, value] of text.matchAll(new RegExp(`campaign_ims_proxy_logons_total\\{integration="${integration}",result="(\\w+)"\\} (\\d+)`, 'g'))) counts[result as string] = Number(value)
  return counts
}

/** A fault answer as a client compares it: status, content type and body, the request id taken out. */
function answerOf (response: HttpResult): { status: number, type: string | undefined, body: string } {
  return { status: response.status, type: response.headers['content-type'], body: response.text.replaceAll(String(response.headers['x-request-id']), '<request id>') }
}

async function until (condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000 && !await condition(); i++) await new Promise(resolve => setTimeout(resolve, 10))
}

const failedLogonLines = (s: ProxyStack): number => s.logs.filter(line => line.includes('"msg":"failed logon"')).length

t.test('200 wrong passwords and the right one at once from one address: 3 evaluated, the login ends locked', async t => {
  // The default scrypt parameters: each run takes real time, so the checks overlap.
  const hash = await hashPassword(PASSWORD)
  const s = await startProxyStack(t, { integrations: `  - { name: crm, login: crm_operator, passwordHash: '${hash}', technicalAccount: marketing }` })
  const wrong = Array.from({ length: 200 }, (_, i) => logon(s, `wrong-${i}`))
  // Once one check was answered 'locked', the three places of this login+address are taken (in progress or failed).
  await until(async () => ((await logons(s, 'crm')).locked ?? 0) >= 1)
  const right = logon(s, PASSWORD)
  const answers = [...await Promise.all(wrong), await right]
  t.same(await logons(s, 'crm'), { failure: 3, locked: 198 }, 'scrypt ran for 3 of the 201; the other 198, the right password among them, were locked')
  t.equal(failedLogonLines(s), 3, "three 'failed logon' lines")
  const expected = answerOf(answers[0] as HttpResult)
  t.same(expected.status, PROXY_FAULTS.invalidLogin.status, 'the answer is the invalid-login fault')
  t.match(expected.body, PROXY_FAULTS.invalidLogin.message, "with Campaign's message")
  t.ok(answers.every(a => JSON.stringify(answerOf(a)) === JSON.stringify(expected)), 'every answer, evaluated or locked, is the same but for its request id')
  const after = await logon(s, PASSWORD)
  t.same(answerOf(after), expected, 'afterwards the right password gets exactly what a wrong one gets')
  t.equal(s.campaign.requests.filter(r => r.soapMethod === 'xtk:session#Logon').length, 0, 'no Logon reached Campaign')
})

t.test('300 wrong passwords from 100 addresses: 20 evaluated; the login is locked for new addresses, not for the one it logged on from', async t => {
  let offset = 0
  const hash = await hashPassword(PASSWORD, { N: 1024 })
  const s = await startProxyStack(t, {
    integrations: `  - { name: crm, login: crm_operator, passwordHash: '${hash}', technicalAccount: marketing }`,
    hooks: { now: () => Date.now() + offset },
    // Queues deep enough that no guess is refused as busy: only the lockout counts here. The lock outlasts the 5-minute verification cache.
    extra: 'lockout: { lockSeconds: 900 }\nlimits: { passwordCheckQueueDepth: 400, passwordCheckQueueDepthPerLogin: 400 }',
  })
  t.match(outputText((await logon(s, PASSWORD, '127.0.0.5')).text, 'pstrSessionToken'), /^___/, 'the integration logs on from its address')
  offset = 301_000
  const guesses: Promise<HttpResult>[] = []
  for (let a = 1; a <= 100; a++) for (let g = 0; g < 3; g++) guesses.push(logon(s, `guess-${a}-${g}`, `127.0.1.${a}`))
  const answers = await Promise.all(guesses)
  t.same(await logons(s, 'crm'), { success: 1, failure: 20, locked: 280 }, 'scrypt ran for 20 guesses; 280 were locked')
  t.equal(failedLogonLines(s), 20, "twenty 'failed logon' lines")
  t.ok(s.logs.some(line => line.includes('"msg":"failed logon"') && line.includes('"loginLocked":true')), 'the last says the login is locked')
  const expected = answerOf(answers[0] as HttpResult)
  t.ok(answers.every(a => JSON.stringify(answerOf(a)) === JSON.stringify(expected)), 'every guess got the same answer')
  t.same(answerOf(await logon(s, PASSWORD, '127.0.2.1')), expected, 'the right password from a new address: the same answer')
  t.match(outputText((await logon(s, PASSWORD, '127.0.0.5')).text, 'pstrSessionToken'), /^___/, 'from the address it logged on from: a session')
  t.same(answerOf(await logon(s, PASSWORD, '127.0.2.2')), expected, 'the pair verified again does not open the lock to new addresses')
  offset += 900_000
  t.match(outputText((await logon(s, PASSWORD, '127.0.2.2')).text, 'pstrSessionToken'), /^___/, 'once the lock ends, a new address logs on')
})

t.test('a flood of 300 wrong Logons on three logins from 100 addresses: another integration logs on within 5 s, a network integration keeps p99 under 1 s', async t => {
  const logins = ['crm_operator', 'web_operator', 'mc_operator']
  // The default scrypt parameters: what the gate and the per-login budget protect is real scrypt time.
  const hashes = await Promise.all([...logins, 'etl_operator'].map(login => hashPassword(`${login}-pw`)))
  const s = await startProxyStack(t, {
    integrations: [
      ...logins.map((login, i) => `  - { name: flooded-${i}, login: ${login}, passwordHash: '${hashes[i] as string}', technicalAccount: marketing }`),
      `  - { name: etl, login: etl_operator, passwordHash: '${hashes[3] as string}', technicalAccount: marketing }`,
      '  - { name: batch, networks: [127.0.0.3/32], technicalAccount: events }',
    ].join('\n'),
  })
  // The network integration's connections are open already, as a running integration's are.
  const agent = new Agent({ keepAlive: true, maxSockets: 10, localAddress: '127.0.0.3' })
  t.teardown(() => { agent.destroy() })
  const getOption = soapEnvelope({ schema: 'xtk:session', method: 'GetOption', params: [['name', 'XtkDatabaseId']] })
  const call = (): Promise<number> => new Promise((resolve, reject) => {
    const req = request(s.soapRouter, { method: 'POST', agent, headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(getOption) } }, response => {
      response.resume()
      response.on('end', () => { resolve(response.statusCode ?? 0) })
    })
    req.on('error', reject)
    req.end(getOption)
  })
  await Promise.all(Array.from({ length: 10 }, call))

  const flood: Promise<RawAnswer>[] = []
  for (let a = 1; a <= 100; a++) for (const login of logins) flood.push(rawLogon(s, login, `wrong-${a}`, `127.0.1.${a}`))
  const startedAt = performance.now()
  const etl = logon(s, 'etl_operator-pw', '127.0.0.2', 'etl_operator').then(response => ({ response, ms: performance.now() - startedAt }))
  const latencies: number[] = []
  const statuses: number[] = []
  await Promise.all(Array.from({ length: 10 }, async () => {
    for (let i = 0; i < 10; i++) {
      const callStartedAt = performance.now()
      statuses.push(await call())
      latencies.push(performance.now() - callStartedAt)
    }
  }))
  const [etlLogon, floodAnswers] = await Promise.all([etl, Promise.all(flood)])
  t.match(outputText(etlLogon.response.text, 'pstrSessionToken'), /^___/, "the other integration's first Logon succeeds")
  t.ok(etlLogon.ms < 5000, `within 5 s during the flood (${Math.round(etlLogon.ms)} ms)`)
  t.same([...new Set(statuses)], [200], "the network integration's 100 calls are answered by Campaign")
  const p99 = latencies.sort((a, b) => a - b)[Math.ceil(latencies.length * 0.99) - 1] as number
  t.ok(p99 < 1000, `with p99 under 1 s (${Math.round(p99)} ms)`)
  const busy = floodAnswers.filter(a => a.status === PROXY_FAULTS.overloaded.status)
  const refused = floodAnswers.filter(a => a.status === PROXY_FAULTS.invalidLogin.status)
  t.equal(busy.length + refused.length, 300, 'each flood Logon is refused: as a wrong password, or as busy')
  t.ok(refused.every(a => a.text.includes(PROXY_FAULTS.invalidLogin.message)), 'the invalid-login fault')
  t.ok(busy.every(a => a.retryAfter === '1' && a.text.includes(PROXY_FAULTS.overloaded.message)), 'busy: 503 with Retry-After')
  for (let i = 0; i < logins.length; i++) {
    const counts = await logons(s, `flooded-${i}`)
    t.ok((counts.failure as number) <= 20, `flooded-${i}: scrypt ran for at most 20 of its 100 guesses, the login's budget (${counts.failure})`)
  }
  const metrics = (await send(`${s.server.adminUrl}/metrics`)).text
  t.match(metrics, 'campaign_ims_proxy_password_checks{state="running"} 0', 'no check left running')
  t.match(metrics, 'campaign_ims_proxy_password_checks{state="queued"} 0', 'none left waiting')
})

t.test('past the queues a check is refused at once: 503, Retry-After, PRX-000014; nothing counted against the login', async t => {
  // p=8: one check takes eight scrypt rounds (the better part of a second), so the second Logon surely comes while it runs.
  const [slow, other] = await Promise.all([hashPassword(PASSWORD, { p: 8 }), hashPassword(ETL_PASSWORD, { N: 1024 })])
  const s = await startProxyStack(t, {
    integrations: `  - { name: crm, login: crm_operator, passwordHash: '${slow}', technicalAccount: marketing }\n  - { name: etl, login: etl_operator, passwordHash: '${other}', technicalAccount: marketing }`,
    extra: 'limits: { maxConcurrentPasswordChecks: 1, passwordCheckQueueDepth: 0, passwordCheckQueueDepthPerLogin: 0 }',
  })
  const first = logon(s, PASSWORD)
  await until(async () => (await send(`${s.server.adminUrl}/metrics`)).text.includes('campaign_ims_proxy_password_checks{state="running"} 1'))
  const refused = await logon(s, ETL_PASSWORD, '127.0.0.2', 'etl_operator')
  t.equal(refused.status, PROXY_FAULTS.overloaded.status, 'another login is refused while the one check runs (no queue)')
  t.equal(refused.headers['retry-after'], '1', 'with Retry-After')
  t.match(refused.text, PROXY_FAULTS.overloaded.message, 'and the overloaded fault')
  t.match(refused.text, 'limits.passwordCheckQueueDepth', 'naming the limits')
  t.match(outputText((await first).text, 'pstrSessionToken'), /^___/, 'the running check completes')
  t.match(outputText((await logon(s, ETL_PASSWORD, '127.0.0.2', 'etl_operator')).text, 'pstrSessionToken'), /^___/, 'then the refused one logs on: its refusal was not a failure')
  t.same(await logons(s, 'etl'), { busy: 1, success: 1 }, 'counted as busy, then success')
})

interface RawAnswer { readonly status: number, readonly retryAfter: string | undefined, readonly text: string }

/** A Logon as a cheap flooding client sends it: one connection, the request written at once, the answer read until the proxy closes. */
function rawLogon (s: ProxyStack, login: string, password: string, from: string): Promise<RawAnswer> {
  const body = soapEnvelope({ schema: 'xtk:session', method: 'Logon', params: [['login', login], ['password', password], ['parameters', { xml: '' }]] })
  const head = `POST /nl/jsp/soaprouter.jsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nSOAPAction: xtk:session#Logon\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`
  const { hostname, port } = new URL(s.soapRouter)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    // Written, not ended: a client that closes its side is one that left, and gets no answer.
    const socket = connect({ host: hostname, port: Number(port), localAddress: from }, () => { socket.write(head + body) })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      resolve({ status: Number(text.slice(9, 12)), retryAfter: /\r\nretry-after: ([^\r]*)/i.exec(text)?.[1], text })
    })
  })
}
