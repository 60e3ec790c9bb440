import { it } from 'vitest'
it('x', () => { console.log('EXECARGV', process.execArgv, process.env.NODE_OPTIONS) })
