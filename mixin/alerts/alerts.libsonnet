// The alerting rules of aliyun_sas_exporter, rendered to
// config/prometheus/alerts.yml. Conventions:
// - Task series are matched on the task key plus the target labels:
//   on (job, instance, account, rd_account_id, action, export_id). The export
//   IDs of different progress APIs (action) are separate number spaces, so
//   action is part of the key. Including job and instance keeps the joins
//   valid when two exporters watch the same export.
// - `* on (...) group_left (task) aliyun_sas_export_info` adds the configured
//   task name to task alerts (value unchanged: info is 1).
// - "first seen" is when the exporter first learned of the task (created_at
//   when given); it and "last progress" survive exporter restarts (kept in
//   --storage.path/state.json).
// - A finished export fires nothing but AliyunSasExportFailed (when it
//   failed): it is polled no more and its series keep their last values
//   (up = 1) for finished_retention, then disappear.
// - Expressions end in a newline (rendered as YAML `|` blocks); descriptions
//   are written over several lines and joined by single spaces (as YAML `>-`
//   would fold them). Every rule's runbook_url is the section of
//   docs/runbook.md named after the alert.
local durations = import '../lib/durations.libsonnet';

local taskKey = 'job, instance, account, rd_account_id, action, export_id';

// Lines joined by single spaces, without the text block's final newline.
local fold(text) = std.join(' ', std.split(std.rstripChars(text, '\n'), '\n'));

// `expr` (a text block) with the task's configured name added as the label
// task; every task alert goes through it.
local withTaskName(expr) = expr + |||
  * on (%s) group_left (task)
    aliyun_sas_export_info
||| % taskKey;

// "Export 1 ("assets") of account prod (member account 1667...)", on two
// lines (descriptions are folded).
local theExport = |||
  Export {{ $labels.export_id }} ("{{ $labels.task }}") of account
  {{ $labels.account }}{{ with $labels.rd_account_id }} (member account {{ . }}){{ end }}
|||;
// The task's progress ratio in `shown` (a template using `.`), or nothing
// when the task has none.
local withProgress(shown) =
  '{{ with printf "aliyun_sas_export_progress_ratio{job=%q,instance=%q,account=%q,rd_account_id=%q,action=%q,export_id=%q}" $labels.job $labels.instance $labels.account $labels.rd_account_id $labels.action $labels.export_id | query }}\n'
  + shown + '{{ end }}';

// The words for the targets AliyunSasExporterDown watches: "of job X" for the
// usual job="X" selector, "matching {<selector>}" otherwise.
local targetsText(selector) =
  local job = std.substr(selector, 5, std.length(selector) - 6);
  if std.startsWith(selector, 'job="') && std.endsWith(selector, '"')
     && std.length(selector) > 6 && std.findSubstr('"', job) == []
  then 'of job ' + job
  else 'matching {%s}' % selector;

// The exporter refreshes temporary credentials this long before they expire
// (kRefreshAhead in src/credentials/refreshing_provider.h);
// AliyunSasCredentialsExpiring must fire only below it.
local credentialsRefreshLead = '3m';

