output "idempotency_table_name" {
  description = "Name of the idempotency table shared by every function of the stack."
  value       = module.idempotency_table.name
}

output "idempotency_table_arn" {
  description = "ARN of the idempotency table."
  value       = module.idempotency_table.arn
}

output "inbox_function_name" {
  description = "Name of the directly invoked inbox function."
  value       = module.inbox_function.function_name
}

output "inbox_function_arn" {
  description = "ARN of the directly invoked inbox function."
  value       = module.inbox_function.function_arn
}

output "inbox_role_name" {
  description = "Name of the inbox function's execution role."
  value       = module.inbox_function.role_name
}
