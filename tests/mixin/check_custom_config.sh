#!/usr/bin/env bash
# The mixin with settings other than the defaults (custom.libsonnet), rendered
# the way README.md tells users to: the rules pass `promtool check rules` and
# custom_alerts_test.yml, the dashboard uses the stuck threshold, and settings
# the mixin cannot honour are refused with a message naming them.
#   check_custom_config.sh SOURCE_DIR PROMTOOL
set -euo pipefail
source_dir=$1
promtool=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cp "$here/custom.libsonnet" "$here/custom_alerts_test.yml" "$out/"
cd "$out"
jsonnet -J "$source_dir" -S \
  -e 'std.manifestYamlDoc((import "custom.libsonnet").prometheusAlerts)' > alerts.yml
mkdir dashboards
jsonnet -J "$source_dir" -m dashboards \
  -e '(import "custom.libsonnet").grafanaDashboards' > /dev/null

"$promtool" check rules alerts.yml
"$promtool" test rules custom_alerts_test.yml

failed=0
expect_in() {  # FILE TEXT
  if ! grep -qF -- "$2" "$1"; then
    echo "$1 does not contain: $2" >&2
    failed=1
  fi
}
dashboard=dashboards/aliyun-sas-exports.json
expect_in "$dashboard" 'aliyun_sas_export_last_progress_timestamp_seconds{job=~\"$job\",instance=~\"$instance\",account=~\"$account\"} > 3600'
expect_in "$dashboard" 'exporting, no progress for 1h'
expect_in "$dashboard" 'no change of Progress or CurrentCount for 1 hour'

# Refused settings: jsonnet fails, and says which value is wrong.
expect_refused() {  # OVERRIDE MESSAGE
  local error
  if error=$(jsonnet -J "$source_dir" -S -e "std.manifestYamlDoc(((import \"mixin/mixin.libsonnet\") + {_config+:: {$1}}).prometheusAlerts)" 2>&1); then
    echo "accepted: $1" >&2
    failed=1
  elif [[ $error != *"$2"* ]]; then
    echo "refused $1 without saying \"$2\": $error" >&2
    failed=1
  fi
}
expect_refused "credentialsExpiringThreshold: '5m'" \
  'credentialsExpiringThreshold (5m) must be below 3m'
expect_refused "exportStuckThreshold: '30'" '_config.exportStuckThreshold: not a Prometheus duration: "30"'
expect_refused "exporterDownFor: '5 minutes'" '_config.exporterDownFor: not a Prometheus duration: "5 minutes"'
exit $failed
