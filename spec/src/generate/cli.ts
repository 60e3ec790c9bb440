import { runCli } from './command.js'

// The entry point of `pnpm run generate` (`make spec-examples`); everything else is in command.ts.
process.exitCode = await runCli(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
})
