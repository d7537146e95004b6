// A mixin with its own settings, as README.md and mixin/README.md show one.
// check_custom_config.sh renders it and proves the settings reach the rules
// and the dashboard.
(import 'mixin/mixin.libsonnet') + {
  _config+:: {
    aliyunSasExporterSelector: 'job="sas",env="prod"',
    exportStuckThreshold: '1h',
    exporterDownFor: '2m',
    runbookURLBase: 'https://wiki.example.com/sas-runbook',
  },
}
