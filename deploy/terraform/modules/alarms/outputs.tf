output "sns_topic_arn" {
  description = "Topic every alarm notifies (subscribe pagers or chat here)."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of all alarms."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.cpu : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.memory : a.alarm_name],
    [aws_cloudwatch_metric_alarm.alb_5xx.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.target_5xx : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.dead_letters : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.outbox_lag : a.alarm_name],
  )
}
