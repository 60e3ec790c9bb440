# Standard targets of every implementation of this protocol.
SHELL := /bin/bash

# Node 22.13+ runs everything below. When the node on PATH is older, scripts/node.sh unpacks a
# supported one from npm into .tools/ (once) and says so, and it goes first on PATH for every
# command this Makefile runs.
NODE_BIN := $(shell bash scripts/node.sh)
ifneq ($(.SHELLSTATUS),0)
$(error no supported Node: see the message above)
endif
ifneq ($(NODE_BIN),)
export PATH := $(NODE_BIN):$(PATH)
endif
PNPM ?= $(shell command -v pnpm >/dev/null 2>&1 && echo pnpm || echo npx -y pnpm@10)

.PHONY: setup build test type-check lint format format-check server test-integration clean bench spec-examples check coverage fuzz mutation

setup:
	$(PNPM) install --frozen-lockfile

node_modules/.modules.yaml: pnpm-lock.yaml package.json
	$(PNPM) install --frozen-lockfile
	@touch $@

build: node_modules/.modules.yaml
	$(PNPM) run build

test: node_modules/.modules.yaml
	bash scripts/test.sh

# The whole test run with V8 coverage, then each package held to its floor (coverage-floors.json).
coverage: node_modules/.modules.yaml
	COVERAGE=1 bash scripts/test.sh
	node scripts/coverage-floors.mjs

# Every *.fuzz.test.ts target (parsers of untrusted bytes) for FUZZ_SECONDS seconds each.
FUZZ_SECONDS ?= 30
fuzz: node_modules/.modules.yaml
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(PNPM) exec vitest run .fuzz.test.ts

# Mutation testing (Stryker, stryker.config.mjs) of the security-relevant code of each package in
# MUTATE, incremental against the package's checked-in stryker-incremental.json: only mutants in
# changed code (or covered by changed tests) run. Then every package's score (all its mutants, from
# that file) is held to its floor in mutation-floors.json. CI sets MUTATE to the changed packages
# (scripts/mutation-floors.mjs --changed).
MUTATE ?= cesr protocol server crypto
mutation: node_modules/.modules.yaml
	set -e; for pkg in $(MUTATE); do \
	  (cd packages/$$pkg && nice -n 10 node ../../node_modules/@stryker-mutator/core/bin/stryker.js run ../../stryker.config.mjs); \
	done
	node scripts/mutation-floors.mjs

type-check: node_modules/.modules.yaml
	$(PNPM) run typecheck

lint: node_modules/.modules.yaml
	$(PNPM) run lint

format: node_modules/.modules.yaml
	$(PNPM) run format

format-check: node_modules/.modules.yaml
	$(PNPM) run format:check

check: lint format-check type-check

server: build
	$(PNPM) --filter @better-auth/example-server start

test-integration: build
	$(PNPM) --filter @better-auth/integration run matrix

bench: build
	$(PNPM) run bench

spec-examples: node_modules/.modules.yaml
	$(PNPM) --filter @better-auth/spec run generate

clean:
	rm -rf node_modules packages/*/node_modules packages/*/dist examples/*/node_modules examples/*/dist integration/node_modules spec/node_modules .turbo packages/*/.turbo
