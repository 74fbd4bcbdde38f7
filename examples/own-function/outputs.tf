output "queue_url" {
  description = "URL of the order events queue."
  value       = module.queue.queue_url
}

output "dead_letter_queue_url" {
  description = "URL of the order events queue's dead-letter queue."
  value       = module.queue.dead_letter_queue_url
}

output "api_url" {
  description = "Invoke URL of the orders API."
  value       = module.api.url
}

output "api_id" {
  description = "ID of the orders API."
  value       = module.api.api_id
}

output "orders_table_name" {
  description = "Name of the orders table."
  value       = module.orders_table.name
}

output "customers_table_name" {
  description = "Name of the customers table."
  value       = module.customers_table.name
}

output "consumer_function_name" {
  description = "Name of the order events function."
  value       = module.consumer.function_name
}

output "api_function_name" {
  description = "Name of the orders API function."
  value       = module.api_function.function_name
}
