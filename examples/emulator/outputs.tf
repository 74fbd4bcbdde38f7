output "stack" {
  description = "Every output of the root module, as one object."
  value       = module.stack
}
