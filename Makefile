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

.PHONY: setup build test type-check lint format format-check server test-integration clean bench spec-examples check

setup:
	$(PNPM) install --frozen-lockfile

node_modules/.modules.yaml: pnpm-lock.yaml package.json
	$(PNPM) install --frozen-lockfile
	@touch $@

build: node_modules/.modules.yaml
	$(PNPM) run build

test: node_modules/.modules.yaml
	bash scripts/test.sh

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
