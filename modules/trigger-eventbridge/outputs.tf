output "rule_name" {
  description = "Name of the rule; null when create is false."
  value       = try(aws_cloudwatch_event_rule.this[0].name, null)
}

output "rule_arn" {
  description = "ARN of the rule, known at plan time; null when create is false."
  value       = var.create ? local.rule_arn : null
}

output "event_bus_name" {
  description = "Name of the bus the rule listens on; null when create is false."
  value       = var.create ? var.event_bus_name : null
}

output "dead_letter_queue_arn" {
  description = "ARN of the queue that receives undeliverable events and failed invocations (created or given); null when create is false."
  value       = var.create ? local.dead_letter_arn : null
}

output "dead_letter_queue_url" {
  description = "URL of the created dead-letter queue; null when a queue was given or create is false."
  value       = try(aws_sqs_queue.dead_letter[0].url, null)
}

output "role_policy_name" {
  description = "Name of the inline policy this module attached to the function's role; null when create is false."
  value       = try(aws_iam_role_policy.this[0].name, null)
}
