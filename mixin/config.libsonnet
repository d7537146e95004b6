// Settings of the aliyun_sas_exporter mixin. Override any of them with
//   (import 'mixin.libsonnet') + { _config+:: { exportStuckThreshold: '1h' } }
// Durations are Prometheus durations ("30m", "6h", "1h30m"); each is used in
// the rule's expression or `for`, in its description and in the dashboard, so
// the texts always say what the rules do.
{
  _config+:: {
    // Selects the exporter's scrape targets. Only AliyunSasExporterDown uses
    // it (up{...} and absent(up{...})); every other rule reads the exporter's
    // own series and works with any job name.
    aliyunSasExporterSelector: 'job="aliyun_sas"',

    // Every rule's runbook_url: runbookURLPattern % <alert name in lower case>,
    // the anchor of the alert's section in docs/runbook.md.
    runbookURLBase: 'https://github.com/aliyun-sas-exporter/aliyun_sas_exporter/blob/main/docs/runbook.md',
    runbookURLPattern: self.runbookURLBase + '#%s',

    // AliyunSasExportStuck: exporting, but neither Progress nor CurrentCount
    // changed for this long (while the task's polls succeed). The exporter's
    // poll_interval must be well below it. Also the dashboard's "Stuck exports".
    exportStuckThreshold: '30m',
    exportStuckFor: '5m',
    // AliyunSasExportInitStuck: still init this long after first seen.
    exportInitStuckThreshold: '30m',
    exportInitStuckFor: '5m',
    // AliyunSasExportTooLong: not finished this long after first seen.
    exportTooLongThreshold: '6h',
    exportTooLongFor: '5m',
    // AliyunSasExportUnknownStatus: lets a brief undocumented status pass.
    exportUnknownStatusFor: '5m',
    // AliyunSasExportPollFailing: every poll of the task failed this long.
    exportPollFailingFor: '15m',
    // AliyunSasApiPermissionDenied: errors seen in every window of this length
    // for this long, so an error the exporter heals itself (an STS token that
    // expired in flight: refreshed and retried) does not fire. With a
    // poll_interval above ~9m, widen the window beyond it.
    apiPermissionDeniedWindow: '10m',
    apiPermissionDeniedFor: '10m',
    // AliyunSasApiThrottled: more than this fraction of an account's API
    // attempts throttled over the window, for the `for` duration. Retries back
    // off, so occasional throttling is harmless.
    apiThrottledRatio: 0.1,
    apiThrottledWindow: '10m',
    apiThrottledFor: '15m',
    // AliyunSasExporterFallingBehind: an account's tasks ask for more requests
    // per second (unfinished tasks / poll_interval) than its
    // max_requests_per_second allows, or the given quantile of how late its
    // polls start, over the window, is above the threshold (default: half
    // the default poll_interval); either for the `for` duration.
    exporterFallingBehindLagThreshold: '30s',
    exporterFallingBehindLagQuantile: 0.9,
    exporterFallingBehindWindow: '10m',
    exporterFallingBehindFor: '15m',
    // AliyunSasCredentialsExpiring: temporary credentials expire in less than
    // this. The exporter refreshes them 3m before expiry, so this must stay
    // below 3m (anything above fires during every healthy rotation); `for`
    // covers the scrape delay after a successful refresh.
    credentialsExpiringThreshold: '2m',
    credentialsExpiringFor: '1m',
    // AliyunSasExporterDown: the target is down or absent this long.
    exporterDownFor: '5m',
    // AliyunSasExporterConfigReloadFailed: the last reload failed throughout
    // the window (as Prometheus' PrometheusBadConfig: a failure fixed within
    // it never counts), for the `for` duration.
    configReloadFailedWindow: '5m',
    configReloadFailedFor: '10m',
  },
}
