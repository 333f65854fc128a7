// The exact bytes the Campaign simulator answers: Campaign's envelope
// (SOAP-ENV: prefix, unprefixed <XResponse xmlns='urn:...'>, xsi types,
// single quotes), faults, and their HTTP status.
import t from 'tap'
import { soapResponse } from '../../src/soap/envelope.js'
import { call, DATABASE_ID, DATABASE_ID_RESPONSE, getOption, logon, startSims } from '../fixtures/campaign-sims.js'
import { elementOut, expectedFault, expectedResponse, MESSAGES, scalarOut } from '../fixtures/soap.js'

t.test('GetOption: exact response bytes and headers', async t => {
  const { campaign } = await startSims(t)
  const { sessionToken } = await logon(campaign, 'admin', 'admin')
  const response = await getOption(campaign, { sessionToken })
  const expected = "<?xml version='1.0'?>\n" +
    "<SOAP-ENV:Envelope xmlns:xsd='http://www.w3.org/2001/XMLSchema' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:ns='urn:xtk:session' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'>\n" +
    '<SOAP-ENV:Body>\n' +
    "<GetOptionResponse xmlns='urn:xtk:session' SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/'>\n" +
    `<pstrValue xsi:type='xsd:string'>${DATABASE_ID}</pstrValue>\n` +
    "<pbtType xsi:type='xsd:byte'>6</pbtType>\n" +
    '</GetOptionResponse>\n' +
    '</SOAP-ENV:Body>\n' +
    '</SOAP-ENV:Envelope>\n'
  t.equal(response.status, 200, 'the call is answered 200')
  t.equal(response.text, expected, 'the body is exactly the Campaign-shaped GetOptionResponse')
  t.equal(response.headers['content-type'], 'text/xml;charset=utf-8', 'the content type is text/xml;charset=utf-8')
  t.equal(response.headers['content-length'], String(Buffer.byteLength(expected)), 'the content length is the body length')
  t.equal(DATABASE_ID_RESPONSE, expected, 'the fixture used by the other tests spells the same bytes')
})

t.test('GetOption: configured options, escaping, and a missing option', async t => {
  const { campaign } = await startSims(t, { options: { NmsEmail_DefaultErrorAddr: 'errors@acme.test', Weird: 'a<b & "c" \'d\'' } })
  const { sessionToken } = await logon(campaign, 'admin', 'admin')
  const configured = await getOption(campaign, { sessionToken, name: 'NmsEmail_DefaultErrorAddr' })
  t.equal(configured.text, expectedResponse('urn:xtk:session', 'GetOption', [scalarOut('pstrValue', 'string', 'errors@acme.test'), scalarOut('pbtType', 'byte', 6)]),
    'a configured option is returned as a string (type 6)')
  const escaped = await getOption(campaign, { sessionToken, name: 'Weird' })
  t.equal(escaped.text, expectedResponse('urn:xtk:session', 'GetOption', [scalarOut('pstrValue', 'string', 'a&lt;b &amp; &quot;c&quot; &apos;d&apos;'), scalarOut('pbtType', 'byte', 6)]),
    'markup characters in a value are escaped')
  const missing = await getOption(campaign, { sessionToken, name: 'NoSuchOption' })
  t.equal(missing.text, expectedResponse('urn:xtk:session', 'GetOption', [scalarOut('pstrValue', 'string', ''), scalarOut('pbtType', 'byte', 0)]),
    'a missing option answers an empty value of type 0')
  t.equal((await getOption(campaign, { sessionToken, name: '' })).text, missing.text, 'so does an empty option name')
  const noName = await call(campaign, { schema: 'xtk:session', method: 'GetOption', sessionToken })
  t.equal(noName.text, missing.text, 'and a GetOption without the name parameter')
})

t.test('Logon: the whole response, with serverInfo and userInfo', async t => {
  const { campaign } = await startSims(t, { instanceName: 'acme_mkt_prod2', buildNumber: '9999', databaseId: 'u0123456789ABCDEF', sessionTimeoutSeconds: 3600 })
  const { response, sessionToken, securityToken } = await logon(campaign, 'admin', 'admin')
  const sessionInfo = '<sessionInfo><serverInfo advisedClientBuildNumber="0" allowSQL="false" buildNumber="9999" commitId="c0ffee1" databaseId="u0123456789ABCDEF" ' +
    'defaultNameSpace="cus" fohVersion="2" instanceName="acme_mkt_prod2" majNumber="8" minClientBuildNumber="9999" minNumber="6" minNumberTechnical="0" ' +
    'releaseName="8.6" securityTimeOut="3600" serverDate="2026-11-23 09:00:00.000Z" servicePack="2" sessionTimeOut="3600" useVault="false"/>' +
    '<userInfo datakitInDatabase="true" homeDir="" instanceLocale="en" locale="en" login="admin" loginCS="Administrator (admin)" loginId="1059" ' +
    'noConsoleCnx="false" orgUnitId="0" theme="" timezone="Europe/Paris"><login-group id="1060"/><login-right right="admin"/>' +
    '<installed-package name="campaign" namespace="nms"/><installed-package name="core" namespace="nms"/><installed-package name="messageCenter" namespace="nms"/>' +
    '</userInfo></sessionInfo>'
  t.equal(response.text, expectedResponse('urn:xtk:session', 'Logon', [
    scalarOut('pstrSessionToken', 'string', sessionToken),
    elementOut('pSessionInfo', sessionInfo),
    scalarOut('pstrSecurityToken', 'string', securityToken),
  ]), 'the LogonResponse carries the session token, the session info and the security token, in that order')
})

