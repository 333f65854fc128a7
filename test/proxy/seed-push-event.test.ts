// Acceptance: the seed's "before migration" PushEvent, sent from an
// integration's network, reaches a strict, IMS-mandatory Campaign as the
// seed's "after migration" request.
import t from 'tap'
import { soapResponse } from '../../src/soap/envelope.js'
import { soapPost } from '../fixtures/http.js'
import { startProxyStack } from '../fixtures/proxy-stack.js'

const BEFORE = '<?xml version="1.0" encoding="utf-8"?>  <soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:nms:rtEvent">\n' +
  '<soapenv:Header/>\n<soapenv:Body>\n    <urn:PushEvent>\n        <urn:sessiontoken>SESSION_TOKEN</urn:sessiontoken>\n' +
  '        <urn:domEvent>\n            <!--You may enter ANY elements at this point-->\n            <rtEvent type="type" email="name@domain.com"/>\n' +
  '        </urn:domEvent>\n    </urn:PushEvent>\n</soapenv:Body>\n</soapenv:Envelope>'
const AFTER = BEFORE.replace('<urn:sessiontoken>SESSION_TOKEN</urn:sessiontoken>', '<urn:sessiontoken></urn:sessiontoken>')

t.test('the seed PushEvent is forwarded as the after-migration request', async t => {
  const stack = await startProxyStack(t, {
    integrations: '  - { name: website-events, networks: [127.0.0.1/32], technicalAccount: events }\n  - { name: crm, networks: [10.9.0.0/16], technicalAccount: marketing }',
  })
  const response = await soapPost(stack.soapRouter, BEFORE, { 'content-type': 'application/soap+xml; charset=utf-8' }, '"nms:rtEvent#PushEvent"')

  t.equal(response.status, 200, 'the client gets a success')
  t.equal(response.text, soapResponse('urn:nms:rtEvent', 'PushEvent', [{ name: 'plId', type: 'long', value: 73000001 }]), "the client gets the simulator's plId response unchanged")

  const received = stack.campaign.requests.filter(r => r.soapMethod === 'nms:rtEvent#PushEvent')
  t.equal(received.length, 1, 'Campaign received the call once')
  const upstream = received[0]
  t.equal(upstream?.body.toString('utf8'), AFTER, 'every body byte is identical except the emptied session token')
  t.equal(upstream?.headers['content-length'], String(Buffer.byteLength(AFTER)), 'Content-Length is exact for the rewritten body')
  t.equal(upstream?.headers['content-type'], 'application/soap+xml; charset=utf-8', 'the content type is forwarded verbatim')
  t.equal(upstream?.headers.soapaction, '"nms:rtEvent#PushEvent"', 'SOAPAction is forwarded verbatim')
  const events = await stack.server.tokens.get('events')
  const marketing = await stack.server.tokens.get('marketing')
  t.equal(upstream?.headers.authorization, `Bearer ${events.value}`, "the bearer is the mapped account's token")
  t.not(events.value, marketing.value, 'the other account holds a different token')
  t.equal(upstream?.headers['x-forwarded-for'], '127.0.0.1', "the caller's address travels in X-Forwarded-For")
  t.same(stack.campaign.events.map(e => [e.id, e.type, e.operator]), [[73000001, 'type', 'eventsclient@techacct.adobe.com']], "Campaign recorded the event for the technical account's operator")
})
