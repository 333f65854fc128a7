// Contract of POST /ims/token/v3: accepted form, response JSON, JWT shape and units, errors, secret rotation.
import { request as httpRequest } from 'node:http'
import t, { type Test } from 'tap'
import { DEFAULT_IMS_EXPIRES_IN_SECONDS, IMS_TOKEN_PATH, ImsSimulator } from '../../src/sim/ims.js'
import { TokenAuthority } from '../../src/sim/ims-tokens.js'
import { CLIENT_ID, SECRET, SCOPES, T0, VALID_FORM, decodeJwt, fakeClock, postToken, startIms, type TokenResponse } from './ims-helpers.js'

const NO_CACHE = 'no-cache, no-store'
const JSON_TYPE = 'application/json;charset=UTF-8'

async function expectError (t: Test, response: Response, status: number, body: { error: string, error_description: string }, why: string) {
  t.equal(response.status, status, `${why}: HTTP ${status}`)
  t.equal(response.headers.get('content-type'), JSON_TYPE, `${why}: the error is JSON, as IMS answers`)
  t.same(await response.json(), body, `${why}: exact error body`)
}

t.test('the four form fields get a bearer token: exact response JSON and headers', async t => {
  const clock = fakeClock()
  const sim = await startIms(t, { now: clock.now })
  t.equal(sim.tokenUrl, `${sim.url}${IMS_TOKEN_PATH}`, 'tokenUrl is the base URL plus /ims/token/v3')
  t.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'the simulator listens on loopback with an ephemeral port')

  const response = await postToken(sim)
  t.equal(response.status, 200, 'valid client credentials are answered 200')
  t.equal(response.headers.get('content-type'), JSON_TYPE, 'the success body is JSON')
  t.equal(response.headers.get('cache-control'), NO_CACHE, 'tokens must not be cached by intermediaries')
  const body = await response.json() as TokenResponse
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type'], 'the body has exactly access_token, token_type and expires_in')
  t.equal(body.token_type, 'bearer', 'token_type is lower-case "bearer" as IMS sends it')
  t.equal(body.expires_in, 86_399, 'expires_in is in SECONDS and defaults to just under 24 hours')
  t.equal(DEFAULT_IMS_EXPIRES_IN_SECONDS, 86_399, 'the exported default matches what IMS returns')
  t.equal(typeof body.access_token, 'string', 'access_token is a string')
  t.equal(body.access_token.split('.').length, 3, 'access_token is a three-segment JWT')
})

t.test('the form fields may come in any order; unknown extra fields are ignored', async t => {
  const sim = await startIms(t)
  const response = await fetch(sim.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `scope=${encodeURIComponent(SCOPES.join(','))}&client_secret=${SECRET}&extra=1&client_id=${CLIENT_ID}&grant_type=client_credentials`,
  })
  t.equal(response.status, 200, 'a bare application/x-www-form-urlencoded type (no charset) with reordered fields is accepted')
  const body = await response.json() as TokenResponse
  t.equal(body.token_type, 'bearer', 'and a bearer token is issued')
})

t.test('the JWT: RS256 header, payload fields and their units', async t => {
  const clock = fakeClock()
  const sim = await startIms(t, { now: clock.now })
  const body = await (await postToken(sim)).json() as TokenResponse
  const { header, payload } = decodeJwt(body.access_token)
  t.same(header, { alg: 'RS256', x5u: 'ims_na1-key-at-1.cer', kid: 'ims_na1-key-at-1', itt: 'at' }, 'the header names RS256 and the IMS signing key')
  t.equal(payload.type, 'access_token', 'type is access_token')
  t.equal(payload.client_id, CLIENT_ID, 'client_id is the requesting client')
  t.equal(payload.user_id, 'acmecampaignclient@techacct.adobe.com', 'user_id is the technical account email')
  t.ok(String(payload.user_id).endsWith('@techacct.adobe.com'), 'user_id is in the techacct.adobe.com domain')
  t.equal(payload.aa_id, payload.user_id, 'aa_id repeats the technical account')
  t.equal(payload.as, 'ims-na1', 'as names the IMS region')
  t.equal(payload.scope, 'AdobeID,openid,campaign_sdk', 'scope is the granted scopes joined with commas')
  t.equal(payload.created_at, String(T0), 'created_at is the injected clock in MILLISECONDS, as a string')
  t.equal(payload.expires_in, String(86_399 * 1000), 'expires_in in the payload is in MILLISECONDS, as a string')
  t.equal(payload.exp, undefined, 'there is no exp claim')
  t.match(payload.id, new RegExp(`^${T0}_[0-9a-f-]{36}_ue1$`), 'id is <created ms>_<uuid>_ue1')
  t.same(Object.keys(payload).sort(), ['aa_id', 'as', 'client_id', 'created_at', 'expires_in', 'id', 'scope', 'type', 'user_id'], 'no other claims are present')
  t.same(sim.authority.verify(body.access_token), { ok: true, claims: payload }, 'the simulator authority verifies its own token and returns the same claims')
})

