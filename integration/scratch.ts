import { runAdversarial } from './src/adversarial/run.js'
const url = process.argv[2]!
const results = await runAdversarial(url, { onResult: (r) => console.log(r.status.padEnd(9), r.id.padEnd(32), r.code, r.alive ? '' : 'DOWN', r.serverLog ?? '', r.ms) })
console.log(results.length)
