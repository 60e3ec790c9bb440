import { parseResponse } from '@better-auth/protocol'
import { jsonById, messageById, type VectorFile } from '../vectors.js'
import { TOKEN_VECTOR_ID } from './build.js'

interface Section {
  readonly title: string
  /** The protocol and route, as the specification names them. */
  readonly protocol: string
  /** Who signs what: the one thing a reader needs to check the signatures by hand. */
  readonly text: string
  /** The label the specification gives each message, an optional gloss, and its vector id. */
  readonly messages: readonly (readonly [label: string, id: string, gloss?: string])[]
}

// In the order the run sent them, so the document reads as one account's life.
const SECTIONS: readonly Section[] = [
  {
    title: 'Creation',
    protocol: '`CreateAccount`, `POST /account/create`',
    text:
      "device-1 creates the account. The request is signed by the device's first authentication " +
      'key, `publicKey`; `device = hash(publicKey + rotationHash)` and ' +
      '`identity = hash(publicKey + rotationHash + recoveryHash)`. Like every response, the answer ' +
      'is signed by the server response key named in `serverIdentity` and echoes the request nonce.',
    messages: [
      ['request', 'account.create.request'],
      ['response', 'account.create.response'],
    ],
  },
  {
    title: 'Rotation',
    protocol: '`RotateDevice`, `POST /device/rotate`',
    text:
      'device-1 reveals the key its creation committed to (`hash(publicKey)` equals the previous ' +
      '`rotationHash`), signs with it, and commits to its next key in `rotationHash`. `device` ' +
      'keeps its original value.',
    messages: [
      ['request', 'device.rotate.request'],
      ['response', 'device.rotate.response'],
    ],
  },
  {
    title: 'Authentication',
    protocol:
      '`RequestSession` then `CreateSession`, `POST /session/request` and `/session/create`',
    text:
      'Two phases. The request for a challenge is unsigned. The answer to the challenge is signed ' +
      "by device-1's current authentication key, which the message does not carry (here the key " +
      'the rotation revealed); it names a fresh access key, `access.publicKey`, and its ' +
      'commitment. The token in the grant is signed by the server access key.',
    messages: [
      ['request', 'session.request.request', 'request for challenge'],
      ['response', 'session.request.response', 'challenge'],
      ['request', 'session.create.request', 'response to challenge'],
      ['response', 'session.create.response', 'grant'],
    ],
  },
  {
    title: 'Refresh',
    protocol: '`RefreshSession`, `POST /session/refresh`',
    text:
      'Rotates the access key: the request is signed by the access key the token committed to ' +
      "(`hash(publicKey)` equals the token's `rotationHash`). The new token keeps the identity, " +
      'device, attributes and `refreshExpiry` of the first.',
    messages: [
      ['request', 'session.refresh.request'],
      ['response', 'session.refresh.response', 'new token'],
    ],
  },
  {
    title: 'Access',
    protocol: '`POST /foo/bar`, an application route',
    text:
      'A resource request with the refreshed token, signed by the access key the token names; ' +
      '`timestamp` must fall inside the access window. The application answers through the ' +
      'server response key.',
    messages: [
      ['request', 'access.request'],
      ['response', 'access.response'],
    ],
  },
  {
    title: 'Linking',
    protocol: '`LinkDevice`, `POST /device/link`',
    text:
      'The new device, device-2, builds a link container for the identity and signs it with its ' +
      'first key. device-1 embeds the container verbatim and signs the request with a rotation of ' +
      'its own key; the container keeps its own signature.',
    messages: [
      ['container', 'device.link.container', 'built and signed by the new device'],
      ['request', 'device.link.request'],
      ['response', 'device.link.response'],
    ],
  },
  {
    title: 'Unlinking',
    protocol: '`UnlinkDevice`, `POST /device/unlink`',
    text:
      'device-2 rotates its key, signing with the revealed one, and revokes device-1 ' +
      '(`link.device`). A device unlinking itself would instead send `hash(hash(next key))` as ' +
      '`rotationHash`, so that no later rotation could succeed.',
    messages: [
      ['request', 'device.unlink.request'],
      ['response', 'device.unlink.response'],
    ],
  },
  {
    title: 'Recovery key change',
    protocol: '`ChangeRecoveryKey`, `POST /recovery/change`',
    text:
      'device-2 rotates again and replaces the recovery commitment: `recoveryHash` is the hash of ' +
      'a new recovery public key. Signed by the revealed key, `publicKey`.',
    messages: [
      ['request', 'recovery.change.request'],
      ['response', 'recovery.change.response'],
    ],
  },
  {
    title: 'Recovery',
    protocol: '`RecoverAccount`, `POST /account/recover`',
    text:
      'A fresh device, device-3, takes over the identity with the recovery key committed just ' +
      'above. The request is signed by `recoveryKey`, not by `publicKey`; it revokes every other ' +
      'device, registers device-3 (fresh, so `device = hash(publicKey + rotationHash)`) and ' +
      'commits to the next recovery key in `recoveryHash`.',
    messages: [
      ['request', 'account.recover.request'],
      ['response', 'account.recover.response'],
    ],
  },
  {
    title: 'Deletion',
    protocol: '`DeleteAccount`, `POST /account/delete`',
    text:
      'device-3 rotates, signing with the revealed key `publicKey`, and deletes the identity with ' +
      'all its devices.',
    messages: [
      ['request', 'account.delete.request'],
      ['response', 'account.delete.response'],
    ],
  },
]

