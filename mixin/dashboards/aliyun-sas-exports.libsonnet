// The Grafana dashboard of export tasks, API and credential health and the
// exporter itself, rendered to dashboards/aliyun-sas-exports.json. Every
// query filters by the $job, $instance (and, for task, API and credential
// series, $account) variables and reads data through the $datasource
// variable; tests/unit/dashboards lints the rendered file.
local durations = import '../lib/durations.libsonnet';

local datasource = { type: 'prometheus', uid: '${datasource}' };
local taskKey = 'job, instance, account, rd_account_id, action, export_id';

// `metric{<the dashboard's filters><extra matchers>}`.
local instanceFilters = 'job=~"$job",instance=~"$instance"';
local accountFilters = instanceFilters + ',account=~"$account"';
local perInstance(metric) = '%s{%s}' % [metric, instanceFilters];
local perAccount(metric, matchers='') = '%s{%s%s}' % [metric, accountFilters, matchers];

// Panels and their parts.
local gridPos(x, y, w, h) = { x: x, y: y, w: w, h: h };
local row(id, title, y) = {
  id: id,
  type: 'row',
  title: title,
  collapsed: false,
  gridPos: gridPos(0, y, 24, 1),
  panels: [],
};
local panel(id, type, title, description, pos) = {
  id: id,
  type: type,
  title: title,
  description: description,
  datasource: datasource,
  gridPos: pos,
};

local target(refId, expr) = { datasource: datasource, expr: expr, refId: refId };
local legend(format) = { legendFormat: format };
local instant = { instant: true, range: false };
local tableTarget(refId, expr) = target(refId, expr) + instant + { format: 'table' };

local step(color, value) = { color: color, value: value };
local thresholds(steps) = {
  color: { mode: 'thresholds' },
  thresholds: { mode: 'absolute', steps: steps },
};
// Green at 0, red from 1: a count of things that need attention.
local problemCount = thresholds([step('green', null), step('red', 1)]);

local stat(id,
           title,
           description,
           pos,
           defaults,
           targets,
           colorMode='background',
           textMode='auto',
           graphMode='none',
           overrides=[]) =
  panel(id, 'stat', title, description, pos) {
    fieldConfig: { defaults: defaults, overrides: overrides },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: colorMode,
      graphMode: graphMode,
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: textMode,
    },
    targets: targets,
  };

local timeseries(id, title, description, pos, unit, targets, fillOpacity=10, defaults={}) =
  panel(id, 'timeseries', title, description, pos) {
    fieldConfig: {
      defaults: { unit: unit, min: 0, custom: { lineWidth: 1, fillOpacity: fillOpacity } } + defaults,
      overrides: [],
    },
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    targets: targets,
  };

local table(id, title, description, pos, defaults, overrides, sortBy, targets, transformations) =
  panel(id, 'table', title, description, pos) {
    fieldConfig: { defaults: defaults, overrides: overrides },
    options: { showHeader: true, sortBy: [sortBy] },
    targets: targets,
    transformations: transformations,
  };

local byName(name, properties) = { matcher: { id: 'byName', options: name }, properties: properties };
local property(id, value) = { id: id, value: value };
local fixedColor(color) = property('color', { mode: 'fixed', fixedColor: color });
// Value mappings: { value: [text, color] } in the order given.
local valueMappings(pairs) = [{
  type: 'value',
  options: {
    [pairs[i][0]]: { text: pairs[i][1], color: pairs[i][2], index: i }
    for i in std.range(0, std.length(pairs) - 1)
  },
}];
local statusColors = [['init', 'yellow'], ['exporting', 'blue'], ['success', 'green'], ['unknown', 'red']];

local queryVariable(name, label, metric, refId) = {
  name: name,
  label: label,
  type: 'query',
  datasource: datasource,
  query: { query: 'label_values(%s, %s)' % [metric, name], refId: refId },
  definition: 'label_values(%s, %s)' % [metric, name],
  refresh: 2,
  includeAll: true,
  multi: true,
  allValue: '.+',
  current: { selected: true, text: ['All'], value: ['$__all'] },
  hide: 0,
  regex: '',
  sort: 1,
};