{
  prometheusAlerts+:: {
    local config = $._config,
    // A duration setting as written, in seconds or in words, checked.
    local setting = {
      duration(name):: durations.checked(config[name], name),
      seconds(name):: durations.seconds(config[name], name),
      words(name):: durations.words(config[name], name),
    },
    // One alerting rule: its description is folded, its runbook_url made from
    // its name, and it has a `for` when forDuration is given.
    local rule(alert, severity, expr, summary, description, forDuration=null) = {
      alert: alert,
      expr: expr,
      [if forDuration != null then 'for']: forDuration,
      labels: { severity: severity },
      annotations: {
        summary: summary,
        description: fold(description),
        runbook_url: config.runbookURLPattern % std.asciiLower(alert),
      },
    },
    assert setting.seconds('credentialsExpiringThreshold')
           < durations.seconds(credentialsRefreshLead, 'credentialsRefreshLead') :
           '_config.credentialsExpiringThreshold (%s) must be below %s: the exporter refreshes temporary credentials %s before they expire, so a larger threshold fires during every healthy rotation'
           % [config.credentialsExpiringThreshold, credentialsRefreshLead, credentialsRefreshLead],

    groups+: [
      {
        name: 'aliyun_sas_exporter',
        rules: [
          // Only while the task's polls succeed (up == 1): failing polls are
          // AliyunSasExportPollFailing.
          rule(
            'AliyunSasExportStuck',
            'warning',
            withTaskName(|||
              (
                  time() - aliyun_sas_export_last_progress_timestamp_seconds > %(threshold)d
                and on (%(key)s)
                  aliyun_sas_export_status{status="exporting"} == 1
                and on (%(key)s)
                  aliyun_sas_export_up == 1
              )
            ||| % { key: taskKey, threshold: setting.seconds('exportStuckThreshold') }),
            'Security Center export {{ $labels.task }} is not progressing.',
            theExport
            + 'is exporting but its progress has not changed for {{ $value | humanizeDuration }}'
            + withProgress('(stopped at {{ . | first | value | humanizePercentage }})') + '.',
            setting.duration('exportStuckFor'),
          ),

          rule(
            'AliyunSasExportInitStuck',
            'warning',
            withTaskName(|||
              (
                  time() - aliyun_sas_export_first_seen_timestamp_seconds > %(threshold)d
                and on (%(key)s)
                  aliyun_sas_export_status{status="init"} == 1
                and on (%(key)s)
                  aliyun_sas_export_up == 1
              )
            ||| % { key: taskKey, threshold: setting.seconds('exportInitStuckThreshold') }),
            'Security Center export {{ $labels.task }} has not started.',
            theExport + |||
              is still in status init {{ $value | humanizeDuration }} after the
              exporter first saw it.
            |||,
            setting.duration('exportInitStuckFor'),
          ),

          // Finished (success, failed) exports are excluded, and so are
          // unknown statuses (AliyunSasExportUnknownStatus already fires for
          // those).
          rule(
            'AliyunSasExportTooLong',
            'warning',
            withTaskName(|||
              (
                  time() - aliyun_sas_export_first_seen_timestamp_seconds > %(threshold)d
                unless on (%(key)s)
                  aliyun_sas_export_completed_timestamp_seconds
                unless on (%(key)s)
                  aliyun_sas_export_status{status=~"success|failed|unknown"} == 1
              )
            ||| % { key: taskKey, threshold: setting.seconds('exportTooLongThreshold') }),
            'Security Center export {{ $labels.task }} is taking too long.',
            theExport
            + 'has not finished {{ $value | humanizeDuration }} after the exporter first saw it'
            + withProgress('(progress {{ . | first | value | humanizePercentage }})') + '.',
            setting.duration('exportTooLongFor'),
          ),

          // The API reports the export failed (DescribeSuspEventExportInfo
          // "failed", DescribeReportExport "-1"): it will not finish, and the
          // report has to be exported again. Fires at once; nothing to wait for.
          rule(
            'AliyunSasExportFailed',
            'warning',
            withTaskName(|||
              (aliyun_sas_export_status{status="failed"} == 1)
            |||),
            'Security Center export {{ $labels.task }} failed.',
            |||
              Export {{ $labels.export_id }} ("{{ $labels.task }}", polled with
              {{ $labels.action }}) of account {{ $labels.account }}{{ with $labels.rd_account_id }}
              (member account {{ . }}){{ end }} failed in Security Center; no file
              will come of it. Start the export again.
            |||,
          ),

          // A status the API's documentation does not list for that action.
          rule(
            'AliyunSasExportUnknownStatus',
            'warning',
            withTaskName(|||
              (aliyun_sas_export_status{status="unknown"} == 1)
            |||),
            'Security Center export {{ $labels.task }} has an undocumented status.',
            theExport + |||
              (polled with {{ $labels.action }}) reports a status its API
              documentation does not list; it may never finish.
            |||,
            setting.duration('exportUnknownStatusFor'),
          ),

          // A finished task is no longer polled and keeps up = 1.
          rule(
            'AliyunSasExportPollFailing',
            'warning',
            withTaskName(|||
              (aliyun_sas_export_up == 0)
            |||),
            'Polls of Security Center export {{ $labels.task }} are failing.',
            |||
              {{ $labels.action }} for export {{ $labels.export_id }}
              ("{{ $labels.task }}") of account {{ $labels.account }}{{ with $labels.rd_account_id }}
              (member account {{ . }}){{ end }} has failed for at least %(for)s;
              its other metrics show the last successful poll. The error codes are
              in aliyun_sas_api_request_errors_total{account="{{ $labels.account }}"}.
            ||| % { 'for': setting.words('exportPollFailingFor') },
            setting.duration('exportPollFailingFor'),
          ),

          // Errors a person has to fix (RAM policy, AccessKey, secret, STS
          // token, Resource Directory delegation), from API calls or from
          // credential refreshes (these also count EntityNotExist.Role and
          // NoCredentials).
          rule(
            'AliyunSasApiPermissionDenied',
            'critical',
            |||
              (
                sum by (job, instance, account, code) (
                  increase(aliyun_sas_api_request_errors_total{code=~`NoPermission|Forbidden(\..+)?|RdCheckNoPermission|InvalidAccessKeyId(\..+)?|SignatureDoesNotMatch|IncompleteSignature|InvalidSecurityToken(\..+)?|MissingSecurityToken`}[%(window)s])
                ) > 0
              )
              or
              (
                sum by (job, instance, account, provider, code) (
                  increase(aliyun_sas_credentials_refresh_errors_total{code=~`NoPermission|Forbidden(\..+)?|RdCheckNoPermission|InvalidAccessKeyId(\..+)?|SignatureDoesNotMatch|IncompleteSignature|InvalidSecurityToken(\..+)?|MissingSecurityToken|EntityNotExist\.Role|NoCredentials`}[%(window)s])
                ) > 0
              )
            ||| % { window: setting.duration('apiPermissionDeniedWindow') },
            'Account {{ $labels.account }} is denied by Alibaba Cloud ({{ $labels.code }}).',
            |||
              {{ if $labels.provider }}Credential refreshes ({{ $labels.provider }}){{ else }}Security
              Center API calls{{ end }} of account {{ $labels.account }} keep failing with
              {{ $labels.code }} (about {{ $value | printf "%%.0f" }} in the last %(window)s). The
              exporter cannot fix this itself: the RAM policy, AccessKey, secret, STS
              token or Resource Directory delegation must be corrected.
            ||| % { window: setting.words('apiPermissionDeniedWindow') },
            setting.duration('apiPermissionDeniedFor'),
          ),

          // Throttling, Throttling.User, Throttling.Api.
          rule(
            'AliyunSasApiThrottled',
            'warning',
            |||
              (
                sum by (job, instance, account) (
                  rate(aliyun_sas_api_request_errors_total{code=~"Throttling.*"}[%(window)s])
                )
              /
                sum by (job, instance, account) (
                  rate(aliyun_sas_api_requests_total[%(window)s])
                )
              ) > %(ratio)g
            ||| % { window: setting.duration('apiThrottledWindow'), ratio: config.apiThrottledRatio },
            'Account {{ $labels.account }} is being throttled by Alibaba Cloud.',
            |||
              {{ $value | humanizePercentage }} of the Security Center API attempts of
              account {{ $labels.account }} were throttled over the last %(window)s,
              for at least %(for)s. Polls are delayed and the account's API quota
              is shared with whatever else calls it.
            ||| % {
              window: setting.words('apiThrottledWindow'),
              'for': setting.words('apiThrottledFor'),
            },
            setting.duration('apiThrottledFor'),
          ),

          // The exporter cannot keep up with an account; the `reason` label
          // says whether by demand or by lag.
          rule(
            'AliyunSasExporterFallingBehind',
            'warning',
            |||
              label_replace(
                  aliyun_sas_account_demanded_requests_per_second
                > on (job, instance, account)
                  aliyun_sas_account_max_requests_per_second,
                "reason", "demand", "", ""
              )
              or
              label_replace(
                histogram_quantile(%(quantile)g,
                  sum by (job, instance, account, le) (
                    rate(aliyun_sas_poll_start_lag_seconds_bucket[%(window)s])
                  )
                ) > %(threshold)d,
                "reason", "lag", "", ""
              )
            ||| % {
              quantile: config.exporterFallingBehindLagQuantile,
              window: setting.duration('exporterFallingBehindWindow'),
              threshold: setting.seconds('exporterFallingBehindLagThreshold'),
            },
            'aliyun_sas_exporter is falling behind on account {{ $labels.account }}.',
            |||
              {{ if eq $labels.reason "demand" }}The tasks of account {{ $labels.account }}
              need {{ $value | printf "%%.2f" }} requests per second, more than its
              max_requests_per_second allows{{ else }}Polls of account {{ $labels.account }}
              start up to {{ $value | humanizeDuration }} late (%(percentile)s percentile over
              %(window)s){{ end }} on {{ $labels.instance }}: its exports are seen late. Raise
              poll_interval or max_requests_per_second, or add replicas (--total-shards).
            ||| % {
              percentile: '%dth' % std.floor(config.exporterFallingBehindLagQuantile * 100 + 0.5),
              window: setting.words('exporterFallingBehindWindow'),
            },
            setting.duration('exporterFallingBehindFor'),
          ),

          // STS, ECS RAM role, OIDC, credentials URI. Below the threshold the
          // exporter's refreshes have failed for a while (and the alert keeps
          // firing once they have expired).
          rule(
            'AliyunSasCredentialsExpiring',
            'critical',
            |||
              aliyun_sas_credentials_expiry_timestamp_seconds - time() < %(threshold)d
            ||| % { threshold: setting.seconds('credentialsExpiringThreshold') },
            'Credentials of account {{ $labels.account }} are expiring and not refreshed.',
            |||
              The temporary credentials ({{ $labels.provider }}) of account
              {{ $labels.account }} {{ if gt $value 0.0 }}expire in {{ $value | humanizeDuration }}{{ else }}have
              expired{{ end }}: refreshing them fails, and every poll of the account
              fails once they expire. See aliyun_sas_credentials_refresh_errors_total
              and the exporter's "Credentials refresh failed" log line.
            |||,
            setting.duration('credentialsExpiringFor'),
          ),

          // The exporter's scrape fails, or no target matches the selector.
          rule(
            'AliyunSasExporterDown',
            'critical',
            |||
              up{%(selector)s} == 0 or absent(up{%(selector)s})
            ||| % { selector: config.aliyunSasExporterSelector },
            'aliyun_sas_exporter is down.',
            |||
              {{ with $labels.instance }}Prometheus cannot scrape aliyun_sas_exporter at
              {{ . }} (job {{ $labels.job }}){{ else }}Prometheus has no target
              %(targets)s{{ end }}: no Security Center export is being watched.
            ||| % { targets: targetsText(config.aliyunSasExporterSelector) },
            setting.duration('exporterDownFor'),
          ),

          // The last configuration reload (SIGHUP or POST /-/reload) was
          // refused: the exporter runs an older configuration than its file.
          rule(
            'AliyunSasExporterConfigReloadFailed',
            'warning',
            |||
              max_over_time(aliyun_sas_exporter_config_last_reload_successful[%s]) == 0
            ||| % setting.duration('configReloadFailedWindow'),
            'aliyun_sas_exporter has failed to reload its configuration.',
            |||
              aliyun_sas_exporter at {{ $labels.instance }} refused its configuration
              file at the last reload: it keeps running the previous one, and the
              next restart fails with the same problems. Its log line
              "Configuration reload failed" names them with file:line:column.
            |||,
            setting.duration('configReloadFailedFor'),
          ),
        ],
      },
    ],
  },
}
