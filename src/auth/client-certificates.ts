/**
 * Integrations identified by their client certificate (mTLS): only a
 * certificate the TLS handshake verified against `listen.tls.caFile`
 * counts, matched by its SHA-256 fingerprint or its subject.
 */
import { X509Certificate } from 'node:crypto'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { normaliseSubject } from '../config/subject.js'
import type { ClientCertificateMatch } from '../config/types.js'

export interface ClientIdentity {
  /** `CN=...,O=...` in the certificate's order, as `normaliseSubject` writes it. */
  readonly subject: string
  /** `AB:CD:...`, upper case. */
  readonly sha256: string
}

const identities = new WeakMap<Socket, ClientIdentity | null>()

/** The verified client certificate of a connection (computed once per connection), undefined without one. */
export function clientIdentity (socket: Socket): ClientIdentity | undefined {
  const known = identities.get(socket)
  if (known !== undefined) return known ?? undefined
  const tls = socket as TLSSocket
  let identity: ClientIdentity | null = null
  if (tls.encrypted === true && tls.authorized) {
    const peer = tls.getPeerCertificate(false)
    /* c8 ignore next -- an authorized connection always has the peer's certificate */
    if (peer.raw !== undefined) {
      const certificate = new X509Certificate(peer.raw)
      identity = { subject: normaliseSubject(certificate.subject.split('\n').join(',')), sha256: certificate.fingerprint256 }
    }
  }
  identities.set(socket, identity)
  return identity ?? undefined
}

/** Looks integrations up by certificate. */
export class CertificateMatcher<T> {
  readonly #byKey = new Map<string, T>()

  constructor (entries: ReadonlyArray<{ readonly certificates: readonly ClientCertificateMatch[], readonly value: T }>) {
    for (const { certificates, value } of entries) {
      for (const match of certificates) this.#byKey.set(keyOf(match), value)
    }
  }

  get size (): number {
    return this.#byKey.size
  }

  match (identity: ClientIdentity): T | undefined {
    return this.#byKey.get(keyOf({ sha256: identity.sha256 })) ?? this.#byKey.get(keyOf({ subject: identity.subject }))
  }
}

function keyOf (match: ClientCertificateMatch): string {
  return 'sha256' in match ? `sha256:${match.sha256}` : `subject:${match.subject}`
}
