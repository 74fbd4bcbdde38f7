output "queue_arn" {
  description = "ARN of the consumed queue (created or given), known at plan time; null when create is false."
  value       = var.create ? local.queue_arn : null
}

output "queue_url" {
  description = "URL of the created queue; null when the queue was given by ARN or create is false."
  value       = try(aws_sqs_queue.this[0].url, null)
}

output "queue_name" {
  description = "Name of the consumed queue, with .fifo for a FIFO queue; null when create is false."
  value       = var.create ? try(element(split(":", local.queue_arn), 5), null) : null
}

output "fifo" {
  description = "Whether the consumed queue is a FIFO queue; null when create is false."
  value       = var.create ? local.fifo : null
}

output "dead_letter_queue_arn" {
  description = "ARN of the created dead-letter queue, where messages go after max_receive_count receives; null for a given queue or when create is false."
  value       = local.dead_letter_arn
}

output "dead_letter_queue_url" {
  description = "URL of the created dead-letter queue; null for a given queue or when create is false."
  value       = try(aws_sqs_queue.dead_letter[0].url, null)
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping (known after apply); null when create is false."
  value       = try(aws_lambda_event_source_mapping.this[0].uuid, null)
}

output "event_source_mapping_arn" {
  description = "ARN of the event source mapping (known after apply); null when create is false."
  value       = try(aws_lambda_event_source_mapping.this[0].arn, null)
}

output "role_policy_name" {
  description = "Name of the inline policy this module attached to the function's role; null when create is false."
  value       = try(aws_iam_role_policy.this[0].name, null)
}
