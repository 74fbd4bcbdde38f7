output "name" {
  description = "Name of the table, or null when create is false."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "arn" {
  description = "ARN of the table, known at plan time so that IAM policies built from it show in plans; null when create is false."
  value       = local.arn
}

output "stream_arn" {
  description = "ARN of the table's stream (known after apply), or null without a stream or when create is false."
  value       = var.stream_view_type == null ? null : try(aws_dynamodb_table.this[0].stream_arn, null)
}
