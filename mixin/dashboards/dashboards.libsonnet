(import 'aliyun-sas-exports.libsonnet')
