// The benchmark's upstream: Campaign's SOAP router reduced to minimal work
// per call (the Campaign simulator parses XML and verifies RS256 tokens on
// every call, which would make it the bottleneck). It drains the request
// body and answers a fixed PushEvent response in Campaign's shape.
import { createServer } from 'node:http'

const RESPONSE = Buffer.from("<?xml version='1.0'?>\n<SOAP-ENV:Envelope xmlns:xsd='http://www.w3.org/2001/XMLSchema' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:ns='urn:nms:rtEvent' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'>\n<SOAP-ENV:Body>\n<PushEventResponse xmlns='urn:nms:rtEvent' SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/'>\n<plId xsi:type='xsd:long'>73000001</plId>\n</PushEventResponse>\n</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n")
const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  req.on('data', () => {})
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/xml;charset=utf-8', 'content-length': RESPONSE.length })
    res.end(RESPONSE)
  })
})
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => { process.send?.({ port: server.address().port }) })
process.on('SIGTERM', () => { server.close(); process.exit(0) })
