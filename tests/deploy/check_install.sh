#!/usr/bin/env bash
# `cmake --install` into a scratch root puts every file where the systemd
# unit and README say it is.
#   check_install.sh BUILD_DIR
set -euo pipefail
build=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
DESTDIR=$root cmake --install "$build" --prefix /usr > /dev/null
missing=0
for file in \
    usr/bin/aliyun_sas_exporter \
    usr/share/aliyun_sas_exporter/prometheus/alerts.yml \
    usr/share/aliyun_sas_exporter/dashboards/aliyun-sas-exports.json \
    usr/share/aliyun_sas_exporter/mixin/mixin.libsonnet \
    usr/lib/systemd/system/aliyun_sas_exporter.service \
    usr/share/doc/aliyun_sas_exporter/LICENSE \
    usr/share/doc/aliyun_sas_exporter/examples/aliyun_sas_exporter.toml \
    etc/aliyun_sas_exporter/aliyun_sas_exporter.toml \
    etc/default/aliyun_sas_exporter; do
  if [[ ! -f $root/$file ]]; then
    echo "not installed: /$file" >&2
    missing=1
  fi
done
[[ -d $root/etc/aliyun_sas_exporter/tasks.d ]] || {
  echo "not installed: /etc/aliyun_sas_exporter/tasks.d" >&2
  missing=1
}
# Any other prefix keeps the configuration under it.
other=$(mktemp -d)
trap 'rm -rf "$root" "$other"' EXIT
cmake --install "$build" --prefix "$other" > /dev/null
[[ -f $other/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml ]] || {
  echo "--prefix $other: not installed: $other/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml" >&2
  missing=1
}
"$root/usr/bin/aliyun_sas_exporter" --version > /dev/null
# The installed mixin renders on its own (every import installed) the rules
# installed beside it.
share=$root/usr/share/aliyun_sas_exporter
if ! jsonnet -J "$share" -S -e '(import "mixin/lib/yaml.libsonnet").manifest((import "mixin/mixin.libsonnet").prometheusAlerts)' \
    | diff -q - <(grep -v '^#' "$share/prometheus/alerts.yml") > /dev/null; then
  echo "the installed mixin does not render the installed alerts.yml" >&2
  missing=1
fi
"$root/usr/bin/aliyun_sas_exporter" --config.check \
  --config.file "$root/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml" > /dev/null
exit $missing
