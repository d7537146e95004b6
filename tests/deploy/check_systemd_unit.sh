#!/usr/bin/env bash
# Checks deploy/systemd/aliyun_sas_exporter.service: systemd-analyze verify
# accepts it (with ExecStart pointed at the built binary), and every flag it
# passes exists in the binary's --help.
#   check_systemd_unit.sh UNIT EXPORTER_BINARY
set -euo pipefail
unit=$1
binary=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

sed "s#/usr/bin/aliyun_sas_exporter#$binary#" "$unit" \
  > "$scratch/aliyun_sas_exporter.service"
systemd-analyze verify "$scratch/aliyun_sas_exporter.service"

help=$("$binary" --help)
for flag in $(grep -o -- '--[a-z][a-z.-]*' "$unit" | sort -u); do
  if ! grep -q -- "$flag" <<<"$help"; then
    echo "$unit: $flag is not a flag of aliyun_sas_exporter" >&2
    exit 1
  fi
done
for key in StateDirectory ProtectSystem NoNewPrivileges; do
  grep -q "^$key=" "$unit" || { echo "$unit: no $key=" >&2; exit 1; }
done
# `systemctl reload` sends SIGHUP, which the exporter answers by reloading
# its configuration.
grep -qx 'ExecReload=/bin/kill -HUP \$MAINPID' "$unit" || {
  echo "$unit: no ExecReload=/bin/kill -HUP \$MAINPID" >&2
  exit 1
}
echo "$unit: OK"
