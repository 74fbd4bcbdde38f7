output "name" {
  description = "Name of the table, or null when create is false."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "arn" {
  description = "ARN of the table, known at plan time so that IAM policies built from it show in plans; null when create is false."
  value       = local.arn
}

output "hash_key" {
  description = "Name of the partition key attribute (always \"id\", a string)."
  value       = local.hash_key
}

output "ttl_attribute" {
  description = "Name of the TTL attribute (always \"expires_at\", epoch seconds)."
  value       = local.ttl_attribute
}
