// Property: for envelopes written in any client style, the locator finds the
// method, the token and the SOAP Header credentials the generator wrote, and
// emptying them removes exactly their contents, nothing else.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import { emptyRanges, locateSoap } from '../../src/soap/locate.js'
import { envelopeArbitrary, expectedParams, limitsArbitrary, render, renderEmptied } from '../fixtures/soap-envelope-arbitrary.js'
import { credentialRanges } from '../fixtures/soap-locate.js'

t.test('generated envelopes are located and emptied exactly', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(envelopeArbitrary, limitsArbitrary, (envelope, limits) => {
    const input = Buffer.from(render(envelope))
    const result = locateSoap(input, true, { ...limits, maxParams: Math.max(1, limits.maxParams) })
    const expected = expectedParams(envelope, Math.max(1, limits.maxParams), limits.maxParamBytes)
    assert.equal(result.kind, 'found', 'the method is found')
    assert.ok(result.kind === 'found')
    const { location } = result
    assert.equal(location.urn, envelope.urn, 'the urn is the generated one')
    assert.equal(location.soapMethod, `${envelope.urn.slice(4)}#${envelope.method}`, 'the SOAP method is the generated one')
    assert.equal(location.soapVersion, envelope.soapVersion, 'the SOAP version is the generated one')
    assert.equal(location.params.length, expected.count, 'the parameters up to maxParams or one over its budget are located')
    assert.equal(location.paramsComplete, expected.complete, 'the location says whether parameters were left unread')
    const token = location.params[0]
    assert.equal(token?.qname, envelope.tokenName, 'the first parameter is the token')
    assert.equal(token.content === undefined ? undefined : token.text, envelope.token.text, 'the token text is the generated one')
    assert.equal(location.headerCookie === undefined ? undefined : location.headerCookie.content === undefined ? undefined : location.headerCookie.text,
      envelope.cookie?.text, 'the Header Cookie text is the generated one')
    assert.equal(location.headerCookie === undefined, envelope.cookie === undefined, 'a Header Cookie is located when one was written')
    assert.equal(location.headerSecurityToken === undefined, envelope.securityToken === undefined, 'a Header X-Security-Token is located when one was written')
    assert.equal(location.headerSecurityToken?.content === undefined ? undefined : location.headerSecurityToken.text,
      envelope.securityToken?.text, 'the Header X-Security-Token text is the generated one')
    assert.ok(location.headLength <= input.length, 'the head is within the input')
    const output = emptyRanges(input, credentialRanges(location))
    assert.equal(output.toString(), renderEmptied(envelope), 'exactly the credential contents are removed')
  }), { numRuns: 300 }), 'every generated envelope is located and emptied as written')
})
