/**
 * The one place the proxy reads a stream partly: every body it inspects
 * (a SOAP request's head, a whole small request) is pulled with these, and
 * whatever it does not need is handed on as a stream, so memory per
 * request stays bounded by the limit given, whatever the body's size.
 */
/** Chunks read so far. */
export interface Gathered {
  readonly chunks: Buffer[]
  size: number
}

export function gathered (): Gathered {
  return { chunks: [], size: 0 }
}

/** The gathered bytes as one buffer (no copy for a single chunk). */
export function joined ({ chunks, size }: Gathered): Buffer {
  return chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size)
}

/**
 * Pulls chunks from `iterator` into `into` until it ends (true) or holds
 * at least `limit` bytes (false). Nothing is read past the chunk that
 * crosses the limit.
 */
export async function readUpTo (iterator: AsyncIterator<Buffer>, limit: number, into: Gathered): Promise<boolean> {
  while (into.size < limit) {
    const next = await iterator.next()
    if (next.done === true) return true
    into.chunks.push(next.value)
    into.size += next.value.length
  }
  return false
}

/**
 * Every chunk of a readable stream whose length the caller has bounded
 * (a declared Content-Length), as they came (joined only by whoever needs
 * one buffer): plain events, cheaper than an async iterator on the hot
 * path.
 */
export function readAll (source: NodeJS.ReadableStream): Promise<Gathered> {
  return new Promise((resolve, reject) => {
    const into = gathered()
    const onData = (chunk: Buffer): void => { into.chunks.push(chunk); into.size += chunk.length }
    const cleanup = (): void => {
      source.off('data', onData)
      source.off('end', onEnd)
      source.off('error', onError)
      source.off('close', onClose)
    }
    const onEnd = (): void => { cleanup(); resolve(into) }
    const onError = (err: Error): void => { cleanup(); reject(err) }
    const onClose = (): void => { cleanup(); reject(Object.assign(new Error('the stream closed before its end'), { code: 'ECONNRESET' })) }
    source.on('data', onData)
    source.once('end', onEnd)
    source.once('error', onError)
    source.once('close', onClose)
  })
}
