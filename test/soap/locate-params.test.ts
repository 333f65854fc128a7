// Parameters are positional: the method's element children in order,
// whatever their names and attributes, up to maxParams; nested elements are
// never parameters; each parameter after the token has a byte budget.
import t from 'tap'
import { DEFAULT_MAX_PARAM_BYTES, locateSoap } from '../../src/soap/locate.js'
import { emptied, locate, outcome, slice } from '../fixtures/soap-locate.js'

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/'
const OPEN = `<s:Envelope xmlns:s="${SOAP11}" xmlns:p="urn:p"><s:Body><m:Logon xmlns:m="urn:xtk:session">`
const CLOSE = '</m:Logon></s:Body></s:Envelope>'
const withParams = (params: string): string => `${OPEN}${params}${CLOSE}`

t.test('the first child is the session token whatever its name', async t => {
  for (const name of ['sessiontoken', '__sessiontoken', 'urn:sessiontoken', 'p:token', 'x', 'a.b-c_d']) {
    const body = withParams(`<${name}>tok</${name}><login>u</login>`)
    t.same(locate(body).params.map(p => [p.qname, p.text]), [[name, 'tok'], ['login', 'u']], `<${name}> is the token because it comes first`)
  }
})

t.test('attributes in any order and quote style, with ">" and "/>" in values', async t => {
  const token = '<sessiontoken  a = \'1>2\' xsi:type="xsd:string"\n\tb="it\'s/>" c=\'say "hi"\'>tok</sessiontoken>'
  const body = withParams(token)
  const location = locate(body)
  t.equal(location.params[0]?.text, 'tok', 'the token text is read after the attributes')
  t.equal(slice(body, location.params[0]?.outer), token, 'the start tag ends at the ">" outside quotes')
  t.equal(emptied(body).toString(), withParams(token.replace('>tok<', '><')), 'the attributes are kept byte for byte')
})

t.test('comments, processing instructions, text and whitespace between parameters', async t => {
  const body = withParams('\n  <!-- <sessiontoken>fake</sessiontoken> -->\n  <?pi <x>?>\n  <sessiontoken>tok</sessiontoken>\n  <!-- c --> <login>u</login>\n')
  const location = locate(body)
  t.same(location.params.map(p => p.text), ['tok', 'u'], 'commented-out elements are not parameters')
  t.equal(location.paramsComplete, true, 'the method end tag was reached')
})

t.test('nested sessiontoken elements are never located', async t => {
  const body = withParams('<sessiontoken><wrap><sessiontoken>inner</sessiontoken></wrap></sessiontoken><login><sessiontoken>x</sessiontoken></login>')
  const location = locate(body)
  t.same(location.params.map(p => [p.qname, p.text]), [['sessiontoken', ''], ['login', '']], 'the nested elements are inside the two parameters')
  t.equal(slice(body, location.params[0]?.content), '<wrap><sessiontoken>inner</sessiontoken></wrap>', 'the token content is the whole nested document')
  t.equal(emptied(body).toString(), withParams('<sessiontoken></sessiontoken><login><sessiontoken>x</sessiontoken></login>'), 'only the first parameter content is removed')
})

t.test('maxParams bounds the parameters read', async t => {
  const five = withParams('<a>1</a><b>2</b><c>3</c><d>4</d><e>5</e>')
  const location = locate(five)
  t.same(location.params.map(p => p.text), ['1', '2', '3', '4'], 'four parameters are read by default')
  t.equal(location.paramsComplete, false, 'a fifth one is left unread')
  t.equal(location.headLength, five.indexOf('<e>'), 'the head ends with the fourth parameter end tag')
  t.same(locate(five, { maxParams: 1 }).params.map(p => p.text), ['1'], 'maxParams 1 reads the token only')
  t.equal(locate(five, { maxParams: 1 }).headLength, five.indexOf('<b>'), 'the head then ends with the token')
  t.same(locate(five, { maxParams: 0 }).params, [], 'maxParams 0 reads no parameter')
  t.equal(locate(five, { maxParams: 0 }).headLength, OPEN.length, 'the head then ends with the method start tag')
  t.equal(locate(five, { maxParams: 9 }).paramsComplete, true, 'all five are read when allowed')
  t.equal(locateSoap(Buffer.from(`${OPEN}<a>1</a><b>2</b>`), false, { maxParams: 2 }).kind, 'found', 'a head is found as soon as maxParams are read')
  for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
    t.throws(() => locateSoap(Buffer.from(five), true, { maxParams: bad }), RangeError, `maxParams ${bad} is a programming error`)
  }
})

t.test("a DOM parameter is read with balanced nesting: Logon's parameters", async t => {
  const parameters = '<parameters xsi:type="ns:Element"><params><param name="x"/><sessiontoken>n</sessiontoken></params></parameters>'
  const body = withParams(`<sessiontoken/><login>u</login><password>p</password>${parameters}`)
  const location = locate(body)
  t.same(location.params.map(p => [p.qname, p.text]), [['sessiontoken', ''], ['login', 'u'], ['password', 'p'], ['parameters', '']], 'the four parameters are located')
  t.equal(slice(body, location.params[3]?.outer), parameters, 'the DOM parameter spans its whole document')
})

