#!/usr/bin/env bash
# `make test-image`: builds the Dockerfile with podman from local Debian base
# images (tests/image/make-base-images; no registry), then runs the simulator
# and the exporter images on the host network against each other on
# loopback, and checks what the image promises: a non-root user, port 10075,
# a HEALTHCHECK answered by --healthcheck, a default configuration that
# starts without any variable, and no compiler in the runtime stage.
# With BUILD_DIR (where `make package` left the .deb), the .deb is also
# installed, checked and purged in a debian:bookworm-slim container, with
# its dependencies from the Debian mirror.
#   tests/image/check_image.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=${1:-}
image=localhost/aliyun_sas_exporter:test
simulator_image=localhost/aliyun_sas_simulator:test
podman=(podman --runtime runc)
# runc in this sandbox may not raise rlimits: podman's defaults (nofile
# 1048576) fail, these are below the host's.
run=("${podman[@]}" run --ulimit nofile=8192:8192 --ulimit nproc=4096:4096)
containers=()
cleanup() {
  for container in "${containers[@]}"; do
    podman rm -f "$container" > /dev/null 2>&1 || true
  done
  rm -rf "$scratch"
}
scratch=$(mktemp -d)
trap cleanup EXIT
fail() { echo "check_image: $*" >&2; exit 1; }
now() { date +%s; }
start=$(now)

tests/image/make-base-images
echo "check_image: base images ready after $(($(now) - start)) s" >&2

# The host's ccache makes a rebuild fast: the image builds in /src like a
# worktree, so the cache's relative paths match.
ccache_dir=$(ccache -k cache_dir 2>/dev/null || echo "$HOME/.cache/ccache")
mkdir -p "$ccache_dir"
build=(build --pull=never --network host --format docker
       -v "$ccache_dir:/ccache" --build-arg SAS_WERROR=ON)
"${podman[@]}" "${build[@]}" -t "$image" . > "$scratch/build.log" 2>&1 \
  || { tail -50 "$scratch/build.log" >&2; fail "podman build failed"; }
"${podman[@]}" "${build[@]}" --target simulator -t "$simulator_image" . \
  > "$scratch/build-simulator.log" 2>&1 \
  || { tail -50 "$scratch/build-simulator.log" >&2; fail "simulator build failed"; }
echo "check_image: images built after $(($(now) - start)) s" >&2

# What the image says about itself.
inspect() { podman image inspect --format "$1" "$image"; }
[[ $(inspect '{{.Config.User}}') == 10075:10075 ]] \
  || fail "the image runs as $(inspect '{{.Config.User}}'), not 10075:10075"
[[ $(inspect '{{json .Config.ExposedPorts}}') == *'"10075/tcp"'* ]] \
  || fail "the image does not expose 10075/tcp"
[[ $(inspect '{{json .Config.Healthcheck.Test}}') == *--healthcheck* ]] \
  || fail "the image's HEALTHCHECK does not run --healthcheck"
found=$("${run[@]}" --rm --network none --entrypoint /bin/sh "$image" -c \
  'for p in gcc g++ c++ cmake curl; do command -v $p || true; done; echo checked')
[[ $found == checked ]] || fail "the runtime stage has a compiler, cmake or curl: $found"
version=$("${run[@]}" --rm --network none "$image" --version)
[[ $version == "aliyun_sas_exporter, version"* ]] \
  || fail "--version does not run in the image: $version"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_for SECONDS URL PATTERN: until the page at URL matches PATTERN.
wait_for() {
  local deadline=$(($(now) + $1))
  while (($(now) < deadline)); do
    if python3 - "$2" "$3" <<'PY' 2>/dev/null; then return 0; fi
import re, sys, urllib.request
body = urllib.request.urlopen(sys.argv[1], timeout=2).read().decode()
sys.exit(0 if re.search(sys.argv[2], body, re.M) else 1)
PY
    sleep 0.5
  done
  return 1
}

# The simulator image on loopback with the demo scenario.
secret=image-test-secret
simulator_port=$(free_port)
containers+=(sas-image-test-simulator-$$)
"${run[@]}" -d --name "${containers[-1]}" --network host \
  -v "$PWD/config/simulator/demo.toml:/scenario.toml:ro" "$simulator_image" \
  --web.listen-address "127.0.0.1:$simulator_port" \
  --access-key "LTAIImageTest:$secret" --scenario.file /scenario.toml > /dev/null
deadline=$(($(now) + 60))
until podman logs "${containers[-1]}" 2>/dev/null | grep -q "listening on"; do
  if (($(now) > deadline)) || [[ $(podman inspect --format '{{.State.Running}}' "${containers[-1]}") != true ]]; then
    podman logs "${containers[-1]}" >&2
    fail "the simulator image did not start"
  fi
  sleep 0.5
done

