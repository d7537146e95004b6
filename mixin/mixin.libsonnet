// aliyun_sas_exporter monitoring mixin (monitoring.mixins.dev layout):
//   prometheusAlerts   the alerting rules   (config/prometheus/alerts.yml)
//   grafanaDashboards  the Grafana dashboards (dashboards/*.json)
// Settings are in config.libsonnet; override them with
//   (import 'mixin.libsonnet') + { _config+:: { ... } }
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
