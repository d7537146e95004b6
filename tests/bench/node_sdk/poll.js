// Polls DescribeExportInfo on the simulator with Alibaba Cloud's official
// Node.js SDK (@alicloud/openapi-client, the client every generated product
// SDK such as @alicloud/sas20181203 extends), as @alicloud/sas20181203's
// describeExportInfoWithOptions calls it: callApi with RPC style, V3
// signature (ACS3-HMAC-SHA256, the default), one request every
// 1/rate seconds, sequentially, over the SDK's keep-alive agent.
// Prints the CPU this process spent per request (process.cpuUsage).
//   node poll.js URL ACCESS_KEY_ID ACCESS_KEY_SECRET EXPORT_ID RATE SECONDS
'use strict';
const OpenApi = require('@alicloud/openapi-client');
const Util = require('@alicloud/tea-util');

async function main() {
  const [url, keyId, keySecret, exportId, rate, seconds] =
      process.argv.slice(2);
  const endpoint = new URL(url);
  const client = new OpenApi.default(new OpenApi.Config({
    accessKeyId: keyId,
    accessKeySecret: keySecret,
    endpoint: endpoint.host,
    protocol: endpoint.protocol.replace(':', '').toUpperCase(),
    regionId: 'cn-shanghai',
  }));
  const params = new OpenApi.Params({
    action: 'DescribeExportInfo',
    version: '2018-12-03',
    protocol: 'HTTP',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  const runtime = new Util.RuntimeOptions({});
  const call = () => client.callApi(
      params, new OpenApi.OpenApiRequest({query: {ExportId: exportId}}),
      runtime);

  await call();  // warm-up: connection, JIT
  const spacingMs = 1000 / Number(rate);
  const deadline = Date.now() + Number(seconds) * 1000;
  const before = process.cpuUsage();
  let requests = 0;
  let next = Date.now();
  while (Date.now() < deadline) {
    const answer = await call();
    if (answer.statusCode !== 200) {
      throw new Error(`answer ${answer.statusCode}`);
    }
    ++requests;
    next += spacingMs;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const used = process.cpuUsage(before);
  const micros = (used.user + used.system) / requests;
  console.log(`node-sdk: ${requests} requests, ${micros.toFixed(1)} us CPU ` +
              `per request`);
}

main().catch((error) => {
  console.error(`node-sdk: ${error.message}`);
  process.exit(1);
});
