output "topic_arn" {
  description = "ARN of the topic the function is subscribed to (created or given); null when create is false."
  value       = var.create ? local.topic_arn : null
}

output "subscription_arn" {
  description = "ARN of the function's subscription (known after apply); null when create is false."
  value       = try(aws_sns_topic_subscription.this[0].arn, null)
}

output "dead_letter_queue_arn" {
  description = "ARN of the queue that receives undeliverable messages and failed invocations (created or given); null when create is false."
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
