# Navarch: the two commands a new user needs are `make up` and `make test`.
SHELL := /bin/bash
SEEDS ?= 1000
DIR ?= .navarch
# make up MASTERS=1: a single-master cluster (default: as many as the cluster in $(DIR) had, else 3).
MASTERS ?=

.PHONY: system-deps deps gen build typecheck test test-unit test-e2e sim up down images bench bench-deps bench-raft bench-failover bench-storage bench-mvcc bench-etcd-compat bench-store bench-scheduler bench-pods clean

# The registry reachable here serves only the Linux builds of buf; package-lock.json lists buf's other
# platform packages (optional, skipped on Linux) by hand so that npm ci accepts the lock file.
# The registry connection sometimes drops mid-install (ECONNRESET): try up to three times.
node_modules/.installed: package.json package-lock.json
	for attempt in 1 2 3; do npm ci --no-audit --no-fund && break; [ $$attempt = 3 ] && exit 1; echo "npm ci failed (attempt $$attempt); trying again"; sleep 5; done
	touch $@

deps: node_modules/.installed

gen: deps gen/containerd/.generated
	npx buf generate

# containerd's API, typed from the .proto files Debian ships (golang-github-containerd-containerd-dev,
# golang-github-gogo-protobuf-dev, golang-google-genproto-dev): symlinked into one buf module under
# gen/.protos at the import paths the files use, then generated into gen/containerd.
GOCODE ?= /usr/share/gocode/src
CONTAINERD_PROTOS := gen/.protos/containerd
gen/containerd/.generated: buf.gen.containerd.yaml node_modules/.installed
	rm -rf $(CONTAINERD_PROTOS) gen/containerd
	mkdir -p $(CONTAINERD_PROTOS)/github.com/containerd/containerd/protobuf/plugin $(CONTAINERD_PROTOS)/github.com/containerd/cgroups/stats/v1 $(CONTAINERD_PROTOS)/gogoproto $(CONTAINERD_PROTOS)/google/rpc
	ln -s $(GOCODE)/github.com/containerd/containerd/api $(CONTAINERD_PROTOS)/github.com/containerd/containerd/api
	ln -s $(GOCODE)/github.com/containerd/containerd/protobuf/plugin/fieldpath.proto $(CONTAINERD_PROTOS)/github.com/containerd/containerd/protobuf/plugin/
	ln -s $(GOCODE)/github.com/containerd/cgroups/stats/v1/metrics.proto $(CONTAINERD_PROTOS)/github.com/containerd/cgroups/stats/v1/
	ln -s $(GOCODE)/github.com/gogo/protobuf/gogoproto/gogo.proto $(CONTAINERD_PROTOS)/gogoproto/
	ln -s $(GOCODE)/github.com/gogo/googleapis/google/rpc/status.proto $(CONTAINERD_PROTOS)/google/rpc/
	printf 'version: v2\n' > $(CONTAINERD_PROTOS)/buf.yaml
	npx buf generate $(CONTAINERD_PROTOS) --template buf.gen.containerd.yaml
	touch $@

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

# Masters on 127.0.0.1 as detached processes, then the demo; `make down` stops them and keeps the data.
# The Debian packages (containerd, runc, CNI plugins, iptables, docker-registry, ...) when missing.
system-deps:
	bash tools/install-deps.sh

up: system-deps build
	npx tsx cmd/navarch.ts up --dir $(DIR) $(if $(MASTERS),--masters $(MASTERS))

down: deps
	npx tsx cmd/navarch.ts down --dir $(DIR)

# The busybox image (from Debian's busybox-static) pushed as 127.0.0.1:5000/navarch/busybox:latest;
# starts docker-registry with its data in $(DIR)/registry when nothing answers on 127.0.0.1:5000.
images: gen
	npx tsx cmd/navarch.ts images --dir $(DIR)

# The peer the Raft benchmark compares against: Debian's etcd, started by the benchmark itself.
bench-deps:
	@command -v etcd >/dev/null 2>&1 || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server)

bench-raft: gen bench-deps
	npx tsx bench/raft.ts

bench-failover: gen
	npx tsx bench/failover.ts

bench-storage: gen
	npx tsx bench/raft_storage.ts

# The MVCC store in one process (no peer: the etcd comparison comes with the etcd-compatible facade).
bench-mvcc: gen
	node --expose-gc --import tsx bench/store_mvcc.ts

# The etcd-compatible facade of 3 masters against 3 etcd members, same client, same run.
bench-etcd-compat: gen bench-deps
	npx tsx bench/etcd_compat.ts

# Issue 3's store benchmark: 3 etcd 3.4 members vs 3 masters (etcd3 client, check perf, watch, object API).
# Flags through ARGS, e.g. make bench-store ARGS="--only puts,gets --seconds 3" (ARGS=--help lists them).
bench-store: gen bench-deps
	@command -v etcdctl >/dev/null 2>&1 || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-client)
	npx tsx bench/store/main.ts $(ARGS)

# Issue 4's scheduler benchmark: 3 masters (each with its scheduler and controller manager, one of each
# active) and 5,000 hollow nodes; SchedulingBasic 10k/50k, anti-affinity, topology spread, a fill to 150k
# pods (RSS, list time), and kill -9 of the scheduler's lease holder 5 times. A short run:
# make bench-scheduler ARGS="--nodes 500 --pods 2000 --only basic,failover --failover-pods 3000" (ARGS=--help).
bench-scheduler: gen
	npx tsx bench/scheduler/main.ts $(ARGS)

# Issue 5's pod startup benchmark (root): 1 master, 1 agent on a containerd of its own, the image present;
# 100 pods pinned to the node, created at 2 a second, then all at once; create -> Running p50/p99/max,
# the agent's RSS and the CPU per pod, against Kubernetes' SLO (p99 <= 5 s) and the target (p99 < 1 s).
# make bench-pods ARGS="--pods 30 --concurrency 5 --rates 4,0".
bench-pods: gen
	npx tsx bench/pods.ts $(ARGS)

bench: bench-raft bench-failover bench-storage bench-mvcc bench-etcd-compat bench-store bench-scheduler bench-pods

clean:
	rm -rf gen node_modules $(DIR)
