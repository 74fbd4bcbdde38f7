output "bucket_name" {
  description = "Name of the wired bucket (created or given); null when create is false."
  value       = var.create ? local.bucket_name : null
}

output "bucket_arn" {
  description = "ARN of the wired bucket; null when create is false."
  value       = var.create ? local.bucket_arn : null
}

output "on_failure_destination_arn" {
  description = "ARN of the queue or topic that receives the events Lambda gave up on (created or given); null when create is false."
  value       = var.create ? local.destination_arn : null
}

output "on_failure_queue_url" {
  description = "URL of the created failure queue; null when a destination was given or create is false."
  value       = try(aws_sqs_queue.on_failure[0].url, null)
}

output "permission_statement_id" {
  description = "Statement id of the permission that lets S3 invoke the function; null when create is false."
  value       = try(aws_lambda_permission.this[0].statement_id, null)
}

output "role_policy_name" {
  description = "Name of the inline policy this module attached to the function's role; null when create is false."
  value       = try(aws_iam_role_policy.this[0].name, null)
}

output "event_rule_arn" {
  description = "ARN of the EventBridge rule that delivers the bucket's events with delivery = \"eventbridge\"; null otherwise or when create is false."
  value       = local.create_rule ? local.rule_arn : null
}
