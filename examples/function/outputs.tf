output "function_name" {
  description = "Name of the function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = module.function.function_arn
}

output "idempotency_table_name" {
  description = "Name of the idempotency table."
  value       = module.idempotency_table.name
}
