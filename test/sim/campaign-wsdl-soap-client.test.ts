// A generic WSDL-driven SOAP client (the `soap` package) consumes the
// simulator's nms:rtEvent WSDL and calls PushEvent with it.
import soap from 'soap'
import t from 'tap'
import { CampaignSimulator } from '../../src/sim/campaign.js'

t.test('the soap client builds PushEvent from the WSDL and reads plId back', async t => {
  const campaign = await CampaignSimulator.start({ allowUserPassword: true })
  t.teardown(() => campaign.close())
  const client = await soap.createClientAsync(`${campaign.url}/nl/jsp/schemawsdl.jsp?schema=nms:rtEvent`)
  t.same(Object.keys(client.describe().rtEventService.rtEventMethodsSoap as object).sort(), ['PushEvent', 'PushEvents'], 'the WSDL describes the schema methods')
  const [result] = await client.PushEventAsync({ sessiontoken: 'mc/mc-password', domEvent: { rtEvent: { attributes: { type: 'welcome', email: 'ann@example.com' } } } }) as [{ plId: { $value: number } }]
  t.equal(result.plId.$value, 73000001, 'the client reads the event id from the response')
  t.same(campaign.events.map(e => [e.type, e.attributes.email, e.operator]), [['welcome', 'ann@example.com', 'mc']], 'the event reached the simulator')
  t.equal(campaign.requests.at(-1)?.headers.soapaction, '"nms:rtEvent#PushEvent"', "the client used the WSDL's soapAction")
})
