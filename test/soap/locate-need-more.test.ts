// A head that ends too early needs more bytes; once found, more bytes never
// change the answer; on a complete body, a truncated head is not XML.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import { locateSoap } from '../../src/soap/locate.js'
import { envelopeArbitrary, limitsArbitrary, render } from '../fixtures/soap-envelope-arbitrary.js'
import { locate, outcome } from '../fixtures/soap-locate.js'

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/'
const BODY = `\uFEFF<?xml version="1.0" encoding="utf-8"?><!-- c --><?pi x?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP11}">` +
  '<SOAP-ENV:Header><Cookie a=\'1\'>__sessiontoken=a&amp;b</Cookie><X-Security-Token/></SOAP-ENV:Header>' +
  '<SOAP-ENV:Body><m:Logon xmlns:m="urn:xtk:session"><sessiontoken xsi:type="xsd:string"><![CDATA[t]]><?p?></sessiontoken>' +
  '<login>u</login><password>p</password><parameters><x/></parameters></m:Logon></SOAP-ENV:Body></SOAP-ENV:Envelope>'

t.test('every prefix shorter than the head needs more, and is not XML when complete', async t => {
  const bytes = Buffer.from(BODY)
  const { headLength } = locate(bytes)
  const incomplete: number[] = []
  const truncated: number[] = []
  for (let length = 0; length < headLength; length++) {
    if (outcome(bytes.subarray(0, length), false) !== 'need-more') incomplete.push(length)
    if (outcome(bytes.subarray(0, length), true) !== 'notXml') truncated.push(length)
  }
  t.same(incomplete, [], 'no prefix shorter than the head is decided')
  t.same(truncated, [], 'every such prefix, taken as the whole body, is refused as notXml')
})

t.test('the head, and any longer prefix, gives the whole body its location', async t => {
  const bytes = Buffer.from(BODY)
  const whole = locate(bytes)
  const differing: number[] = []
  for (let length = whole.headLength; length <= bytes.length; length++) {
    const result = locateSoap(bytes.subarray(0, length), false)
    if (result.kind !== 'found' || JSON.stringify(result.location) !== JSON.stringify(whole)) differing.push(length)
  }
  t.same(differing, [], 'every prefix from the head on is found at the same location')
  t.equal(outcome(Buffer.concat([bytes.subarray(0, whole.headLength), Buffer.from('<<< garbage')]), false), 'found', 'bytes after the head are not read')
})

t.test('partial markup needs more, and refusals do not wait', async t => {
  t.equal(outcome(Buffer.from([0xef, 0xbb]), false), 'need-more', 'a partial UTF-8 BOM needs more')
  t.equal(outcome(Buffer.from([0xfe]), false), 'need-more', 'a partial UTF-16 BOM needs more')
  t.equal(outcome(Buffer.from([0xfe, 0xff]), false), 'unsupportedEncoding', 'a whole UTF-16 BOM is refused at once')
  t.equal(outcome('<!DOC', false), 'need-more', 'a partial DOCTYPE needs more')
  t.equal(outcome('<!DOCTYPE', false), 'doctype', 'a DOCTYPE is refused before its end is read')
  t.equal(outcome('<!EN', false), 'need-more', 'a partial ENTITY needs more')
  t.equal(outcome('<!-', false), 'need-more', 'a partial comment opening needs more')
  t.equal(outcome('<', false), 'need-more', 'a lone "<" needs more')
  t.equal(outcome('<x', false), 'need-more', 'a name that may go on needs more')
  t.equal(outcome('<x ', false), 'need-more', 'a root start tag is read whole before it is judged')
  t.equal(outcome('<x>', false), 'notXml', 'a root that is not Envelope is refused once its start tag is read')
  t.equal(outcome('hello', false), 'notXml', 'garbage is refused at once')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:X xmlns:m="urn:a"><t>a &amp`, false), 'need-more', 'a reference cut in the token needs more')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:X xmlns:m="urn:a"><t><![CDATA[a`, false), 'need-more', 'a CDATA section cut in the token needs more')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:X xmlns:m="urn:a"><t a="1" /`, false), 'need-more', 'a cut self-closing tag needs more')
  t.equal(outcome(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><m:X xmlns:m="urn:a"><t>x</t `, false), 'need-more', 'a cut end tag needs more')
})

t.test('every prefix of a generated envelope needs more or gives the same location', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(envelopeArbitrary, limitsArbitrary, (envelope, limits) => {
    const input = Buffer.from(render(envelope))
    const whole = JSON.stringify(locateSoap(input, true, limits))
    for (let length = 0; length < input.length; length++) {
      const result = locateSoap(input.subarray(0, length), false, limits)
      if (result.kind === 'found') assert.equal(JSON.stringify(result), whole, `the prefix of ${length} bytes gives the same location`)
      else assert.ok(length < JSON.parse(whole).location.headLength, `the prefix of ${length} bytes needs more only before the head ends`)
    }
  }), { numRuns: 30 }), 'no prefix is decided differently from the whole body')
})
