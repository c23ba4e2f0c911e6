/** Settings of logs, traces and CloudWatch metrics (docs/observability.md), spread into SETTINGS (config.ts). */
import { Type } from '@sinclair/typebox';
import { MS, oneOf, optionalInt } from './settingTypes.js';

export const LOG_SETTINGS = {
  LOG_FORMAT: oneOf(
    ['auto', 'json', 'pretty'],
    'auto',
    '`json`: one JSON object a line, level as a label (production); `pretty`: readable lines (pino-pretty); `auto`: pretty on a terminal, else JSON',
  ),
};

export const TELEMETRY_SETTINGS = {
  OTEL_EXPORTER_OTLP_PROTOCOL: oneOf(
    ['http/protobuf', 'http/json'],
    'http/protobuf',
    'how spans are sent to the OTLP/HTTP endpoint (the OpenTelemetry SDK reads it; docs/observability.md)',
  ),
  CLOUDWATCH_EMF_INTERVAL_MS: optionalInt(
    MS.s,
    MS.h,
    'every this long, CloudWatch Embedded Metric Format lines on stdout: outbox lag and backlog per service, dead-letter depth per queue (unset: none)',
  ),
  CLOUDWATCH_METRICS_NAMESPACE: Type.String({
    minLength: 1,
    default: 'CommercePlatform',
    description: 'CloudWatch namespace of the EMF metrics (the Terraform alarms read it)',
  }),
};