/** Every message vector id the document shows; tests compare it with the vectors file. */
export const DOCUMENTED_IDS: readonly string[] = SECTIONS.flatMap((s) =>
  s.messages.map(([, id]) => id),
)

const fence = (language: string, text: string): string => `\`\`\`${language}\n${text}\n\`\`\``

// For reading only: the signatures cover the compact bytes, shown right after.
const pretty = (json: string): string => JSON.stringify(JSON.parse(json), null, 2)

function renderMessage(file: VectorFile, label: string, id: string, gloss?: string): string {
  const message = messageById(file, id)
  return [
    `\`${label}\`${gloss === undefined ? '' : ` (${gloss})`}, vector \`${id}\``,
    fence('json', pretty(message)),
    'compact, as sent:',
    fence('text', message),
  ].join('\n\n')
}

function renderSection(file: VectorFile, section: Section): string {
  return [
    `### ${section.title}`,
    `${section.protocol}. ${section.text}`,
    ...section.messages.map(([label, id, gloss]) => renderMessage(file, label, id, gloss)),
  ].join('\n\n')
}

function renderToken(file: VectorFile): string {
  const refreshed = parseResponse('refreshSession', messageById(file, 'session.refresh.response'))
  const token = refreshed.payload.response.access.token
  const body = JSON.stringify(jsonById(file, TOKEN_VECTOR_ID))
  return [
    '### Access token',
    'The token of `session.refresh.response`, which `access.request` carries. Its first 88 ' +
      'characters are the signature of the server access key (`serverIdentity` in the body); the ' +
      'rest is base64url, without padding, of the gzip-compressed body.',
    'signature:',
    fence('text', token.slice(0, 88)),
    `decoded body (vector \`${TOKEN_VECTOR_ID}\`):`,
    fence('json', pretty(body)),
    'compact body, the bytes the token signature covers:',
    fence('text', body),
  ].join('\n\n')
}

/** EXAMPLES.md: the vectors laid out like the specification's README, one section per protocol. */
export function renderMarkdown(file: VectorFile): string {
  return (
    [
      '# better-auth protocol examples',
      '<!-- Generated by `make spec-examples` (spec/src/generate). Do not edit; regenerate. -->',
      'Every protocol of the specification, as `@better-auth/client` and `@better-auth/server` ' +
        'exchange them in one recorded run. The inputs (keys, nonces, clock) are deterministic, so ' +
        'regenerating reproduces these bytes exactly. [`spec-examples.json`](spec-examples.json) ' +
        'holds the same messages as vectors, in the schema of the published ones.',
      'Each message is shown pretty-printed, for reading, and then compact, exactly as it was ' +
        'sent. A signature covers the exact bytes of the compact `payload` value; the ' +
        'pretty-printed form does not verify.',
      '## Protocols',
      ...SECTIONS.map((section) => renderSection(file, section)),
      '## Appendix',
      renderToken(file),
      '### Facts',
      'What holds across these examples (the `facts` of the vectors file):',
      file.facts.map((fact) => `- ${fact}`).join('\n'),
    ].join('\n\n') + '\n'
  )
}
