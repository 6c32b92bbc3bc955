#!/usr/bin/env bash
# Builds the pinned control-plane components used by the e2e harness from the Go
# module proxy into $CACHE/bin, skipping every binary already built at the pinned
# version (checked with `go version -m`, which reads the embedded build info).
#
#   etcd v3.7.3                     scratch module $CACHE/etcdmod (go install fails on
#                                   server/v3's replace directives)
#   kube-apiserver, kube-scheduler, scratch module $CACHE/k8s requiring k8s.io/kubernetes
#   kube-controller-manager,        v1.37.2 with every staging module replaced to v0.37.2
#   kubectl v1.37.2                 and a `tool` block naming the four commands
#   kwok v0.8.0                     go install sigs.k8s.io/kwok/cmd/kwok@v0.8.0
#
# Env: DSPLAN_E2E_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/dsplan-e2e).
set -euo pipefail

CACHE=${DSPLAN_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dsplan-e2e}
BIN=$CACHE/bin
K8S_VERSION=v1.37.2
STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.7.3
KWOK_VERSION=v0.8.0
# Staging modules that k8s.io/kubernetes requires as v0.0.0 (=> ./staging upstream).
STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt
kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller streaming"
LDF="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
LDF="$LDF -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"

mkdir -p "$BIN"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

# has_version BINARY MODULE VERSION [EXTRA]: the binary exists, embeds MODULE at
# VERSION (as main module or dependency) and, if given, EXTRA in its build info.
has_version() {
	local info
	[ -x "$1" ] || return 1
	info=$(go version -m "$1" 2>/dev/null) || return 1
	# here-strings, not pipes: with pipefail, `printf | grep -q` can fail on SIGPIPE
	grep -Eq "^[[:space:]]+(mod|dep)[[:space:]]+$2[[:space:]]+$3([[:space:]]|\$)" <<<"$info" || return 1
	[ -z "${4:-}" ] || grep -qF -- "$4" <<<"$info"
}

# timed NAME CMD...: runs CMD and prints the wall time it took.
timed() {
	local name=$1 s e
	shift
	s=$(date +%s)
	"$@"
	e=$(date +%s)
	echo "BUILD $name $((e - s))s"
}

setup_k8s_module() {
	local dir=$CACHE/k8s want m
	mkdir -p "$dir"
	want=$({
		printf 'module e2ek8s\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes %s\n\n' "$K8S_VERSION"
		printf 'tool (\n'
		for m in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
			printf '\tk8s.io/kubernetes/cmd/%s\n' "$m"
		done
		printf ')\n\nreplace (\n'
		for m in $STAGING; do printf '\tk8s.io/%s => k8s.io/%s %s\n' "$m" "$m" "$STAGING_VERSION"; done
		printf ')\n'
	})
	# go mod tidy rewrites go.mod, so the wanted input is kept beside it as a stamp.
	if [ -f "$dir/go.sum" ] && [ -f "$dir/go.mod.in" ] && [ "$(cat "$dir/go.mod.in")" = "$want" ]; then
		return 0
	fi
	printf '%s\n' "$want" >"$dir/go.mod.in"
	printf '%s\n' "$want" >"$dir/go.mod"
	rm -f "$dir/go.sum"
	(cd "$dir" && timed "k8s-module(go-mod-tidy)" go mod tidy)
}

setup_etcd_module() {
	local dir=$CACHE/etcdmod
	mkdir -p "$dir"
	if [ -f "$dir/go.sum" ] && grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION" "$dir/go.mod" 2>/dev/null; then
		return 0
	fi
	[ -f "$dir/go.mod" ] || (cd "$dir" && go mod init etcdscratch >/dev/null 2>&1)
	(cd "$dir" && timed "etcd-module(go-get)" go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION")
}

# etcd
if has_version "$BIN/etcd" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"; then
	echo "SKIP etcd ($ETCD_VERSION present)"
else
	setup_etcd_module
	(cd "$CACHE/etcdmod" && timed etcd go build -o "$BIN/etcd" go.etcd.io/etcd/server/v3)
fi

# Kubernetes components (kube-apiserver first: it compiles most of the shared packages)
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
	if has_version "$BIN/$c" k8s.io/kubernetes "$K8S_VERSION" "version.gitVersion=$K8S_VERSION"; then
		echo "SKIP $c ($K8S_VERSION present)"
		continue
	fi
	setup_k8s_module
	(cd "$CACHE/k8s" && timed "$c" go build -ldflags "$LDF" -o "$BIN/$c" "k8s.io/kubernetes/cmd/$c")
done

# kwok
if has_version "$BIN/kwok" sigs.k8s.io/kwok "$KWOK_VERSION"; then
	echo "SKIP kwok ($KWOK_VERSION present)"
else
	(cd "$CACHE" && GOBIN=$BIN timed kwok go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
fi

echo "binaries in $BIN"
