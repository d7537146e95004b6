// The repository's files rendered from the mixin with its default settings,
// each field a path relative to the repository root: `text` holds files
// written as they are (jsonnet -S -m), `json` values jsonnet writes as JSON
// (jsonnet -m). scripts/generate-mixin (`make mixin`) writes both; the ctest
// mixin_generated_files_current fails when a committed file differs.
local mixin = import 'mixin.libsonnet';

local yaml = (import 'lib/yaml.libsonnet').manifest;

local notice = 'Generated from mixin/ by scripts/generate-mixin (`make mixin`); do not edit.';
local comment(lines) = std.join('', ['# %s\n' % line for line in lines]);

{
  text: {
    'config/prometheus/alerts.yml':
      comment([
        notice,
        'Alerting rules for aliyun_sas_exporter (Alibaba Cloud Security Center export',
        'tasks). Load with `rule_files:` (see prometheus.yml next to this file); check',
        'with `promtool check rules alerts.yml`; unit tests in tests/prometheus/.',
        'The job selector, thresholds and runbook URL are set in mixin/config.libsonnet;',
        'to change them, render your own copy as mixin/README.md shows. Each alert is',
        'explained in docs/runbook.md.',
      ])
      + yaml(mixin.prometheusAlerts),

    // The same groups for the prometheus-operator; deploy/kubernetes (kustomize)
    // lists it as a resource and sets its namespace.
    'deploy/kubernetes/prometheus-rule.yaml':
      comment([notice])
      + yaml({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: {
          name: 'aliyun-sas-exporter',
          labels: { 'app.kubernetes.io/name': 'aliyun-sas-exporter' },
        },
        spec: mixin.prometheusAlerts,
      }),
  },

  // JSON has no comments: the notice is in mixin/README.md and the ctest.
  json: {
    ['dashboards/' + name]: mixin.grafanaDashboards[name]
    for name in std.objectFields(mixin.grafanaDashboards)
  },
}
