/** The schema of the specification's vectors file (and of the files our generator writes). */
export interface MessageVector {
  readonly id: string
  readonly message: string
}
export interface JsonVector {
  readonly id: string
  readonly note?: string
  readonly json: unknown
}
export type Vector = MessageVector | JsonVector

export interface VectorFile {
  readonly source: string
  readonly facts: readonly string[]
  readonly vectors: readonly Vector[]
}

export function isMessageVector(vector: Vector): vector is MessageVector {
  return 'message' in vector
}

export function messageById(file: VectorFile, id: string): string {
  const vector = file.vectors.find((v) => v.id === id)
  if (vector === undefined || !isMessageVector(vector)) throw new Error(`no message vector ${id}`)
  return vector.message
}

export function jsonById(file: VectorFile, id: string): unknown {
  const vector = file.vectors.find((v) => v.id === id)
  if (vector === undefined || isMessageVector(vector)) throw new Error(`no json vector ${id}`)
  return vector.json
}