t.test('expires_in is configurable through the option and the setter', async t => {
  const clock = fakeClock()
  const sim = await startIms(t, { now: clock.now, expiresInSeconds: 120 })
  t.equal(sim.expiresInSeconds, 120, 'the getter reflects the option')
  const first = await (await postToken(sim)).json() as TokenResponse
  t.equal(first.expires_in, 120, 'the response carries the configured seconds')
  t.equal(decodeJwt(first.access_token).payload.expires_in, '120000', 'the payload carries the same lifetime in milliseconds')

  sim.expiresInSeconds = 5
  t.equal(sim.expiresInSeconds, 5, 'the setter changes the lifetime')
  const second = await (await postToken(sim)).json() as TokenResponse
  t.equal(second.expires_in, 5, 'tokens issued after the change carry the new seconds')
  t.equal(decodeJwt(second.access_token).payload.expires_in, '5000', 'and the new lifetime in milliseconds')
  t.same(sim.authority.verify(first.access_token).ok, true, 'the earlier token keeps its own, longer lifetime')
  clock.advance(5000)
  t.same(sim.authority.verify(second.access_token), { ok: false, reason: 'expired' }, 'the 5 s token is expired after 5 s of injected time')
  t.equal(sim.authority.verify(first.access_token).ok, true, 'the 120 s token is still valid then')
})

t.test('scopes are comma-separated; spaces around them are trimmed and empty items skipped', async t => {
  const sim = await startIms(t)
  const subset = await postToken(sim, { ...VALID_FORM, scope: ' openid , ,campaign_sdk ' })
  t.equal(subset.status, 200, 'a subset of the allowed scopes, with blanks, is accepted')
  const body = await subset.json() as TokenResponse
  t.equal(decodeJwt(body.access_token).payload.scope, 'openid,campaign_sdk', 'the token carries only the requested scopes, normalised')

  await expectError(t, await postToken(sim, { ...VALID_FORM, scope: SCOPES.join(' ') }), 400,
    { error: 'invalid_scope', error_description: 'invalid scope (AdobeID openid campaign_sdk)' },
    'a space-separated list is one unknown scope')
})

