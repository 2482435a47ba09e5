# Navarch: the two commands a new user needs are `make up` and `make test`.
SHELL := /bin/bash
SEEDS ?= 300
DIR ?= .navarch

.PHONY: deps gen build typecheck test test-unit test-e2e sim up down bench bench-raft bench-failover clean

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: node_modules/.installed

gen: deps
	npx buf generate

build: gen typecheck

typecheck: gen
	npx tsc --noEmit -p .

test-unit: gen
	npm test

sim: gen
	npx tsx raft/sim/main.ts --seeds $(SEEDS)

test-e2e: gen
	npm run test:e2e

test: build test-unit sim test-e2e

up: build
	npx tsx cmd/navarch.ts up --dir $(DIR)

down:
	npx tsx cmd/navarch.ts down --dir $(DIR)

bench-raft: gen
	npx tsx bench/raft.ts

bench-failover: gen
	npx tsx bench/failover.ts

bench: bench-raft bench-failover

clean:
	rm -rf gen node_modules $(DIR)