# The exporter image polling it: a progressing export and a stuck one.
cat > "$scratch/exporter.toml" <<TOML
[exporter]
poll_interval = "1s"
[[account]]
name = "image"
endpoint = "http://127.0.0.1:$simulator_port"
[account.credentials]
access_key_id = "LTAIImageTest"
access_key_secret_env = "IMAGE_TEST_SECRET"
[[task]]
account = "image"
export_id = 1001
[[task]]
account = "image"
export_id = 1004
TOML
chmod 644 "$scratch/exporter.toml"
exporter_port=$(free_port)
containers+=(sas-image-test-exporter-$$)
"${run[@]}" -d --name "${containers[-1]}" --network host \
  -e IMAGE_TEST_SECRET="$secret" \
  -v "$scratch/exporter.toml:/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml:ro" \
  --health-cmd "[\"/usr/bin/aliyun_sas_exporter\", \"--healthcheck\", \"--web.listen-address=127.0.0.1:$exporter_port\"]" \
  "$image" --config.file=/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml \
  --storage.path=/var/lib/aliyun_sas_exporter \
  --web.listen-address="127.0.0.1:$exporter_port" > /dev/null
metrics=http://127.0.0.1:$exporter_port/metrics
for export_id in 1001 1004; do
  wait_for 60 "$metrics" "^aliyun_sas_export_up\{.*export_id=\"$export_id\".*\} 1$" || {
    podman logs "${containers[-1]}" >&2
    fail "the exporter in the image did not poll export $export_id of the simulator"
  }
done
"${podman[@]}" healthcheck run "${containers[-1]}" \
  || fail "podman healthcheck run: the exporter is not healthy"
# The storage volume is writable by the image's user.
podman exec "${containers[-1]}" test -w /var/lib/aliyun_sas_exporter \
  || fail "/var/lib/aliyun_sas_exporter is not writable by the image's user"
if podman logs "${containers[-1]}" 2>&1 | grep -q -- "$secret"; then
  fail "the exporter logged the AccessKey secret"
fi

# The default configuration and command start without any variable (the
# default chain finds nothing yet; the metadata service is not asked, so
# nothing leaves loopback) and the default HEALTHCHECK port answers.
# On the default port when it is free, so that the image's own HEALTHCHECK
# (which asks :10075) is what runs.
default_port=10075
if ! python3 -c 'import socket; socket.socket().bind(("127.0.0.1", 10075))' 2> /dev/null; then
  default_port=$(free_port)
fi
containers+=(sas-image-test-default-$$)
"${run[@]}" -d --name "${containers[-1]}" --network host \
  -e ALIBABA_CLOUD_ECS_METADATA_DISABLED=true "$image" \
  --config.file=/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml \
  --storage.path=/var/lib/aliyun_sas_exporter \
  --web.listen-address="127.0.0.1:$default_port" > /dev/null
wait_for 30 "http://127.0.0.1:$default_port/-/healthy" . || {
  podman logs "${containers[-1]}" >&2
  fail "the default configuration does not start"
}
if [[ $default_port == 10075 ]]; then
  "${podman[@]}" healthcheck run "${containers[-1]}" \
    || fail "the image's HEALTHCHECK says unhealthy"
fi
podman exec "${containers[-1]}" /usr/bin/aliyun_sas_exporter --healthcheck \
  "--web.listen-address=127.0.0.1:$default_port" > /dev/null \
  || fail "--healthcheck in the image says unhealthy"
podman exec "${containers[-1]}" /usr/bin/aliyun_sas_exporter --healthcheck \
  "--web.listen-address=127.0.0.1:$(free_port)" 2> /dev/null \
  && fail "--healthcheck says healthy where nothing listens"

if [[ -n $build_dir ]]; then
  deb=$(realpath "$(ls "$build_dir"/aliyun-sas-exporter_*.deb | tail -1)")
  "${run[@]}" --rm --network host -v "$deb:/tmp/package.deb:ro" \
    localhost/debian:bookworm-slim sh -euc '
      fail() { echo "check_image: .deb: $*" >&2; exit 1; }
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends /tmp/package.deb > /dev/null
      id aliyun_sas_exporter > /dev/null || fail "no user aliyun_sas_exporter"
      wants=/etc/systemd/system/multi-user.target.wants/aliyun_sas_exporter.service
      [ -L $wants ] || fail "the unit is not enabled"
      config=/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml
      [ "$(stat -c %U:%G:%a $config)" = root:aliyun_sas_exporter:640 ] \
        || fail "$config is $(stat -c %U:%G:%a $config)"
      [ "$(stat -c %U:%G:%a /etc/default/aliyun_sas_exporter)" = root:root:600 ] \
        || fail "/etc/default/aliyun_sas_exporter is not root:root 600"
      # The package user can read the configuration and it loads: Depends
      # brought every library the binary needs.
      su -s /bin/sh aliyun_sas_exporter -c \
        "aliyun_sas_exporter --config.check --config.file $config" > /dev/null \
        || fail "the package user cannot run --config.check"
      apt-get purge -y -qq aliyun-sas-exporter > /dev/null
      [ ! -e $wants ] || fail "purge left the unit enabled"
      [ ! -e /usr/bin/aliyun_sas_exporter ] || fail "purge left the binary"
    ' || fail "the .deb does not install, run and purge in debian:bookworm-slim"
  echo "check_image: the .deb installs and purges in bookworm-slim" >&2
fi
echo "check_image: OK in $(($(now) - start)) s" >&2