t.test('errors: exact status and body of each refusal', async t => {
  const sim = await startIms(t)
  await expectError(t, await postToken(sim, { ...VALID_FORM, grant_type: 'authorization_code' }), 400,
    { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' }, 'another grant type')
  const { grant_type: _grant, ...noGrant } = VALID_FORM
  await expectError(t, await postToken(sim, noGrant), 400,
    { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' }, 'a missing grant_type')
  await expectError(t, await postToken(sim, { ...VALID_FORM, grant_type: 'password', client_id: 'nobody' }), 400,
    { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' }, 'the grant type is checked before the client')
  await expectError(t, await postToken(sim, { ...VALID_FORM, client_id: 'nobody' }), 400,
    { error: 'invalid_client', error_description: 'invalid client_id parameter' }, 'an unknown client_id')
  const { client_id: _id, ...noId } = VALID_FORM
  await expectError(t, await postToken(sim, noId), 400,
    { error: 'invalid_client', error_description: 'invalid client_id parameter' }, 'a missing client_id')
  await expectError(t, await postToken(sim, { ...VALID_FORM, client_secret: 'wrong-value!' }), 401,
    { error: 'invalid_client', error_description: 'invalid client_secret parameter' }, 'a wrong secret of the same length')
  await expectError(t, await postToken(sim, { ...VALID_FORM, client_secret: 'short' }), 401,
    { error: 'invalid_client', error_description: 'invalid client_secret parameter' }, 'a wrong secret of another length')
  const { client_secret: _secret, ...noSecret } = VALID_FORM
  await expectError(t, await postToken(sim, noSecret), 401,
    { error: 'invalid_client', error_description: 'invalid client_secret parameter' }, 'a missing secret')
  const { scope: _scope, ...noScope } = VALID_FORM
  await expectError(t, await postToken(sim, noScope), 400,
    { error: 'invalid_scope', error_description: 'scope parameter is missing' }, 'a missing scope')
  await expectError(t, await postToken(sim, { ...VALID_FORM, scope: ' , ' }), 400,
    { error: 'invalid_scope', error_description: 'scope parameter is missing' }, 'a scope made only of separators')
  await expectError(t, await postToken(sim, { ...VALID_FORM, scope: 'openid,read_pc,additional_info' }), 400,
    { error: 'invalid_scope', error_description: 'invalid scope (read_pc,additional_info)' }, 'scopes the client may not request are listed')
  t.equal(sim.tokensIssued(CLIENT_ID), 0, 'no refused request issued a token')
})

t.test('wrong content type, method and path', async t => {
  const sim = await startIms(t)
  await expectError(t, await fetch(sim.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(VALID_FORM) }), 400,
    { error: 'invalid_request', error_description: 'content type must be application/x-www-form-urlencoded' }, 'a JSON body')
  await expectError(t, await fetch(sim.tokenUrl, { method: 'POST' }), 400,
    { error: 'invalid_request', error_description: 'content type must be application/x-www-form-urlencoded' }, 'no content type at all')

  const get = await fetch(sim.tokenUrl)
  t.equal(get.headers.get('allow'), 'POST', 'the 405 names the allowed method')
  await expectError(t, get, 405, { error: 'invalid_request', error_description: 'method not allowed' }, 'GET on the token endpoint')

  await expectError(t, await fetch(`${sim.url}/ims/token/v2`, { method: 'POST', body: new URLSearchParams(VALID_FORM) }), 404,
    { error: 'not_found', error_description: 'unknown endpoint' }, 'an unknown path, even a neighbouring IMS version')
  await expectError(t, await fetch(`${sim.url}/`), 404, { error: 'not_found', error_description: 'unknown endpoint' }, 'the root path')
})

t.test('an oversized form is refused 413 before it is parsed', async t => {
  const sim = await startIms(t)
  const response = await fetch(sim.tokenUrl, { method: 'POST', body: new URLSearchParams({ ...VALID_FORM, padding: 'x'.repeat(64 * 1024) }) })
  t.equal(response.status, 413, 'a form above 64 KiB is answered 413')
  t.equal(await response.text(), 'Request body too large\n', 'with a plain-text explanation')
  t.equal(sim.tokensIssued(CLIENT_ID), 0, 'and no token is issued')
})

t.test('an authority that throws is answered 500, not a hung request', async t => {
  class BrokenAuthority extends TokenAuthority {
    override issue (): never { throw new Error('signing key unavailable') }
  }
  const sim = await startIms(t, { authority: new BrokenAuthority() })
  const response = await postToken(sim)
  t.equal(response.status, 500, 'a simulator failure is a 500')
  t.equal(await response.text(), 'Simulator error: signing key unavailable\n', 'the body names the failure')
})

t.test('two valid secrets at once; registerClient replacing them rotates', async t => {
  const sim = await startIms(t, { clients: [{ clientId: CLIENT_ID, secrets: ['old-secret-1', 'new-secret-2'], scopes: ['openid'] }] })
  const form = { grant_type: 'client_credentials', client_id: CLIENT_ID, scope: 'openid' }
  t.equal((await postToken(sim, { ...form, client_secret: 'old-secret-1' })).status, 200, 'the old secret works during the rotation')
  t.equal((await postToken(sim, { ...form, client_secret: 'new-secret-2' })).status, 200, 'the new secret works during the rotation')

  sim.registerClient({ clientId: CLIENT_ID, secrets: ['new-secret-2'], scopes: ['openid'] })
  await expectError(t, await postToken(sim, { ...form, client_secret: 'old-secret-1' }), 401,
    { error: 'invalid_client', error_description: 'invalid client_secret parameter' }, 'the old secret once rotated out')
  t.equal((await postToken(sim, { ...form, client_secret: 'new-secret-2' })).status, 200, 'the new secret keeps working after the rotation')

  sim.registerClient({ clientId: 'second-client', secrets: ['other'], scopes: ['AdobeID'] })
  t.equal((await postToken(sim, { grant_type: 'client_credentials', client_id: 'second-client', client_secret: 'other', scope: 'AdobeID' })).status, 200,
    'registerClient also adds a new client at run time')
})

t.test('registerClient copies its input: mutating the caller array later changes nothing', async t => {
  const secrets = [SECRET]
  const sim = await startIms(t, { clients: [{ clientId: CLIENT_ID, secrets, scopes: [...SCOPES] }] })
  secrets[0] = 'mutated'
  t.equal((await postToken(sim)).status, 200, 'the secret registered at start still works')
})

t.test('defaults: loopback host, ephemeral port, real clock', async t => {
  const sim = await ImsSimulator.start({ clients: [{ clientId: CLIENT_ID, secrets: [SECRET], scopes: [...SCOPES] }] })
  t.teardown(() => sim.close())
  t.match(sim.url, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/, 'without host/port the simulator binds 127.0.0.1 on an ephemeral port')
  const before = Date.now()
  const body = await (await postToken(sim)).json() as TokenResponse
  const createdAt = Number(decodeJwt(body.access_token).payload.created_at)
  t.ok(createdAt >= before && createdAt <= Date.now(), 'without `now`, created_at comes from the wall clock')
})

t.test('raw HTTP/1.1 client: the response is framed with content-length', async t => {
  const sim = await startIms(t)
  const payload = new URLSearchParams(VALID_FORM).toString()
  const { status, headers, text } = await new Promise<{ status: number | undefined, headers: Record<string, unknown>, text: string }>((resolve, reject) => {
    const req = httpRequest(sim.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(payload) } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
  t.equal(status, 200, 'the raw request succeeds')
  t.equal(headers['content-length'], String(Buffer.byteLength(text)), 'content-length matches the body exactly')
  t.equal(headers['transfer-encoding'], undefined, 'the body is not chunked')
})
