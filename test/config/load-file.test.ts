// loadConfig: reads the file, resolves relative paths against its directory, reports unreadable files.

import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/load.js'
import { MINIMAL, tempDir, writeFiles } from '../fixtures/config.js'

t.test('relative file paths resolve against the configuration file', async t => {
  const dir = await tempDir(t)
  await mkdir(join(dir, 'etc'))
  await mkdir(join(dir, 'etc', 'secrets'))
  const files = await writeFiles(dir, {
    'etc/secrets/client': 'c',
    'etc/ca.pem': '-----BEGIN CERTIFICATE-----\n',
    'etc/proxy.yaml': `campaign:
  url: https://acme.campaign.adobe.com
  caFile: ca.pem
ims:
  caFile: \${IMS_CA:-./ca.pem}
technicalAccounts:
  main:
    clientId: id
    clientSecret: { file: secrets/client }
    scopes: [openid]
`,
  })
  const config = await loadConfig(files['etc/proxy.yaml'] as string, {})
  t.same([config.campaign.caFile, config.ims.caFile, config.technicalAccounts.get('main')?.clientSecret],
    [files['etc/ca.pem'], files['etc/ca.pem'], { kind: 'file', path: files['etc/secrets/client'] }],
    'CA files and secret files are found next to the configuration, as absolute paths')
})

t.test('a missing or invalid file is a ConfigError naming the file', async t => {
  const dir = await tempDir(t)
  const missing = join(dir, 'missing.yaml')
  await t.rejects(loadConfig(missing, {}), new ConfigError(missing, [`(file): cannot read ${missing} (ENOENT)`]), 'an unreadable file')
  const { 'bad.yaml': bad } = await writeFiles(dir, { 'bad.yaml': `${MINIMAL}loging: {}\n` })
  await t.rejects(loadConfig(bad as string, {}), { message: `invalid configuration (${bad as string}):\n  loging: unknown key (did you mean logging?)` },
    'problems name the file as their source')
})