t.test('Logon: a technical operator is flagged noConsoleCnx with its rights', async t => {
  const { campaign } = await startSims(t, { operators: [{ login: 'etl', password: 'etl-pw', technical: true, loginId: 4242, label: 'ETL & <sync>', rights: ['read', 'write'] }] })
  const { response } = await logon(campaign, 'etl', 'etl-pw')
  t.match(response.text, '<userInfo datakitInDatabase="true" homeDir="" instanceLocale="en" locale="en" login="etl" loginCS="ETL &amp; &lt;sync&gt; (etl)" loginId="4242" noConsoleCnx="true" ' +
    'orgUnitId="0" theme="" timezone="Europe/Paris"><login-group id="1060"/><login-right right="read"/><login-right right="write"/>',
  'userInfo carries the configured id, the escaped label, noConsoleCnx and one login-right per right')
})

t.test('faults: exact bytes, HTTP 500 by default and 200 with faultStatus 200', async t => {
  const { campaign } = await startSims(t)
  const expected = "<?xml version='1.0'?>\n" +
    "<SOAP-ENV:Envelope xmlns:xsd='http://www.w3.org/2001/XMLSchema' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'>\n" +
    '<SOAP-ENV:Body>\n' +
    '<SOAP-ENV:Fault>\n' +
    '<faultcode>SOAP-ENV:Client</faultcode>\n' +
    "<faultstring xsi:type='xsd:string'>XSV-350008 Session has expired or is invalid. Please reconnect.</faultstring>\n" +
    '</SOAP-ENV:Fault>\n' +
    '</SOAP-ENV:Body>\n' +
    '</SOAP-ENV:Envelope>\n'
  const fault500 = await getOption(campaign)
  t.equal(fault500.status, 500, 'a fault is answered HTTP 500 by default')
  t.equal(fault500.text, expected, 'the fault body is exactly the Campaign-shaped XSV-350008 fault')
  t.equal(fault500.headers['content-type'], 'text/xml;charset=utf-8', 'with the SOAP content type')
  t.equal(expectedFault(MESSAGES.sessionInvalid), expected, 'the fixture used by the other tests spells the same bytes')

  campaign.faultStatus = 200
  const fault200 = await getOption(campaign)
  t.equal(fault200.status, 200, 'with faultStatus 200 the fault is answered HTTP 200')
  t.equal(fault200.text, expected, 'with the same body')
})

t.test('faults: a detail element when Campaign gives one, and the faultStatus option', async t => {
  const { campaign } = await startSims(t, { faultStatus: 200, imsMandatory: true })
  const { response } = await logon(campaign, 'mc', 'mc-password')
  t.equal(response.status, 200, 'faultStatus 200 given at start applies')
  t.equal(response.text, "<?xml version='1.0'?>\n" +
    "<SOAP-ENV:Envelope xmlns:xsd='http://www.w3.org/2001/XMLSchema' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'>\n" +
    '<SOAP-ENV:Body>\n<SOAP-ENV:Fault>\n<faultcode>SOAP-ENV:Client</faultcode>\n' +
    "<faultstring xsi:type='xsd:string'>XSV-350022 Unable to log on.</faultstring>\n" +
    "<detail xsi:type='xsd:string'>Native authentication is disabled for technical operators.</detail>\n" +
    '</SOAP-ENV:Fault>\n</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n', 'the detail follows the faultstring, typed xsd:string')
})

t.test('src/soap: boolean outputs are written true / false', async t => {
  const body = soapResponse('urn:nms:test', 'Check', [{ name: 'pbYes', type: 'boolean', value: true }, { name: 'pbNo', type: 'boolean', value: false }])
  t.equal(body, expectedResponse('urn:nms:test', 'Check', [scalarOut('pbYes', 'boolean', 'true'), scalarOut('pbNo', 'boolean', 'false')]), 'booleans serialise as xsd:boolean true and false')
})
