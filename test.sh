#!/usr/bin/env bash
# Runs every test of regcred, setting up what the tests need first:
#   1. the Debian packages of the real components (docker-registry, skopeo, docker.io,
#      docker-compose, etcd-server, postgresql, containerd, chromium), installed with apt-get
#      when missing and we are root;
#   2. kube-apiserver, kube-controller-manager and the kubelet, built once from the
#      k8s.io/kubernetes module and cached (.ci/kube-apiserver.sh, ~12-18 minutes the first
#      time);
#   3. go vet, then go test -race over every package (integration tests included, a real
#      kubelet on containerd among them), the k8schainbench comparison module and the
#      nodeconfig runtime judges module;
#   4. each fuzz target for a short fixed time (FUZZTIME, default 10s).
# With CI set (to anything but "false" or "0") a missing component fails its tests instead
# of skipping them.
# Extra arguments go to go test, e.g. ./test.sh -run Keychain ./registry/
set -euo pipefail
cd "$(dirname "$0")"

# package:probe, where probe is a command or an absolute path (globs allowed).
components=(docker-registry:docker-registry skopeo:skopeo docker.io:dockerd
  docker-compose:docker-compose etcd-server:etcd
  postgresql:'/usr/lib/postgresql/*/bin/initdb' containerd:containerd chromium:chromium)
have() {
  case $1 in
    /*) compgen -G "$1" >/dev/null ;;
    *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] ;;
  esac
}
missing=()
for c in "${components[@]}"; do
  have "${c#*:}" || missing+=("${c%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "test.sh: WARNING: missing ${missing[*]} and cannot install (not root); their integration tests will skip (fail under CI=true)" >&2
  fi
fi
# The Debian packages start services we do not use; the tests start their own on loopback.
if [ "$(id -u)" = 0 ]; then
  for svc in docker-registry etcd docker containerd postgresql; do
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  done
fi

if [ -z "${REGCRED_KUBE_APISERVER:-}" ]; then
  if REGCRED_KUBE_APISERVER=$(bash .ci/kube-apiserver.sh); then
    export REGCRED_KUBE_APISERVER
  else
    echo "test.sh: WARNING: could not build kube-apiserver; Kubernetes integration tests will skip (fail under CI=true)" >&2
  fi
fi

if [ -z "${REGCRED_KUBE_CONTROLLER_MANAGER:-}" ]; then
  if REGCRED_KUBE_CONTROLLER_MANAGER=$(bash .ci/kube-apiserver.sh kube-controller-manager); then
    export REGCRED_KUBE_CONTROLLER_MANAGER
  else
    echo "test.sh: WARNING: could not build kube-controller-manager; tests that need it will skip (fail under CI=true)" >&2
  fi
fi

if [ -z "${REGCRED_KUBELET:-}" ]; then
  if REGCRED_KUBELET=$(bash .ci/kube-apiserver.sh kubelet); then
    export REGCRED_KUBELET
  else
    echo "test.sh: WARNING: could not build the kubelet; the kubelet tests will skip (fail under CI=true)" >&2
  fi
fi

go mod download
go vet ./...

if [ $# -gt 0 ]; then
  exec go test -race "$@"
fi

go test -race -timeout 30m -count=1 ./...

# The nested module that compares kube.Keychain with go-containerregistry's k8schain: its
# own go.mod (newer k8s.io modules than importers of regcred should inherit).
(cd kube/internal/k8schainbench && GOFLAGS=-mod=mod go test -count=1 ./...)
# The runtimes' own code judging nodeconfig's files (nested module; containers/image needs CGO_ENABLED=0).
(cd nodeconfig/internal/judges && CGO_ENABLED=0 GOFLAGS=-mod=mod go test -count=1 ./...)

# fuzz DIR FN: one fuzz target for FUZZTIME. Go 1.26's fuzz coordinator can fail a run with
# a bare "context deadline exceeded" at the -fuzztime boundary when workers are starved
# (golang/go#75804, fixed in Go 1.27): that run, and only that one (no "Failing input
# written", no panic), is retried once. Any real finding fails.
fuzz() {
  local dir=$1 fn=$2 log try
  log=$(mktemp)
  for try in 1 2; do
    echo "fuzz $dir $fn ($FUZZTIME)"
    if go test -run '^$' -fuzz "^$fn\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZE" "$dir" </dev/null 2>&1 | tee "$log"; then
      rm -f "$log"; return 0
    fi
    if [ "$try" = 1 ] && grep -q 'context deadline exceeded' "$log" &&
       ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"; then
      echo "test.sh: $fn hit the fuzz coordinator's deadline race (golang/go#75804), no failing input; running it again" >&2
      continue
    fi
    rm -f "$log"; return 1
  done
  rm -f "$log"; return 1
}

FUZZTIME=${FUZZTIME:-10s}
# Minimizing a new interesting input may take up to a minute by default, with no input
# run in the meantime: a 10 s run that starts one stalls and ends in "context deadline
# exceeded" (seen with registryfile's FuzzDecode: 0 execs/s from 6 s on). Keep it short;
# a failing input is still written, only less minimized.
FUZZMINIMIZE=${FUZZMINIMIZE:-1s}
grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do
  dir=$(dirname "$f")
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -d' ' -f2); do
    fuzz "$dir" "$fn"
  done
done
echo "test.sh: all tests passed"