t.test('a parameter after the token that does not fit its byte budget stops the scan', async t => {
  const token = '<sessiontoken>t</sessiontoken>'
  const long = withParams(`${token}<login>${'x'.repeat(5000)}</login><password>p</password>`)
  const location = locate(long)
  t.same(location.params.map(p => p.qname), ['sessiontoken'], 'a 5000-byte parameter is not located with the default 4096-byte budget')
  t.equal(location.paramsComplete, false, 'the location says parameters were left unread')
  t.equal(location.headLength, OPEN.length + token.length + DEFAULT_MAX_PARAM_BYTES, 'the head ends where the budget does')
  t.equal(locateSoap(Buffer.from(long.slice(0, location.headLength)), false).kind, 'found', 'the bytes past the budget are not needed')
  t.equal(locateSoap(Buffer.from(long.slice(0, location.headLength - 1)), false).kind, 'need-more', 'the bytes up to the budget are needed')

  const exact = withParams(`${token}<a>1</a><b>333</b>`)
  t.same(locate(exact, { maxParamBytes: 9 }).params.map(p => p.text), ['t', '1'], 'an 8-byte parameter fits a 9-byte budget, a 10-byte one does not')
  t.equal(locate(exact, { maxParamBytes: 9 }).headLength, OPEN.length + token.length + 8 + 9, 'the head then ends at the budget of the parameter that did not fit')
  t.same(locate(exact, { maxParamBytes: 10 }).params.map(p => p.text), ['t', '1', '333'], 'a parameter of exactly the budget fits')
  t.same(locate(exact, { maxParamBytes: 0 }).params.map(p => p.text), ['t'], 'a budget of 0 locates the token only')
  const ending = withParams(`${token}<a>1</a>`)
  t.equal(locate(ending, { maxParamBytes: 10 }).paramsComplete, true, 'the 10-byte method end tag fits a 10-byte budget')
  t.equal(locate(ending, { maxParamBytes: 9 }).paramsComplete, false, 'it does not fit a 9-byte one, so the parameters may go on')
  t.equal(locate(withParams(`<sessiontoken>${'t'.repeat(10000)}</sessiontoken>`), { maxParamBytes: 0 }).params[0]?.text.length, 10000, 'the token itself has no budget: it is the one emptied')
  t.same(locate(withParams(`${token}<!-- ${' '.repeat(40)} --><a>1</a>`), { maxParamBytes: 20 }).params.map(p => p.text), ['t'], 'comments before a parameter count in its budget')
  t.same(locate(withParams(`${token}<a>${'y'.repeat(50)}</b>`), { maxParamBytes: 20 }).params.map(p => p.text), ['t'], 'malformed markup past the budget is not read')
  t.equal(outcome(withParams(`${token}<a>&bad;</a>${' '.repeat(100)}`), true, { maxParamBytes: 50 }), 'notXml', 'malformed markup within the budget is refused')
  for (const bad of [-1, 0.5, Number.NaN]) {
    t.throws(() => locateSoap(Buffer.from(exact), true, { maxParamBytes: bad }), RangeError, `maxParamBytes ${bad} is a programming error`)
  }
})

t.test('self-closed and text parameters after the token do not stop the scan', async t => {
  const location = locate(withParams('<t>x</t><a/><b>text<!-- c --></b><c attr="1"/>'))
  t.same(location.params.map(p => [p.qname, p.content === undefined, p.text]), [['t', false, 'x'], ['a', true, ''], ['b', false, 'text'], ['c', true, '']],
    'they are located in order')
})

t.test('paramsFor: only as many parameters as the method needs are read', async t => {
  const push = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:PushEvent xmlns:m="urn:nms:rtEvent"><sessiontoken>tok</sessiontoken><domEvent><rtEvent><ctx>x</ctx></rtEvent></domEvent></m:PushEvent></s:Body></s:Envelope>'
  const logonBody = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:Logon xmlns:m="urn:xtk:session"><sessiontoken/><strLogin>op</strLogin><strPassword>pw</strPassword><elemParameters/></m:Logon></s:Body></s:Envelope>'
  const options = { paramsFor: (method: string) => method === 'xtk:session#Logon' ? 4 : 1 }
  const pushed = locate(push, options)
  t.same([pushed.params.length, pushed.params[0]?.text, pushed.paramsComplete], [1, 'tok', false], 'a PushEvent: the session token only, the event document unread')
  t.ok(pushed.headLength < push.indexOf('<domEvent>') + '<domEvent>'.length, 'and the head ends before it')
  t.same(locate(logonBody, options).params.map(p => p.text), ['', 'op', 'pw', ''], 'a Logon: all four')
})