{
  grafanaDashboards+:: {
    local config = $._config,
    // A duration setting as written, in seconds or in words, checked.
    local setting = {
      duration(name):: durations.checked(config[name], name),
      seconds(name):: durations.seconds(config[name], name),
      words(name):: durations.words(config[name], name),
    },

    // Exporting with no progress, or still init, past the alert thresholds
    // (the `for` of the alerts is not added), with a "reason" label.
    local stuckExports =
      'label_replace((time() - %s > %d) and on (%s) (%s == 1), "reason", "exporting, no progress for %s", "job", ".*")'
      % [
        perAccount('aliyun_sas_export_last_progress_timestamp_seconds'),
        setting.seconds('exportStuckThreshold'),
        taskKey,
        perAccount('aliyun_sas_export_status', ',status="exporting"'),
        setting.duration('exportStuckThreshold'),
      ]
      + ' or '
      + 'label_replace((time() - %s > %d) and on (%s) (%s == 1), "reason", "still init %s after first seen", "job", ".*")'
        % [
          perAccount('aliyun_sas_export_first_seen_timestamp_seconds'),
          setting.seconds('exportInitStuckThreshold'),
          taskKey,
          perAccount('aliyun_sas_export_status', ',status="init"'),
          setting.duration('exportInitStuckThreshold'),
        ],
    local stuckWords = setting.words('exportStuckThreshold'),
    local initStuckWords = setting.words('exportInitStuckThreshold'),
    local withTaskName = ' * on (%s) group_left (task) %s' % [taskKey, perAccount('aliyun_sas_export_info')],
    // The latest value of one task series, for the merged "Export tasks" table.
    local perTask(metric, extraLabel='') =
      'max by (%s%s) (%s)' % [taskKey, extraLabel, metric],

    'aliyun-sas-exports.json': {
      uid: 'aliyun-sas-exports',
      title: 'Alibaba Cloud Security Center exports',
      description: 'Security Center export tasks (DescribeExportInfo) watched by aliyun_sas_exporter: status, stuck exports, progress, API and credential health.',
      tags: ['aliyun', 'security-center', 'aliyun_sas_exporter'],
      timezone: 'browser',
      schemaVersion: 36,
      version: 1,
      editable: true,
      graphTooltip: 1,
      refresh: '1m',
      time: { from: 'now-6h', to: 'now' },
      links: [],
      annotations: { list: [] },
      templating: {
        list: [
          {
            name: 'datasource',
            label: 'Data source',
            type: 'datasource',
            query: 'prometheus',
            current: {},
            hide: 0,
            refresh: 1,
            regex: '',
            includeAll: false,
            multi: false,
          },
          queryVariable('job', 'Job', 'aliyun_sas_exporter_build_info', 'job-variable'),
          queryVariable('instance', 'Instance', 'aliyun_sas_exporter_build_info{job=~"$job"}', 'instance-variable'),
          queryVariable('account', 'Account', perInstance('aliyun_sas_export_first_seen_timestamp_seconds'), 'account-variable'),
        ],
      },

      panels: [
        row(1, 'Exports', 0),

        stat(
          2,
          'Exports by status',
          "Tracked export tasks in each ExportStatus from the latest successful poll. unknown is an undocumented status (a failed export). Tasks never polled successfully have no status and count under 'Tasks failing to poll'.",
          gridPos(0, 1, 9, 5),
          { unit: 'short' } + thresholds([step('text', null)]),
          [target('A', 'sum by (status) (%s)' % perAccount('aliyun_sas_export_status')) + legend('{{status}}') + instant],
          colorMode='value',
          textMode='value_and_name',
          overrides=[byName(status[0], [fixedColor(status[1])]) for status in statusColors],
        ),

        stat(
          3,
          'Stuck exports',
          'Exports exporting with no change of Progress or CurrentCount for %s, plus exports still init %s after they were first seen. The table below lists them.'
          % [stuckWords, initStuckWords],
          gridPos(9, 1, 5, 5),
          { unit: 'short' } + problemCount,
          [target('A', 'count(%s) or vector(0)' % stuckExports) + instant],
        ),

        stat(
          19,
          'Failed exports',
          "Exports the API reports failed (status failed: DescribeSuspEventExportInfo 'failed', DescribeReportExport '-1'). They are finished and will not produce a file; each fires AliyunSasExportFailed. Start them again.",
          gridPos(14, 1, 5, 5),
          { unit: 'short' } + problemCount,
          [target('A', 'count(%s == 1) or vector(0)' % perAccount('aliyun_sas_export_status', ',status="failed"')) + instant],
        ),

        stat(
          4,
          'Tasks failing to poll',
          "Tasks whose latest DescribeExportInfo poll failed (aliyun_sas_export_up == 0); their other values are from the last successful poll. See 'API requests and errors' for the error codes.",
          gridPos(19, 1, 5, 5),
          { unit: 'short' } + problemCount,
          [target('A', 'count(%s == 0) or vector(0)' % perAccount('aliyun_sas_export_up')) + instant],
        ),

        table(
          5,
          'Stuck export tasks',
          'Each stuck export and for how long: exporting with no progress (since aliyun_sas_export_last_progress_timestamp_seconds) for %s, or still init %s after aliyun_sas_export_first_seen_timestamp_seconds.'
          % [stuckWords, initStuckWords],
          gridPos(0, 6, 24, 6),
          { unit: 'dtdurations' },
          [],
          { displayName: 'stuck for', desc: true },
          [tableTarget('A', '(%s)%s' % [stuckExports, withTaskName])],
          [{
            id: 'organize',
            options: {
              excludeByName: { Time: true, job: true },
              indexByName: { task: 0, account: 1, rd_account_id: 2, export_id: 3, reason: 4, Value: 5, instance: 6 },
              renameByName: { rd_account_id: 'member account', export_id: 'export ID', Value: 'stuck for' },
            },
          }],
        ),

        table(
          6,
          'Export tasks',
          'Every tracked export from its latest successful poll. Estimated completion = remaining entries (TotalCount - CurrentCount) / the rate of CurrentCount over the last 30 minutes (deriv), for exports still exporting; — when there is no recent progress to extrapolate. Member account is the RdAccountId the task reads (empty: the account itself).',
          gridPos(0, 12, 24, 10),
          { unit: 'short' },
          [
            byName('status', [
              property('custom.displayMode', 'color-text'),
              property('mappings', valueMappings([[status[0], status[0], status[1]] for status in statusColors])),
            ]),
            byName('progress', [
              property('unit', 'percentunit'),
              property('min', 0),
              property('max', 1),
              property('decimals', 0),
              property('custom.displayMode', 'basic'),
              property('color', { mode: 'continuous-BlPu' }),
            ]),
            byName('current entries', [property('unit', 'short')]),
            byName('total entries', [property('unit', 'short')]),
            byName('since last progress', [property('unit', 'dtdurations')]),
            byName('estimated completion', [
              property('unit', 'dtdurations'),
              property('noValue', '—'),
              property('mappings', [{ type: 'special', options: { match: 'null+nan', result: { text: '—' } } }]),
            ]),
          ],
          { displayName: 'task', desc: false },
          [
            tableTarget('A', perTask(perAccount('aliyun_sas_export_info'), ', task')),
            tableTarget('B', perTask(perAccount('aliyun_sas_export_status') + ' == 1', ', status')),
            tableTarget('C', perTask(perAccount('aliyun_sas_export_progress_ratio'))),
            tableTarget('D', perTask(perAccount('aliyun_sas_export_current_entries'))),
            tableTarget('E', perTask(perAccount('aliyun_sas_export_total_entries'))),
            tableTarget('F', 'time() - ' + perTask(perAccount('aliyun_sas_export_last_progress_timestamp_seconds'))),
            tableTarget(
              'G',
              '((%s - %s) / (deriv(%s[30m]) > 0) and on (%s) (%s == 1)) or (%s * NaN)' % [
                perAccount('aliyun_sas_export_total_entries'),
                perAccount('aliyun_sas_export_current_entries'),
                perAccount('aliyun_sas_export_current_entries'),
                taskKey,
                perAccount('aliyun_sas_export_status', ',status="exporting"'),
                perAccount('aliyun_sas_export_total_entries'),
              ]
            ),
          ],
          [
            { id: 'merge', options: {} },
            {
              id: 'organize',
              options: {
                excludeByName: { Time: true, job: true, 'Value #A': true, 'Value #B': true },
                indexByName: {
                  task: 0,
                  account: 1,
                  rd_account_id: 2,
                  export_id: 3,
                  status: 4,
                  'Value #C': 5,
                  'Value #D': 6,
                  'Value #E': 7,
                  'Value #F': 8,
                  'Value #G': 9,
                  instance: 10,
                },
                renameByName: {
                  rd_account_id: 'member account',
                  export_id: 'export ID',
                  'Value #C': 'progress',
                  'Value #D': 'current entries',
                  'Value #E': 'total entries',
                  'Value #F': 'since last progress',
                  'Value #G': 'estimated completion',
                },
              },
            },
          ],
        ),

        timeseries(
          7,
          'Progress over time',
          'Progress (Progress / 100) of each export, named by its configured task name.',
          gridPos(0, 22, 24, 8),
          'percentunit',
          [target('A', perAccount('aliyun_sas_export_progress_ratio') + withTaskName) + legend('{{task}} ({{account}}/{{export_id}})')],
          fillOpacity=0,
          defaults={ max: 1, custom+: { spanNulls: false } },
        ),

        row(8, 'Alibaba Cloud API and credentials', 30),

        timeseries(
          9,
          'API requests and errors',
          "HTTP attempts per second to the Security Center API (retries included), and failed attempts by error code: the API's Code, or timeout, connection, tls, bad_response, http_<status>.",
          gridPos(0, 31, 12, 8),
          'reqps',
          [
            target('A', 'sum by (account, action) (rate(%s[$__rate_interval]))' % perAccount('aliyun_sas_api_requests_total'))
            + legend('{{account}} {{action}} requests'),
            target('B', 'sum by (account, code) (rate(%s[$__rate_interval]))' % perAccount('aliyun_sas_api_request_errors_total'))
            + legend('{{account}} error {{code}}'),
          ],
        ),

        timeseries(
          10,
          'API request latency',
          'p50, p90 and p99 of the duration of one HTTP attempt to the API, from the aliyun_sas_api_request_duration_seconds histogram.',
          gridPos(12, 31, 12, 8),
          's',
          [
            target(quantile[0], 'histogram_quantile(%s, sum by (le, account) (rate(%s[$__rate_interval])))'
                                % [quantile[1], perAccount('aliyun_sas_api_request_duration_seconds_bucket')])
            + legend('%s {{account}}' % quantile[2])
            for quantile in [['A', '0.5', 'p50'], ['B', '0.9', 'p90'], ['C', '0.99', 'p99']]
          ],
          fillOpacity=0,
        ),

        stat(
          11,
          'Credential expiry',
          "Time until each account's temporary credentials expire. They are refreshed 180 s before; below that the refresh is failing, below zero they have expired. Accounts with long-lived AccessKeys have no expiry.",
          gridPos(0, 39, 12, 6),
          { unit: 'dtdurations', noValue: 'no temporary credentials' }
          + thresholds([step('red', null), step('orange', 0), step('green', 180)]),
          [target('A', perAccount('aliyun_sas_credentials_expiry_timestamp_seconds') + ' - time()') + legend('{{account}} ({{provider}})') + instant],
          textMode='value_and_name',
        ),

        timeseries(
          12,
          'Credential refreshes',
          'Fetches of credentials per second (STS, metadata service, files), and failed fetches by error code.',
          gridPos(12, 39, 12, 6),
          'ops',
          [
            target('A', 'sum by (account) (rate(%s[$__rate_interval]))' % perAccount('aliyun_sas_credentials_refreshes_total'))
            + legend('{{account}} refreshes'),
            target('B', 'sum by (account, code) (rate(%s[$__rate_interval]))' % perAccount('aliyun_sas_credentials_refresh_errors_total'))
            + legend('{{account}} error {{code}}'),
          ],
        ),

        row(13, 'Exporter', 45),

        stat(
          14,
          'Exporter up',
          'Whether Prometheus could scrape each exporter instance (up).',
          gridPos(0, 46, 6, 6),
          { unit: 'none', mappings: valueMappings([['0', 'down', 'red'], ['1', 'up', 'green']]) }
          + thresholds([step('red', null), step('green', 1)]),
          [target('A', perInstance('up')) + legend('{{instance}}') + instant],
          textMode='value_and_name',
        ),

        stat(
          15,
          'Tasks tracked',
          'Export tasks each exporter instance tracks (aliyun_sas_exporter_tasks), polled or not.',
          gridPos(6, 46, 6, 6),
          { unit: 'short' } + thresholds([step('blue', null)]),
          [target('A', perInstance('aliyun_sas_exporter_tasks')) + legend('{{instance}}')],
          colorMode='value',
          textMode='value_and_name',
          graphMode='area',
        ),

        timeseries(
          16,
          'Data age',
          "Seconds since the oldest latest-successful-poll among each account's unfinished tasks: time() - aliyun_sas_export_last_success_timestamp_seconds. Values come from background polls, so this saws up to the poll interval; a steady climb means polls fail. Completed tasks are no longer polled and are left out.",
          gridPos(12, 46, 12, 6),
          's',
          [
            target('A', 'max by (job, instance, account) ((time() - %s) and on (%s) (%s == 1))' % [
              perAccount('aliyun_sas_export_last_success_timestamp_seconds'),
              taskKey,
              perAccount('aliyun_sas_export_status', ',status!="success"'),
            ]) + legend('{{account}} ({{instance}})'),
          ],
          fillOpacity=0,
        ),

        timeseries(
          17,
          'Resident memory',
          'Resident memory of each exporter process (process_resident_memory_bytes).',
          gridPos(0, 52, 12, 7),
          'bytes',
          [target('A', perInstance('process_resident_memory_bytes')) + legend('{{instance}}')],
        ),

        timeseries(
          18,
          'CPU',
          'CPU used by each exporter process, in cores (1 = 100% of one core).',
          gridPos(12, 52, 12, 7),
          'percentunit',
          [target('A', 'rate(%s[$__rate_interval])' % perInstance('process_cpu_seconds_total')) + legend('{{instance}}')],
        ),

        timeseries(
          20,
          'Demand vs rate limit',
          "Requests per second each account's schedule needs (unfinished tasks / poll_interval, aliyun_sas_account_demanded_requests_per_second) against its max_requests_per_second (this replica's share with --total-shards). Demand above the limit means polls start ever later: AliyunSasExporterFallingBehind.",
          gridPos(0, 59, 8, 7),
          'reqps',
          [
            target('A', perAccount('aliyun_sas_account_demanded_requests_per_second'))
            + legend('{{account}} demand ({{instance}})'),
            target('B', perAccount('aliyun_sas_account_max_requests_per_second'))
            + legend('{{account}} limit ({{instance}})'),
          ],
          fillOpacity=0,
        ),

        timeseries(
          21,
          'Poll start lag',
          "How late polls start against their scheduled time (%(percentile)s percentile of aliyun_sas_poll_start_lag_seconds): the wait for the account's rate limit and for a free worker. Near 0 when the exporter keeps up; above %(threshold)s for %(for)s fires AliyunSasExporterFallingBehind." % {
            percentile: '%dth' % std.floor(config.exporterFallingBehindLagQuantile * 100 + 0.5),
            threshold: setting.words('exporterFallingBehindLagThreshold'),
            'for': setting.words('exporterFallingBehindFor'),
          },
          gridPos(8, 59, 8, 7),
          's',
          [
            target('A', 'histogram_quantile(%g, sum by (le, job, instance, account) (rate(%s[$__rate_interval])))'
                        % [config.exporterFallingBehindLagQuantile, perAccount('aliyun_sas_poll_start_lag_seconds_bucket')])
            + legend('{{account}} p%d ({{instance}})' % std.floor(config.exporterFallingBehindLagQuantile * 100 + 0.5)),
          ],
          fillOpacity=0,
        ),

        stat(
          22,
          'Accounts up',
          "aliyun_sas_account_up: 1 when the latest poll with the account's credentials reached Security Center and was accepted; 0 when credentials were missing or refused, or no valid answer came back (timeouts, connection errors, 5xx).",
          gridPos(16, 59, 8, 7),
          { unit: 'none', mappings: valueMappings([['0', 'down', 'red'], ['1', 'up', 'green']]) }
          + thresholds([step('red', null), step('green', 1)]),
          [target('A', perAccount('aliyun_sas_account_up')) + legend('{{account}} ({{instance}})') + instant],
          textMode='value_and_name',
        ),
      ],
    },
  },
}
