#!/usr/bin/env bash
# The Debian packages Navarch needs, installed when missing (root). Used by `make up` and by CI.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# Build: make, g++ and python3 for native modules. etcd's API protos (loaded at run time by the
# etcd-compatible facade) and etcdctl for its e2e test. The agent: containerd and runc for pods, its
# API protos (generated at build time), the CNI plugins and iptables for pod networks, iproute2 for
# network namespaces, docker-registry and busybox-static for the local registry and the demo image.
# libjemalloc2: the masters' malloc (see pkg/localcluster/allocator.ts).
packages=(make g++ python3 ca-certificates golang-etcd-server-dev golang-github-gogo-protobuf-dev
  golang-github-grpc-ecosystem-grpc-gateway-dev etcd-client
  containerd runc golang-github-containerd-containerd-dev golang-google-genproto-dev
  containernetworking-plugins iptables iproute2 docker-registry busybox-static libjemalloc2)
need=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${need[*]}; run as root (or apt-get install them) first" >&2
    exit 1
  fi
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi
