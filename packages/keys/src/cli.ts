#!/usr/bin/env node
/// <reference types="node" />
import { main } from './command.js'

process.exitCode = await main(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
})
