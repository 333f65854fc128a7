// The `sidecar` profile's sample legacy client: a Message Center style
// integration that puts its old login/password in the session token and
// pushes an event every few seconds, unchanged, through the proxy next to
// it (it shares the proxy's network namespace: loopback identifies it).
const router = `${process.env.PROXY_URL ?? 'http://127.0.0.1:8080'}/nl/jsp/soaprouter.jsp`
const credentials = process.env.LEGACY_CREDENTIALS ?? 'mc/mc-password'
const everyMs = Number(process.env.EVERY_SECONDS ?? 5) * 1000
const envelope = (email) => `<?xml version='1.0' encoding='UTF-8'?><SOAP-ENV:Envelope xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'><SOAP-ENV:Body><m:PushEvent xmlns:m='urn:nms:rtEvent'><sessiontoken xsi:type='xsd:string'>${credentials}</sessiontoken><domEvent xsi:type='ns:Element' SOAP-ENV:encodingStyle='http://xml.apache.org/xml-soap/literalxml'><rtEvent type='welcome' email='${email}'/></domEvent></m:PushEvent></SOAP-ENV:Body></SOAP-ENV:Envelope>`

let n = 0
for (;;) {
  n++
  try {
    const response = await fetch(router, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'nms:rtEvent#PushEvent' }, body: envelope(`customer${n}@example.com`) })
    const text = await response.text()
    const id = /<plId[^>]*>(\d+)<\/plId>/.exec(text)?.[1]
    console.log(id === undefined ? `event ${n}: HTTP ${response.status} ${text.slice(0, 200)}` : `event ${n}: pushed, id ${id}`)
  } catch (err) {
    console.log(`event ${n}: ${err.message} (is the proxy up?)`)
  }
  await new Promise(resolve => setTimeout(resolve, everyMs))
}
